import { BadRequestException, ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { LoginDto } from '../dto/credentials.dto';

/**
 * Runs passport-local for POST /auth/login. Guards run before pipes, so the body is
 * validated here first, with the ValidationPipe's options and LoginDto's decorators: a
 * malformed body gets the same 400 as on every other route (one message per field with
 * a problem, "email is required" for a missing one), instead of passport's bare 401.
 */
@Injectable()
export class LocalAuthGuard extends AuthGuard('local') {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<{ body: unknown }>();
    const dto = plainToInstance(LoginDto, request.body ?? {});
    const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
    if (errors.length > 0) {
      throw new BadRequestException(errors.flatMap((e) => Object.values(e.constraints ?? {})));
    }
    request.body = { email: dto.email, password: dto.password };
    return (await super.canActivate(context)) as boolean;
  }
}
