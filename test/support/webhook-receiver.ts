import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './wait';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** How the receiver answers one request: a status, or `hang` (never answers). */
export type Answer = number | 'hang';

/**
 * A real HTTP receiver in the test process, on loopback: it keeps every request it gets
 * and answers each with the next answer scripted for its path (then with `otherwise`,
 * 200 unless set).
 */
export class Receiver {
  readonly received: Received[] = [];
  private server?: Server;
  private readonly hanging = new Set<ServerResponse>();
  /** The next answers on a path, in order; once spent (or for another path), `otherwise`. */
  private readonly scripts = new Map<string, Answer[]>();
  otherwise: Answer = 200;
  /** Headers added to every answer (a redirect's Location). */
  answerHeaders: Record<string, string> = {};
  port = 0;

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const answer = this.scripts.get(req.url ?? '')?.shift() ?? this.otherwise;
        if (answer === 'hang') {
          this.hanging.add(res);
          return;
        }
        res.writeHead(answer, this.answerHeaders).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.hanging.forEach((res) => res.destroy());
    this.hanging.clear();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** The next requests to `path` get these answers, in order. */
  script(path: string, ...answers: Answer[]): void {
    this.scripts.set(path, answers);
  }

  /** The requests received on `path`. */
  on(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Waits until `path` has received `n` requests, and returns them. */
  async waitFor(path: string, n = 1): Promise<Received[]> {
    await waitFor(`${n} request(s) to ${path}`, () => this.on(path).length >= n);
    return this.on(path);
  }
}

/** A receiver started before the specs of the file (or describe) and stopped after. */
export function useReceiver(): Receiver {
  const receiver = new Receiver();
  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());
  return receiver;
}
