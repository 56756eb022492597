import { toCanonicalEs256 } from '@nest-auth-backend/token-contract';
import { constants, createHmac, sign, type KeyLike } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import type { HttpResponse } from '../support/http';

/**
 * Helpers of the adversarial specs: hand-made JWTs (node:crypto only), the error-shape
 * assertion every refusal must pass, a raw HTTP request for what fetch cannot send, and
 * a local server that records whether anything was fetched from it.
 */

export const b64url = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export const decodeSegment = <T = Record<string, unknown>>(segment: string): T => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as T;

export type Signer = (signingInput: string) => string;

/** `header.payload.signature`, signed by `signer` (or with `signature` as given). */
export function forge(header: unknown, payload: unknown, signer: Signer | string): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${typeof signer === 'string' ? signer : signer(input)}`;
}

export const hmac =
  (key: string | Buffer | KeyLike, hash: 'sha256' | 'sha384' | 'sha512' = 'sha256'): Signer =>
  (input) =>
    createHmac(hash, key).update(input).digest('base64url');

export const rs256 =
  (privateKey: KeyLike): Signer =>
  (input) =>
    sign('sha256', Buffer.from(input), privateKey).toString('base64url');

export const ps256 =
  (privateKey: KeyLike): Signer =>
  (input) =>
    sign('sha256', Buffer.from(input), { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } as never).toString('base64url');

/** ES256 as the server signs: in the canonical (low-s) form, the only one a verifier of ours accepts. */
export const es256 =
  (privateKey: KeyLike): Signer =>
  (input) =>
    toCanonicalEs256(`${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' } as never).toString('base64url')}`).split(
      '.',
    )[2];

/** The same ES256 token under the other valid signature of its claims: (r, n - s). */
export function highSTwin(token: string): string {
  const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
  const [header, payload, signature] = token.split('.');
  const bytes = Buffer.from(signature, 'base64url');
  const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
  const other = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex');
  return `${header}.${payload}.${Buffer.concat([bytes.subarray(0, 32), other]).toString('base64url')}`;
}

/** The parts of a genuine token. */
export function split(token: string) {
  const [header, payload, signature] = token.split('.');
  return { header: decodeSegment(header), payload: decodeSegment(payload), signature, rawHeader: header, rawPayload: payload };
}

const STACK_FRAME = /\bat [^\n]*:\d+:\d+|node_modules|\/src\/|\.ts:\d+/;

/**
 * The response is a refusal with `status` (one of them) in NestJS's error shape: exactly
 * `{ statusCode, message, error }`, `message` a string or a list of strings, JSON, and
 * nothing that looks like a stack trace or a source path.
 */
export function expectError(res: HttpResponse, status: number | number[]): void {
  const allowed = Array.isArray(status) ? status : [status];
  // One string with the status and the whole body, so that a failure shows what came back.
  expect(`${res.status} ${res.text}`).toMatch(new RegExp(`^(${allowed.join('|')}) `));
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.body).toEqual({ statusCode: res.status, message: expect.anything(), error: expect.any(String) });
  const message = res.body.message;
  expect(typeof message === 'string' || (Array.isArray(message) && message.every((m: unknown) => typeof m === 'string'))).toBe(true);
  expect(res.text).not.toMatch(STACK_FRAME);
  expect(res.text).not.toMatch(/"stack"/);
}

/** A raw HTTP/1.1 exchange, for requests fetch cannot make (repeated headers, odd bytes). */
export async function rawRequest(baseUrl: string, head: string[], body = ''): Promise<{ status: number; headers: string; body: string }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [headers, ...rest] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1] ?? 0);
      let payload = rest.join('\r\n\r\n');
      if (/transfer-encoding: chunked/i.test(headers)) payload = dechunk(payload);
      resolve({ status, headers, body: payload });
    });
    const lines = [...head, `Host: ${url.host}`, 'Connection: close'];
    if (body && !head.some((h) => /^transfer-encoding:/i.test(h))) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
  });
}

function dechunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (!size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/** A local HTTP server that answers everything and remembers every request it got. */
export interface Tripwire {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

export async function startTripwire(respond: (req: IncomingMessage) => string = () => '{}'): Promise<Tripwire> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.setHeader('content-type', 'application/json');
    res.end(respond(req));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
