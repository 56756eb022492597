import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { waitFor } from './wait';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/**
 * An HTTP/1.1 client that holds its connections open (keep-alive), like a browser or a
 * load balancer does. `warm(n)` opens n connections first, so that n requests sent
 * together then leave at once on connections that already exist, and are all on the
 * server before any of them can be answered.
 */
export class KeepAliveClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: Infinity });
  private readonly sockets = new Set<Socket>();

  constructor(private readonly baseUrl: string) {}

  /** Opens `count` connections and leaves them idle, ready for the next requests. */
  async warm(count: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, () => this.send('GET', '/health')));
    await waitFor(`${count} idle keep-alive connections`, () => this.idle() >= count);
  }

  send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        `${this.baseUrl}${path}`,
        {
          method,
          agent: this.agent,
          headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...headers },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // not JSON
            }
            resolve({ status: res.statusCode!, headers: res.headers, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('socket', (socket) => this.sockets.add(socket));
      req.on('error', reject);
      req.end(payload);
    });
  }

  destroy(): void {
    this.agent.destroy();
    this.sockets.forEach((s) => s.destroy());
  }

  private idle(): number {
    return Object.values(this.agent.freeSockets).reduce((n, list) => n + (list?.length ?? 0), 0);
  }
}
