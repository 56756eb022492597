import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * An HTTP proxy in front of the auth server, for the services under test: it counts
 * every request that passes ("METHOD /path"), and can take the revocation feed away
 * while everything else keeps working:
 * - `silenceFeeds()`: open feed streams stay open but nothing more reaches the service
 *   (no FIN, no RST: a silent cut), and new feed requests hang unanswered;
 * - `closeFeeds()`: open feed streams are ended, and new ones hang;
 * - `restoreFeeds()`: feed requests pass again (silenced streams are dropped).
 */
export class CountingProxy {
  readonly requests: string[] = [];
  private feedsBlocked = false;
  private readonly feeds = new Set<{ res: ServerResponse; upstream?: IncomingMessage }>();
  private readonly held = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
  ) {}

  static async start(target: string): Promise<CountingProxy> {
    const server = createServer();
    const proxy = new CountingProxy(server, new URL(target));
    server.on('request', (req, res) => proxy.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    const { port } = this.server.address() as { port: number };
    return `http://127.0.0.1:${port}`;
  }

  /** Requests so far whose "METHOD /path" matches. */
  count(pattern: RegExp): number {
    return this.requests.filter((r) => pattern.test(r)).length;
  }

  silenceFeeds(): void {
    this.feedsBlocked = true;
    for (const feed of this.feeds) {
      feed.upstream?.unpipe(feed.res);
      feed.upstream?.pause();
    }
  }

  closeFeeds(): void {
    this.feedsBlocked = true;
    for (const feed of this.feeds) {
      feed.upstream?.destroy();
      feed.res.end();
    }
    this.feeds.clear();
  }

  restoreFeeds(): void {
    this.feedsBlocked = false;
    for (const feed of this.feeds) if (feed.upstream?.isPaused()) feed.res.destroy();
    for (const res of this.held) res.destroy();
    this.held.clear();
  }

  async close(): Promise<void> {
    for (const feed of this.feeds) feed.res.destroy();
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    this.requests.push(`${req.method} ${path}`);
    const isFeed = path === '/auth/revocations';
    if (isFeed && this.feedsBlocked) {
      // Accepted, never answered.
      this.held.add(res);
      res.on('close', () => this.held.delete(res));
      return;
    }
    const feed = isFeed ? { res } : undefined;
    if (feed) {
      this.feeds.add(feed);
      res.on('close', () => this.feeds.delete(feed));
    }
    const upstream = httpRequest(
      { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers },
      (response) => {
        if (feed) (feed as { upstream?: IncomingMessage }).upstream = response;
        res.writeHead(response.statusCode ?? 502, response.headers);
        if (isFeed) res.flushHeaders();
        response.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  }
}
