import { BeforeApplicationShutdown, HttpException, HttpStatus, Injectable, OnModuleInit } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { ServerResponse } from 'node:http';
import { FEED_EVENT_KINDS } from '@nest-auth-backend/revocation-window';
import { RevocationService } from '../auth/revocation/revocation.service';
import type { RevocationEvent } from '../auth/revocation/revocation-state';
import type { ChannelNotice } from '../events/channel';
import { OnEvent } from '../events/event-bus';
import { CLIENT_DELETED } from './client-deleted';
import type { AuthenticatedClient } from './clients.service';

/** Heartbeats go out this often (API.md: at least every 250 ms) while memory is complete. */
export const HEARTBEAT_EVERY_MS = 200;
/** Open feeds per client id on one instance; one more is a 429. */
export const MAX_FEEDS_PER_CLIENT = 16;
/**
 * What may wait in a stream's socket buffer beyond the initial replay: a client that
 * does not read is disconnected when its unread bytes pass this, never buffered for.
 * ~5,000 heartbeats: a client that stalls for more than ~15 minutes, or a burst of
 * revocations it does not take.
 */
export const MAX_UNREAD_BYTES = 1024 * 1024;

interface Stream {
  client: AuthenticatedClient;
  raw: ServerResponse;
  /** `ready` sent: from then on, heartbeats. */
  ready: boolean;
  /** Unread bytes allowed before it is cut: MAX_UNREAD_BYTES past the replay. */
  maxUnread: number;
}

/**
 * GET /auth/revocations: Server-Sent Events, served from this instance's memory.
 *
 * On connect: every event of the window (RevocationService.windowEvents: rows loaded at
 * start and after every reconnect of the listener, and every event heard since), then
 * `ready` `{ windowMs, at }` once memory is certified complete, then each event the moment
 * this instance first hears it (its own changes, and the others' through NOTIFY), and
 * `heartbeat` `{ at }` every HEARTBEAT_EVERY_MS. `at` is RevocationService.certifiedAt:
 * every revocation committed before it has been sent. An instance whose lease ran out
 * sends neither `ready` nor heartbeats, so its clients stop trusting their memory within
 * their staleness bound, as it does.
 *
 * Bounded: MAX_FEEDS_PER_CLIENT streams per client id, a stream that does not read is
 * cut at MAX_UNREAD_BYTES, a deleted client's streams close at once (here, and on other
 * instances through the revocation channel), and every stream ends before the HTTP
 * server closes on shutdown.
 */
@Injectable()
export class RevocationFeed implements OnModuleInit, BeforeApplicationShutdown {
  private readonly streams = new Set<Stream>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly revocation: RevocationService) {}

  onModuleInit(): void {
    this.timer = setInterval(() => this.beat(), HEARTBEAT_EVERY_MS).unref();
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.timer);
    for (const stream of this.streams) this.close(stream);
  }

  get size(): number {
    return this.streams.size;
  }

  /** Takes the reply over and starts the stream (429 past the per-client cap). */
  open(client: AuthenticatedClient, reply: FastifyReply): void {
    let open = 0;
    for (const stream of this.streams) if (stream.client.id === client.id) open++;
    if (open >= MAX_FEEDS_PER_CLIENT) {
      throw new HttpException(
        {
          statusCode: HttpStatus.TOO_MANY_REQUESTS,
          message: `At most ${MAX_FEEDS_PER_CLIENT} open feeds per client on one instance`,
          error: 'Too Many Requests',
        },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    void reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      // The security headers set for every response (secureEveryResponse), then the stream's own.
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    raw.socket?.setNoDelay(true);
    const stream: Stream = { client, raw, ready: false, maxUnread: Infinity };
    this.streams.add(stream);
    raw.on('close', () => this.streams.delete(stream));
    let replay = 'retry: 500\n\n';
    for (const event of this.revocation.windowEvents()) replay += eventFrame(event);
    raw.write(replay);
    stream.maxUnread = raw.writableLength + MAX_UNREAD_BYTES;
    this.sendReady(stream);
  }

  @OnEvent('revocation.first-heard')
  heard(event: RevocationEvent): void {
    const frame = eventFrame(event);
    for (const stream of this.streams) this.write(stream, frame);
  }

  /** A client deleted, here or on another instance: its streams close. */
  @OnEvent('channel.notice')
  noticeHeard(notice: ChannelNotice): void {
    if (notice.kind === CLIENT_DELETED) this.closeClient(notice.clientId);
  }

  private beat(): void {
    const at = this.revocation.certifiedAt();
    if (at === undefined) return;
    const frame = `event: heartbeat\ndata: {"at":${at}}\n\n`;
    for (const stream of this.streams) {
      if (!stream.ready) this.sendReady(stream, at);
      else this.write(stream, frame);
    }
  }

  private sendReady(stream: Stream, at = this.revocation.certifiedAt()): void {
    if (at === undefined || stream.ready) return;
    stream.ready = true;
    this.write(stream, `event: ready\ndata: ${JSON.stringify({ windowMs: this.revocation.window, at })}\n\n`);
  }

  private write(stream: Stream, frame: string): void {
    if (stream.raw.destroyed) return;
    stream.raw.write(frame);
    // A client that does not read: cut it, never buffer for it.
    if (stream.raw.writableLength > stream.maxUnread) {
      this.streams.delete(stream);
      stream.raw.destroy();
    }
  }

  private closeClient(clientId: string): void {
    for (const stream of this.streams) if (stream.client.clientId === clientId) this.close(stream);
  }

  private close(stream: Stream): void {
    this.streams.delete(stream);
    stream.raw.end();
  }
}

/** One event as SSE: its name, its row id, its data `{ userId?, sessionId?, refreshTokenVersion?, role?, kid?, at }`. */
export function eventFrame(event: RevocationEvent): string {
  const { kind, id, ...data } = event;
  return `event: ${FEED_EVENT_KINDS[kind]}\n${id ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`;
}
