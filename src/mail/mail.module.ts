import { Module } from '@nestjs/common';
import { MailService } from './mail.service';

/** Mail through the outbox (OutboxModule is global): MailService writes mails and delivers them. */
@Module({ providers: [MailService], exports: [MailService] })
export class MailModule {}
