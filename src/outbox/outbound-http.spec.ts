import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeliveryError } from './delivery-handler';
import { OutboundHttp } from './outbound-http';

/**
 * The SSRF rules of webhooks and back-channel logout (API.md). Every address refused here
 * is refused before any connection is made: nothing connects to anything but the
 * loopback receiver of this file.
 */
describe('OutboundHttp', () => {
  let server: Server;
  let port: number;
  const hits: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      const status = Number(req.url?.slice(1)) || 200;
      res.writeHead(status, status === 302 ? { location: `http://127.0.0.1:${port}/elsewhere` } : {}).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (http: OutboundHttp, url: string) => http.post({ url, headers: { 'content-type': 'application/json' }, body: '{}' });
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: DeliveryError) => error,
    );

  it.each([
    ['loopback', 'http://127.0.0.1:9/x'],
    ['a name that resolves to loopback', 'http://localhost:9/x'],
    ['IPv6 loopback', 'http://[::1]:9/x'],
    ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]:9/x'],
    ['private (10/8)', 'http://10.1.2.3/x'],
    ['private (192.168/16)', 'https://192.168.0.10/x'],
    ['link-local: the cloud metadata address', 'http://169.254.169.254/latest/meta-data/'],
    ['carrier-grade NAT', 'http://100.64.0.1/x'],
    ['unspecified', 'http://0.0.0.0:9/x'],
    ['IPv6 unique local', 'http://[fd00::1]/x'],
  ])('refuses %s by default, permanently, saying why', async (_, url) => {
    const error = await failure(post(new OutboundHttp(false), url));
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({
      message: expect.stringMatching(/^Refused: .*loopback, private, link-local or unspecified address/),
      options: { permanent: true },
    });
  });

  it('reaches a loopback receiver when WEBHOOK_ALLOW_PRIVATE_NETWORKS, and only 2xx counts', async () => {
    const http = new OutboundHttp(true);
    await expect(post(http, `http://127.0.0.1:${port}/204`)).resolves.toBe(204);
    await expect(failure(post(http, `http://localhost:${port}/500`))).resolves.toMatchObject({ message: 'Answered 500', options: { statusCode: 500 } });
    expect(hits).toEqual(['/204', '/500']);
  });

  it('does not follow a redirect', async () => {
    hits.length = 0;
    const error = await failure(post(new OutboundHttp(true), `http://127.0.0.1:${port}/302`));
    expect(error).toMatchObject({ message: 'Answered 302 (a redirect: not followed)', options: { statusCode: 302 } });
    expect(hits).toEqual(['/302']);
  });

  it('still refuses the unspecified address when private networks are allowed', async () => {
    await expect(failure(post(new OutboundHttp(true), `http://0.0.0.0:${port}/x`))).resolves.toMatchObject({ options: { permanent: true } });
  });

  it('says which address a name resolved to', async () => {
    const error = await failure(post(new OutboundHttp(false), 'http://localhost:9/x'));
    expect(error?.message).toMatch(/^Refused: localhost resolved to (127\.0\.0\.1|::1), a loopback/);
  });
});
