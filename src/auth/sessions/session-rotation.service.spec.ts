import { UnauthorizedException } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import type { AuditService } from '../../audit/audit.service';
import type { ClientMeta } from '../../common/client-meta';
import type { AppConfig } from '../../config/configuration';
import type { Tx } from '../../database/tx';
import type { Session, User } from '../../generated/prisma/client';
import type { MetricsService } from '../../metrics/metrics.service';
import { RefreshTokens } from '../tokens/refresh-token';
import { secretKey, type ServerSecrets } from '../secret/server-secret';
import type { SessionEndingService } from './session-ending.service';
import { justRotated } from './rotation.fixture';
import { REFRESH_ERRORS, SessionRotationService } from './session-rotation.service';
import type { SessionsRepository } from './sessions.repository';

const CURRENT_SECRET = 'the-current-server-secret-of-32-bytes-or-more!!';
const PREVIOUS_SECRET = 'the-previous-server-secret-of-32-bytes-at-least';
const TTL = { sessionIdleTtl: 7 * 86_400, sessionAbsoluteTtl: 30 * 86_400, refreshReuseGrace: 30 };
const GRACE_MS = TTL.refreshReuseGrace * 1000;
const client: ClientMeta = { ip: '203.0.113.7', userAgent: 'spec' };
const tx = { name: 'the caller’s transaction' } as unknown as Tx;
const user = { id: 'user-1', email: 'ada@example.com', refreshTokenVersion: 2, role: 'USER', disabled: false } as User;
const signedInAt = new Date('2026-01-02T03:04:05.000Z');

/**
 * The service with its collaborators replaced where it meets them: the sessions
 * repository (the database), SessionEndingService (revocation), audit and metrics. The
 * refresh-token contract is the real one: its successors are what the service is about.
 */
const TX = { name: 'the statement' };
const INSERT_EVENT = () => 'the audit INSERT';

function rotationWith(ttl: Partial<typeof TTL> = {}, secrets: ServerSecrets = { current: secretKey(CURRENT_SECRET) }) {
  const sessions = { create: jest.fn(), rotate: jest.fn(), presentedToken: jest.fn() };
  const endings = { endForReuse: jest.fn(async () => undefined) };
  const audit = {
    record: jest.fn(async () => undefined),
    recordAlone: jest.fn(async () => undefined),
    /** The refresh's event goes into the rotation's statement (AuditService.recordInStatement): the fake runs the change. */
    recordInStatement: jest.fn(async (_type: string, _client: unknown, change: (tx: unknown, insert: unknown) => Promise<{ result: unknown }>) => {
      return (await change(TX, INSERT_EVENT)).result;
    }),
  };
  const metrics = { refresh: jest.fn() };
  const config = { get: () => ({ ...TTL, ...ttl }) } as unknown as ConfigService<AppConfig, true>;
  const tokens = new RefreshTokens(secrets);
  const service = new SessionRotationService(
    sessions as unknown as SessionsRepository,
    tokens,
    endings as unknown as SessionEndingService,
    audit as unknown as AuditService,
    metrics as unknown as MetricsService,
    config,
  );
  /** The audit entries written (whichever of AuditService's methods wrote them). */
  const audited = () =>
    [...audit.record.mock.calls, ...audit.recordAlone.mock.calls].map((args: unknown[]) => args.find((a) => (a as { type?: string })?.type));
  return { service, sessions, endings, metrics, tokens, audited };
}

/** A live session as the repository returns it, its current refresh token hashing to `refreshTokenHash`. */
function storedSession(refreshTokenHash: string, changes: Partial<Session> = {}): Session & { user: User } {
  return {
    id: 'session-1',
    userId: user.id,
    refreshTokenHash,
    generation: 5,
    rotatedAt: new Date(),
    createdAt: signedInAt,
    lastUsedAt: new Date(),
    idleExpiresAt: new Date(Date.now() + 86_400_000),
    absoluteExpiresAt: new Date(Date.now() + 10 * 86_400_000),
    revokedAt: null,
    revokedReason: null,
    userAgent: 'spec',
    ip: '203.0.113.7',
    authTime: signedInAt,
    amr: ['pwd'],
    acr: 'aal1',
    ...changes,
    user,
  };
}

