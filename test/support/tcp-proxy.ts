import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on a loopback port in front of a real server (PostgreSQL), so that a spec
 * can take the database away from the app and give it back, as an outage would:
 * - `cut()`: every open connection is reset and new ones are refused (the server is
 *   stopped or restarting);
 * - `blackhole()`: open connections are reset and new ones are accepted but never
 *   answered (the host is gone and its packets are dropped: a crashed machine, a
 *   partition, a failover to a dead address);
 * - `silence()`: open connections stay open but nothing passes any more, either way, and
 *   new ones are accepted but never answered (a dead switch, a cut cable: no RST, no FIN);
 * - `restore()`: connections reach the server again, on the same address.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  /** Connections accepted while blackholed: held open, never answered. */
  private readonly held = new Set<Socket>();
  private blackholed = false;
  /** Pairs of open connections, so that `silence` can stop what flows between them. */
  private readonly pairs = new Set<[Socket, Socket]>();
  private portNumber = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort);
    await proxy.listen(0);
    return proxy;
  }

  get port(): number {
    return this.portNumber;
  }

  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.portNumber);
    return parsed.toString();
  }

  /** The outage: every connection through the proxy is reset, and new ones are refused. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The host is gone: open connections are reset, new ones hang unanswered. */
  async blackhole(): Promise<void> {
    await this.cut();
    this.blackholed = true;
    await this.listen(this.portNumber);
  }

  /** A silent partition: nothing passes on open connections, nothing is closed or reset. */
  silence(): void {
    this.blackholed = true;
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** The database is back, on the same address (connections silenced before are dropped). */
  async restore(): Promise<void> {
    if (this.blackholed) for (const [client] of this.pairs) client.resetAndDestroy();
    this.blackholed = false;
    for (const socket of this.held) socket.destroy();
    this.held.clear();
    if (!this.server) await this.listen(this.portNumber);
  }

  async close(): Promise<void> {
    await this.restore();
    await this.cut();
  }

  private listen(port: number): Promise<void> {
    const server = createServer((client) => this.pipe(client));
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        this.server = server;
        this.portNumber = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  private pipe(client: Socket): void {
    if (!this.server) {
      client.resetAndDestroy();
      return;
    }
    if (this.blackholed) {
      this.held.add(client);
      client.on('error', () => undefined);
      client.pause();
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    client.on('close', () => this.pairs.delete(pair));
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(socket);
      socket.on('error', () => other.destroy());
      socket.on('close', () => {
        this.sockets.delete(socket);
        other.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
