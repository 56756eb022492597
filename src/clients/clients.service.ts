import { Injectable, NotFoundException } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import type { ClientMeta } from '../common/client-meta';
import { PrismaService } from '../database/prisma.service';
import { EventBus } from '../events/event-bus';
import { CLIENT_DELETED } from './client-deleted';
import { hashClientSecret, newClientId, newClientSecret, secretMatches } from './client-secrets';
import { ClientsRepository, type ClientView } from './clients.repository';

export const CLIENT_NOT_FOUND = 'Client not found';

declare module '../audit/audit-types' {
  interface AuditTypes {
    'client.created': true;
    'client.secret_rotated': true;
    'client.deleted': true;
    /** ClientAuthGuard: the first failure of a minute per (address, client id). */
    'client.auth_failed': true;
  }
}

/** The caller of a client route, once its credentials were checked. */
export interface AuthenticatedClient {
  id: string;
  clientId: string;
}

interface Actor {
  actorId: string;
  client: ClientMeta;
}

/** Registering services (admin), and checking their credentials. */
@Injectable()
export class ClientsService {
  constructor(
    private readonly clients: ClientsRepository,
    private readonly audit: AuditService,
    private readonly prisma: PrismaService,
    private readonly events: EventBus,
  ) {}

  /** The new client with its secret: the only time the secret is shown. */
  async create(input: { name: string; backchannelLogoutUri?: string | null }, actor: Actor): Promise<ClientView & { clientSecret: string }> {
    const clientSecret = newClientSecret();
    const created = await this.prisma.$transaction(async (tx) => {
      const client = await this.clients.create(tx, {
        name: input.name,
        clientId: newClientId(),
        secretHash: hashClientSecret(clientSecret),
        backchannelLogoutUri: input.backchannelLogoutUri ?? null,
      });
      await this.audit.record(tx, {
        type: 'client.created',
        actorId: actor.actorId,
        client: actor.client,
        data: { id: client.id, clientId: client.clientId, name: client.name },
      });
      return client;
    });
    return { ...created, clientSecret };
  }

  list(): Promise<ClientView[]> {
    return this.clients.list();
  }

  /** A new secret; the one it replaces keeps working for 24 h (PREVIOUS_SECRET_OVERLAP_MS). */
  async rotateSecret(id: string, actor: Actor): Promise<{ clientSecret: string }> {
    const clientSecret = newClientSecret();
    await this.prisma.$transaction(async (tx) => {
      const client = await this.clients.rotate(tx, id, hashClientSecret(clientSecret));
      if (!client) throw new NotFoundException(CLIENT_NOT_FOUND);
      await this.audit.record(tx, { type: 'client.secret_rotated', actorId: actor.actorId, client: actor.client, data: { id, clientId: client.clientId } });
    });
    return { clientSecret };
  }

  /** Its credentials stop working at once; its feeds close on every instance (NOTIFY), here before this returns. */
  async delete(id: string, actor: Actor): Promise<void> {
    const client = await this.prisma.$transaction(async (tx) => {
      const deleted = await this.clients.delete(tx, id);
      if (!deleted) throw new NotFoundException(CLIENT_NOT_FOUND);
      await this.audit.record(tx, { type: 'client.deleted', actorId: actor.actorId, client: actor.client, data: { id, clientId: deleted.clientId } });
      return deleted;
    });
    // Made here: as if heard (the other instances hear it on the channel).
    this.events.emit('channel.notice', { kind: CLIENT_DELETED, clientId: client.clientId });
  }

  /** Whether a client with this id exists (failed authentications are counted per real client). */
  async exists(clientId: string): Promise<boolean> {
    return (await this.clients.credentials(clientId)) !== null;
  }

  /** The client these credentials belong to, or null (unknown id, wrong secret, previous secret past its 24 h). */
  async authenticate(clientId: string, secret: string): Promise<AuthenticatedClient | null> {
    const found = await this.clients.credentials(clientId);
    // Every stored hash is compared (no early exit), so the time does not tell which one matched.
    const matches = found ? found.hashes.map((hash) => secretMatches(secret, hash)) : [];
    return found && matches.includes(true) ? { id: found.id, clientId: found.clientId } : null;
  }
}