afterEach(() => jest.restoreAllMocks());

describe('SessionRotationService.open', () => {
  it('stores the hash of a fresh refresh token, never the token, with both expiries and the sign-in facts, in the caller’s transaction', async () => {
    const { service, sessions, tokens } = rotationWith();
    const now = Date.parse('2026-03-01T12:00:00.000Z');
    jest.spyOn(Date, 'now').mockReturnValue(now);
    sessions.create.mockImplementation(async (_tx, row: object) => ({ id: 'session-1', generation: 0, ...row }));

    const grant = await service.open(tx, user, client, { amr: ['pwd'], acr: 'aal1' });

    expect(tokens.isWellFormed(grant.refreshToken)).toBe(true);
    expect(sessions.create).toHaveBeenCalledWith(tx, {
      userId: user.id,
      refreshTokenHash: tokens.hash(grant.refreshToken),
      idleExpiresAt: new Date(now + TTL.sessionIdleTtl * 1000),
      absoluteExpiresAt: new Date(now + TTL.sessionAbsoluteTtl * 1000),
      client,
      authTime: new Date(now),
      amr: ['pwd'],
      acr: 'aal1',
    });
    expect(JSON.stringify(sessions.create.mock.calls)).not.toContain(grant.refreshToken);
    expect(grant.user).toBe(user);
  });

  it('never lets the idle expiry pass the absolute one', async () => {
    const { service, sessions } = rotationWith({ sessionIdleTtl: 90 * 86_400 });
    sessions.create.mockImplementation(async (_tx, row: object) => row);
    await service.open(tx, user, client, { amr: ['pwd'], acr: 'aal1' });
    const [[, row]] = sessions.create.mock.calls as [[Tx, { idleExpiresAt: Date; absoluteExpiresAt: Date }]];
    expect(row.idleExpiresAt).toEqual(row.absoluteExpiresAt);
  });
});

