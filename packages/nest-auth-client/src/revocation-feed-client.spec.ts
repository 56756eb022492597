import { createServer, type Server, type ServerResponse } from 'node:http';
import { RevocationFeedClient } from './revocation-feed-client';

/** A feed server the spec drives by hand: each connection's response, to write frames to. */
async function feedServer(): Promise<{ server: Server; url: string; connections: ServerResponse[]; authorizations: string[] }> {
  const connections: ServerResponse[] = [];
  const authorizations: string[] = [];
  const server = createServer((req, res) => {
    authorizations.push(req.headers.authorization ?? '');
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    connections.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/auth/revocations`, connections, authorizations };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
};

const SESSION = '00000000-0000-4000-8000-0000000000a1';
const USER = '00000000-0000-4000-8000-000000000001';
const token = { sub: USER, sid: SESSION, ver: 0, role: 'USER' as const, kid: 'k' };

describe('RevocationFeedClient', () => {
  let feed: Awaited<ReturnType<typeof feedServer>>;
  let client: RevocationFeedClient;
  beforeEach(async () => {
    feed = await feedServer();
    client = new RevocationFeedClient({ url: feed.url, authorization: 'Basic abc', maxStalenessMs: 300 });
  });
  afterEach(async () => {
    client.stop();
    feed.connections.forEach((c) => c.destroy());
    await new Promise((r) => feed.server.close(r));
  });

  it('applies the window, trusts memory only from ready on, and only while heartbeats keep within the bound', async () => {
    client.start();
    await until(() => feed.connections.length === 1);
    expect(feed.authorizations[0]).toBe('Basic abc');
    const [connection] = feed.connections;
    connection.write(`event: session.ended\nid: 7\ndata: {"userId":"${USER}","sessionId":"${SESSION}","at":${Date.now()}}\n\n`);
    await until(() => client.state.verdict(token).revoked);
    // The window alone is not a certificate.
    expect(client.isTrusted()).toBe(false);
    connection.write(`event: ready\ndata: {"windowMs":60000,"at":${Date.now()}}\n\n`);
    await until(() => client.isTrusted());
    expect(client.state.window).toBe(60000);
    // No heartbeat: trust ends by itself, and the client reconnects.
    await until(() => !client.isTrusted());
    await until(() => feed.connections.length === 2);
    // Until the new connection's ready, heartbeats certify nothing.
    feed.connections[1].write(`event: heartbeat\ndata: {"at":${Date.now()}}\n\n`);
    await new Promise((r) => setTimeout(r, 50));
    expect(client.isTrusted()).toBe(false);
    feed.connections[1].write(`event: ready\ndata: {"windowMs":60000,"at":${Date.now()}}\n\n`);
    await until(() => client.isTrusted());
    // What it learnt before stays known across the reconnect.
    expect(client.state.verdict(token).revoked).toBe(true);
  });

  it('ignores events it cannot read, and a heartbeat from a clock ahead does not stretch trust', async () => {
    client.start();
    await until(() => feed.connections.length === 1);
    const [connection] = feed.connections;
    connection.write(`event: session.ended\ndata: {"userId":"${USER}"}\n\nevent: session.ended\ndata: not json\n\nevent: whatever\ndata: {}\n\n`);
    connection.write(`event: ready\ndata: {"windowMs":60000,"at":${Date.now() + 3_600_000}}\n\n`);
    await until(() => client.isTrusted());
    expect(client.state.size).toBe(0);
    await until(() => !client.isTrusted());
  });
});
