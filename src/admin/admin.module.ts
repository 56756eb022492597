import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AdminBootstrap } from '../users/admin-bootstrap';
import { AdminAuditController } from './admin-audit.controller';
import { AdminAuditService } from './admin-audit.service';
import { AdminSessionsController } from './admin-sessions.controller';
import { AdminUsersController } from './admin-users.controller';
import { AdminUsersService } from './admin-users.service';
import { UserAccessService } from './user-access.service';

/** The /admin routes, and the first admin (ADMIN_EMAIL) created at start. */
@Module({
  imports: [AuthModule],
  controllers: [AdminUsersController, AdminSessionsController, AdminAuditController],
  providers: [AdminUsersService, UserAccessService, AdminAuditService, AdminBootstrap],
})
export class AdminModule {}