describe('SessionRotationService.rotate', () => {
  it('refuses a token that is not of our shape without touching the database', async () => {
    const { service, sessions, metrics } = rotationWith();
    await expect(service.rotate('not-a-refresh-token', client)).rejects.toThrow(new UnauthorizedException(REFRESH_ERRORS.invalid));
    expect(sessions.rotate).not.toHaveBeenCalled();
    expect(metrics.refresh).not.toHaveBeenCalled();
  });

  it('rotates in one repository call to the derived successor, and hands out that successor with the session (facts kept)', async () => {
    const { service, sessions, tokens, metrics } = rotationWith();
    const presented = tokens.issue();
    const rotated = { session: { id: 'session-1', generation: 6, absoluteExpiresAt: new Date(), authTime: signedInAt, amr: ['pwd'], acr: 'aal1' }, user };
    sessions.rotate.mockResolvedValue({ ...rotated, eventId: 7n });

    const grant = await service.rotate(presented, client);

    const rotation = {
      presentedHash: tokens.hash(presented),
      successorHash: tokens.hash(tokens.successorOf(presented)),
      idleTtlSeconds: TTL.sessionIdleTtl,
      client,
    };
    expect(sessions.rotate).toHaveBeenCalledWith(TX, rotation, INSERT_EVENT);
    expect(grant).toEqual({ ...rotated, refreshToken: tokens.successorOf(presented) });
    expect(metrics.refresh).toHaveBeenCalledWith('rotated');
    expect(sessions.presentedToken).not.toHaveBeenCalled();
  });

  it('answers an unknown token "invalid", and ends nothing', async () => {
    const { service, sessions, endings, metrics } = rotationWith();
    sessions.rotate.mockResolvedValue(null);
    sessions.presentedToken.mockResolvedValue({ facts: { found: 'none', ended: false, expired: false } });
    await expect(service.rotate(newToken(), client)).rejects.toThrow(REFRESH_ERRORS.invalid);
    expect(endings.endForReuse).not.toHaveBeenCalled();
    expect(metrics.refresh).toHaveBeenCalledWith('invalid');
  });

  it('gives every holder of the token just rotated away the same successor within the grace: audited as concurrent, nothing ended', async () => {
    const { service, sessions, endings, metrics, tokens, audited } = rotationWith();
    const presented = tokens.issue();
    const stored = storedSession(tokens.hash(tokens.successorOf(presented)));
    sessions.rotate.mockResolvedValue(null);
    sessions.presentedToken.mockResolvedValue({ facts: justRotated, session: stored });

    const grant = await service.rotate(presented, client);

    const { user: _user, ...session } = stored;
    expect(grant).toEqual({ session, user, refreshToken: tokens.successorOf(presented) });
    // The session's sign-in facts come along: a refresh is not an authentication.
    expect(grant.session).toMatchObject({ authTime: signedInAt, amr: ['pwd'], acr: 'aal1' });
    expect(audited()).toEqual([{ type: 'token.refreshed', userId: user.id, sessionId: stored.id, client, data: { generation: 5, concurrent: true } }]);
    expect(metrics.refresh).toHaveBeenCalledWith('concurrent');
    expect(endings.endForReuse).not.toHaveBeenCalled();
  });

  it('within the grace after AUTH_SECRET rotated, recognises the successor derived under the previous secret', async () => {
    const before = rotationWith({}, { current: secretKey(PREVIOUS_SECRET) });
    const presented = before.tokens.issue();
    const { service, sessions } = rotationWith({}, { current: secretKey(CURRENT_SECRET), previous: secretKey(PREVIOUS_SECRET) });
    sessions.rotate.mockResolvedValue(null);
    sessions.presentedToken.mockResolvedValue({ facts: justRotated, session: storedSession(before.tokens.hash(before.tokens.successorOf(presented))) });
    expect((await service.rotate(presented, client)).refreshToken).toBe(before.tokens.successorOf(presented));
  });

  it('ends the whole session when a rotated-away token comes back after the grace: reuse, audited by the ending', async () => {
    const { service, sessions, endings, metrics, tokens, audited } = rotationWith();
    const presented = tokens.issue();
    const stored = storedSession(tokens.hash(tokens.successorOf(presented)));
    sessions.rotate.mockResolvedValue(null);
    sessions.presentedToken.mockResolvedValue({ facts: { ...justRotated, sinceRotationMs: GRACE_MS + 1 }, session: stored });

    await expect(service.rotate(presented, client)).rejects.toThrow(REFRESH_ERRORS.reused);
    expect(endings.endForReuse).toHaveBeenCalledWith(stored, { presented: 4, current: 5 }, client);
    expect(metrics.refresh).toHaveBeenCalledWith('reused');
    expect(audited()).toEqual([]);
  });

  it('treats a token whose successor is not the session’s current token as reuse, even within the grace: never a second valid token', async () => {
    const { service, sessions, endings, tokens } = rotationWith();
    const presented = tokens.issue();
    const stored = storedSession(tokens.hash(tokens.issue()));
    sessions.rotate.mockResolvedValue(null);
    sessions.presentedToken.mockResolvedValue({ facts: justRotated, session: stored });

    await expect(service.rotate(presented, client)).rejects.toThrow(REFRESH_ERRORS.reused);
    expect(endings.endForReuse).toHaveBeenCalledWith(stored, { presented: 4, current: 5 }, client);
  });

  it.each([
    ['ended', { ended: true }, REFRESH_ERRORS.ended],
    ['expired', { expired: true }, REFRESH_ERRORS.expired],
  ] as const)('says the session %s, and ends nothing more', async (outcome, change, message) => {
    const { service, sessions, endings, metrics, tokens, audited } = rotationWith();
    const presented = tokens.issue();
    sessions.rotate.mockResolvedValue(null);
    sessions.presentedToken.mockResolvedValue({ facts: { ...justRotated, ...change }, session: storedSession(tokens.hash(tokens.successorOf(presented))) });

    await expect(service.rotate(presented, client)).rejects.toThrow(new UnauthorizedException(message));
    expect(metrics.refresh).toHaveBeenCalledWith(outcome);
    expect(endings.endForReuse).not.toHaveBeenCalled();
    expect(audited()).toEqual([]);
  });
});

function newToken(): string {
  return new RefreshTokens({ current: secretKey(CURRENT_SECRET) }).issue();
}
