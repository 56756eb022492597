import { Controller, Get, Module, Req, UseGuards } from '@nestjs/common';
import { Public } from '../../src/auth/decorators/public.decorator';
import { AuthModule } from '../../src/auth/auth.module';
import type { Session, User } from '../../src/generated/prisma/client';
import { UserDto } from '../../src/users/user.dto';
import { DbSessionGuard } from './db-session.guard';
import { MemoryController } from './memory.controller';

/** Routes that exist only in the benchmark's build of the app (bench/baseline/main.ts). */
@Controller('bench')
class BaselineController {
  /** Run 1: a trivial public route — the framework's ceiling on this machine. */
  @Public()
  @Get('ping')
  ping() {
    return { ok: true };
  }

  /** Run 3: GET /auth/me's answer, behind the database-per-request guard instead of ours. */
  @Public()
  @UseGuards(DbSessionGuard)
  @Get('me-db')
  me(@Req() request: { session: Session & { user: User } }): UserDto {
    return UserDto.from(request.session.user);
  }
}

@Module({ imports: [AuthModule], controllers: [BaselineController, MemoryController], providers: [DbSessionGuard] })
export class BaselineModule {}
