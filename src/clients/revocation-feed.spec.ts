import { EventEmitter } from 'node:events';
import type { FastifyReply } from 'fastify';
import type { RevocationService } from '../auth/revocation/revocation.service';
import type { RevocationEvent } from '../auth/revocation/revocation-state';
import { CLIENT_DELETED } from './client-deleted';
import { HEARTBEAT_EVERY_MS, MAX_FEEDS_PER_CLIENT, MAX_UNREAD_BYTES, RevocationFeed } from './revocation-feed';

/** A response whose client reads nothing unless told to: what it was sent, and what still waits. */
class Socketless extends EventEmitter {
  frames: string[] = [];
  writableLength = 0;
  destroyed = false;
  ended = false;
  reading = true;
  socket = { setNoDelay: () => undefined };
  writeHead() {
    return this;
  }
  write(chunk: string) {
    this.frames.push(chunk);
    if (!this.reading) this.writableLength += Buffer.byteLength(chunk);
    return this.reading;
  }
  end() {
    this.ended = true;
    this.emit('close');
  }
  destroy() {
    this.destroyed = true;
    this.emit('close');
  }
}

/** The parts of RevocationService the feed reads, driven by the spec; `emit` is the bus's `revocation.first-heard`. */
function revocationDouble(feed: () => RevocationFeed) {
  const double = {
    certified: undefined as number | undefined,
    certifiedAt: () => double.certified,
    windowEvents: () => [{ kind: 'SESSION_ENDED' as const, userId: 'u0', sessionId: 's0', at: 1, id: '1' }],
    window: 60_000,
    emit: (event: RevocationEvent) => feed().heard(event),
  };
  return double;
}

const client = { id: 'c1', clientId: 'client_a' };

describe('RevocationFeed', () => {
  jest.useFakeTimers();
  let revocation: ReturnType<typeof revocationDouble>;
  let deleted: (clientId: string) => void;
  let feed: RevocationFeed;
  const open = (who = client) => {
    const raw = new Socketless();
    const reply = { hijack: () => undefined, raw, getHeaders: () => ({}) } as unknown as FastifyReply;
    feed.open(who, reply);
    return raw;
  };

  beforeEach(() => {
    revocation = revocationDouble(() => feed);
    feed = new RevocationFeed(revocation as unknown as RevocationService);
    // The bus's `channel.notice` for a client deleted (here or on another instance).
    deleted = (clientId) => feed.noticeHeard({ kind: CLIENT_DELETED, clientId });
    feed.onModuleInit();
  });
  afterEach(() => feed.beforeApplicationShutdown());

  it('sends ready and heartbeats only while memory is certified; the window and live events always', () => {
    const raw = open();
    expect(raw.frames.join('')).toContain('event: session.ended\nid: 1\ndata: {"userId":"u0","sessionId":"s0","at":1}');
    jest.advanceTimersByTime(HEARTBEAT_EVERY_MS * 3);
    expect(raw.frames.join('')).not.toMatch(/ready|heartbeat/);
    revocation.emit({ kind: 'USER_TOKENS_REVOKED', userId: 'u1', refreshTokenVersion: 2, at: 5, id: '2' });
    expect(raw.frames.at(-1)).toBe('event: user.tokens_revoked\nid: 2\ndata: {"userId":"u1","refreshTokenVersion":2,"at":5}\n\n');

    revocation.certified = 1000;
    jest.advanceTimersByTime(HEARTBEAT_EVERY_MS);
    expect(raw.frames.at(-1)).toBe('event: ready\ndata: {"windowMs":60000,"at":1000}\n\n');
    revocation.certified = 1200;
    jest.advanceTimersByTime(HEARTBEAT_EVERY_MS);
    expect(raw.frames.at(-1)).toBe('event: heartbeat\ndata: {"at":1200}\n\n');
    // The lease runs out: silence, so the client's own bound runs out too.
    revocation.certified = undefined;
    const sent = raw.frames.length;
    jest.advanceTimersByTime(HEARTBEAT_EVERY_MS * 5);
    expect(raw.frames.length).toBe(sent);
  });

  it('disconnects a client that does not read, once MAX_UNREAD_BYTES wait for it', () => {
    revocation.certified = 1;
    const slow = open();
    const fine = open({ id: 'c2', clientId: 'client_b' });
    slow.reading = false;
    const frame = { kind: 'KEY_REVOKED' as const, kid: 'k'.repeat(1000), at: 1 };
    for (let i = 0; i * 1000 < MAX_UNREAD_BYTES + 2000 && !slow.destroyed; i++) revocation.emit({ ...frame, id: String(i) });
    expect(slow.destroyed).toBe(true);
    expect(fine.destroyed).toBe(false);
    expect(feed.size).toBe(1);
  });

  it('caps the feeds of one client, closes a deleted client’s feeds, and every feed on shutdown', () => {
    const mine = Array.from({ length: MAX_FEEDS_PER_CLIENT }, () => open());
    expect(() => open()).toThrow('At most 16 open feeds per client on one instance');
    const other = open({ id: 'c2', clientId: 'client_b' });
    deleted('client_a');
    expect(mine.every((raw) => raw.ended)).toBe(true);
    expect(other.ended).toBe(false);
    feed.beforeApplicationShutdown();
    expect(other.ended).toBe(true);
    expect(feed.size).toBe(0);
  });
});
