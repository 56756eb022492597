import { Module } from '@nestjs/common';
import { MailModule } from '../../mail/mail.module';
import { UsersModule } from '../../users/users.module';
import { AuthModule } from '../auth.module';
import { AccountDeletionService } from './account-deletion.service';
import { EmailChangeService } from './email-change.service';
import { InvitationsRepository } from './invitations.repository';
import { InvitationsService } from './invitations.service';
import { AccountLifecycleController } from './lifecycle.controller';

/**
 * The account's whole life (API.md, "Account lifecycle"): email change, deletion,
 * invitations (their admin routes are in src/admin, which imports this module).
 */
@Module({
  imports: [AuthModule, MailModule, UsersModule],
  controllers: [AccountLifecycleController],
  providers: [EmailChangeService, AccountDeletionService, InvitationsRepository, InvitationsService],
  exports: [AccountDeletionService, InvitationsService, InvitationsRepository],
})
export class AccountLifecycleModule {}
