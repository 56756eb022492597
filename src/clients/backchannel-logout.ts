import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { RevocationEvent } from '../auth/revocation/revocation-state';
import { LogoutTokens } from '../auth/tokens/logout-token';
import type { Tx } from '../database/tx';
import { OnEvent } from '../events/event-bus';
import { DeliversOutbox, DeliveryError, type ClaimedDelivery, type DeliveryHandler } from '../outbox/delivery-handler';
import { OutboundHttp } from '../outbox/outbound-http';
import { OutboxRepository } from '../outbox/outbox.repository';
import { ClientsRepository } from './clients.repository';

/** What a back-channel row carries: who logged out, and the logout's `jti`. Never a token: it is signed at each attempt. */
interface LogoutPayload {
  sub: string;
  sid?: string;
  jti: string;
}

declare module '../outbox/outbox-kinds' {
  interface OutboxKinds {
    /** A back-channel logout to a client (BackchannelLogout). */
    backchannel: LogoutPayload;
  }
}

/**
 * OpenID Connect Back-Channel Logout 1.0 to every client with a `backchannelLogoutUri`.
 * Whenever sessions end, the revocation transaction declares it (`revocations.declared`, a
 * committed event; SESSION_ENDED: one
 * session, so `sid`; USER_TOKENS_REVOKED: all of a user's, so `sub` alone: logout-all,
 * force-logout, disabling, password reset); this writes one outbox row per logout and
 * client in that same transaction. Each attempt signs a fresh logout token (LogoutTokens:
 * the same `jti`, a new 2-minute `exp`) and POSTs it form-encoded, `logout_token=…`.
 */
@Injectable()
@DeliversOutbox('backchannel')
export class BackchannelLogout implements DeliveryHandler {
  constructor(
    private readonly clients: ClientsRepository,
    private readonly outbox: OutboxRepository,
    private readonly tokens: LogoutTokens,
    private readonly http: OutboundHttp,
  ) {}

  @OnEvent('revocations.declared')
  async enqueue(tx: Tx, events: readonly RevocationEvent[]): Promise<void> {
    const logouts = events.flatMap((event): Array<{ eventType: string; payload: LogoutPayload }> => {
      if (event.kind === 'SESSION_ENDED') return [{ eventType: 'session.ended', payload: { sub: event.userId, sid: event.sessionId, jti: randomUUID() } }];
      if (event.kind === 'USER_TOKENS_REVOKED') return [{ eventType: 'user.tokens_revoked', payload: { sub: event.userId, jti: randomUUID() } }];
      return [];
    });
    if (logouts.length > 0) await this.outbox.enqueueFrom(tx, this.clients.logoutDeliveries(logouts));
  }

  async deliver(delivery: ClaimedDelivery): Promise<{ statusCode: number }> {
    const client = delivery.endpointId ? await this.clients.forBackchannel(delivery.endpointId) : null;
    if (!client) throw new DeliveryError('Client deleted', { permanent: true });
    if (!client.backchannelLogoutUri) throw new DeliveryError('The client has no back-channel logout URI', { permanent: true });
    const { sub, sid, jti } = delivery.payload as LogoutPayload;
    const logoutToken = this.tokens.sign({ clientId: client.clientId, sub, sid, jti });
    const statusCode = await this.http.post({
      url: client.backchannelLogoutUri,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'cache-control': 'no-store' },
      body: new URLSearchParams({ logout_token: logoutToken }).toString(),
    });
    return { statusCode };
  }
}
