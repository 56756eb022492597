import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AccountLifecycleModule } from '../auth/lifecycle/lifecycle.module';
import { MfaModule } from '../auth/mfa/mfa.module';
import { ClientsModule } from '../clients/clients.module';
import { UsersModule } from '../users/users.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { AdminBootstrap } from './first-admin/admin-bootstrap';
import { AdminAuditController } from './admin-audit.controller';
import { AdminAuditService } from './admin-audit.service';
import { AdminClientsController } from './admin-clients.controller';
import { AdminKeysController } from './admin-keys.controller';
import { AdminLifecycleController } from './admin-lifecycle.controller';
import { AdminOutboxController } from './admin-outbox.controller';
import { AdminSessionsController } from './admin-sessions.controller';
import { AdminUsersController } from './admin-users.controller';
import { AdminUsersService } from './admin-users.service';
import { AdminWebhooksController } from './admin-webhooks.controller';
import { UserAccessService } from './user-access.service';

/** The /admin routes (users, sessions, audit, signing keys, clients, webhooks, outbox), and the first admin (ADMIN_EMAIL) created at start. */
@Module({
  imports: [AuthModule, MfaModule, AccountLifecycleModule, UsersModule, ClientsModule, WebhooksModule],
  controllers: [
    AdminUsersController,
    AdminSessionsController,
    AdminAuditController,
    AdminKeysController,
    AdminClientsController,
    AdminWebhooksController,
    AdminOutboxController,
    AdminLifecycleController,
  ],
  providers: [AdminUsersService, UserAccessService, AdminAuditService, AdminBootstrap],
})
export class AdminModule {}
