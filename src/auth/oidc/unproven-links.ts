import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import type { Tx } from '../../database/tx';
import { OnEvent } from '../../events/event-bus';
import { IdentitiesRepository } from './identities.repository';

/**
 * Pre-hijacking (an account prepared before its owner arrives): someone makes an account
 * with another person's address (a password registration, or a provider that does not
 * verify emails), links their own provider to it, and waits. The owner of the address
 * later takes the account over with a reset link, and the stranger's provider would still
 * sign in to it. So when a reset link proves the mailbox of an account whose address was
 * not verified, every provider linked before is unlinked (audited): whoever linked it had
 * not proven the address. The owner, now with a password, links their own again.
 */
@Injectable()
export class UnprovenLinks {
  constructor(
    private readonly identities: IdentitiesRepository,
    private readonly audit: AuditService,
  ) {}

  @OnEvent('password.reset-by-mail')
  async afterReset(tx: Tx, { userId, emailWasVerified }: { userId: string; emailWasVerified: boolean }): Promise<void> {
    if (emailWasVerified) return;
    for (const removed of await this.identities.removeAll(tx, userId)) {
      await this.audit.record(tx, {
        type: 'identity.unlinked',
        userId,
        actorId: userId,
        data: { identityId: removed.id, provider: removed.provider, issuer: removed.issuer, reason: 'reset_of_unverified_email' },
      });
    }
  }
}
