import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { useApp } from '../support/test-app';

/**
 * The OpenAPI document (GET /docs-json) is complete enough for a client generator: valid
 * OpenAPI 3, every route the server serves, every status docs/API.md gives each route, the
 * error shape as a schema, who may call what, and the X-Auth-Mode header where it matters.
 * And docs/API.md, the REST reference, has a row for each of those routes and no other.
 */

/** Who may call a route (API.md): its security requirement in the document follows. */
type Who = 'public' | 'refresh cookie' | 'bearer' | 'admin' | 'client';

interface Row {
  who: Who;
  /** The success status. */
  ok: number;
  /** Failures API.md names for this route beyond the rules below. */
  also?: number[];
  /** Reads a JSON body: 400, 413, 415. */
  body?: true;
  /** Rate-limited: 429. */
  throttled?: true;
  /** Reads X-Auth-Mode (RefreshTransport): register, login, refresh, revoke. */
  cookieMode?: true;
  /** Served from memory: no 503 when the database is away (the JWKS). */
  memoryOnly?: true;
  /** Reads no database but has failures of its own (the start of a sign-in at another provider): no 503. */
  noDatabase?: true;
}

/**
 * docs/API.md's rows, with what the document must say of each. The rules every row follows
 * are not repeated: bearer 401, admin 401 and 403, throttled 429, a body 400/413/415, and
 * 503 on every route (each one uses the database). A route the server serves must have a row.
 */
const CONTRACT: Record<string, Row> = {
  // 403: REGISTRATION_ENABLED=false.
  'POST /auth/register': { who: 'public', ok: 201, also: [403, 409], body: true, throttled: true, cookieMode: true },
  // 403: REQUIRE_VERIFIED_EMAIL=true and the right password of an unverified account.
  'POST /auth/login': { who: 'public', ok: 200, also: [401, 403], body: true, throttled: true, cookieMode: true },
  // 403: the refresh cookie without X-Auth-Mode: cookie (CSRF defence).
  'POST /auth/refresh': { who: 'refresh cookie', ok: 200, also: [401, 403], body: true, throttled: true, cookieMode: true },
  'POST /auth/revoke': { who: 'refresh cookie', ok: 200, also: [403], body: true, cookieMode: true },
  'POST /auth/logout': { who: 'bearer', ok: 204 },
  'POST /auth/logout-all': { who: 'bearer', ok: 204 },
  'GET /auth/me': { who: 'bearer', ok: 200 },
  'GET /auth/sessions': { who: 'bearer', ok: 200 },
  'DELETE /auth/sessions/{id}': { who: 'bearer', ok: 204, also: [404] },
  'POST /auth/password': { who: 'bearer', ok: 204, body: true, throttled: true },
  // Second factors: 401 one message for every failed second step; 409 already on / no factor; 404 not on.
  'POST /auth/login/mfa': { who: 'public', ok: 200, also: [401], body: true, throttled: true, cookieMode: true },
  'GET /auth/mfa': { who: 'bearer', ok: 200 },
  // Passkeys.
  'POST /auth/login/mfa/passkey-options': { who: 'public', ok: 200, also: [401], body: true, throttled: true },
  'POST /auth/passkeys/registration/options': { who: 'bearer', ok: 200 },
  'POST /auth/passkeys/registration': { who: 'bearer', ok: 201, body: true },
  'GET /auth/passkeys': { who: 'bearer', ok: 200 },
  'PATCH /auth/passkeys/{id}': { who: 'bearer', ok: 200, also: [404], body: true },
  'DELETE /auth/passkeys/{id}': { who: 'bearer', ok: 204, also: [404] },
  'POST /auth/passkeys/authentication/options': { who: 'public', ok: 200, also: [401], throttled: true },
  'POST /auth/passkeys/authentication': { who: 'public', ok: 200, also: [401], body: true, throttled: true, cookieMode: true },
  'POST /auth/mfa/totp': { who: 'bearer', ok: 201, also: [409] },
  'POST /auth/mfa/totp/confirm': { who: 'bearer', ok: 200, body: true },
  'DELETE /auth/mfa/totp': { who: 'bearer', ok: 204, also: [404] },
  'POST /auth/mfa/recovery-codes': { who: 'bearer', ok: 200, also: [409] },
  'DELETE /admin/users/{id}/mfa': { who: 'admin', ok: 204, also: [404] },
  // 400: an invalid take, cursor or filter in the query string.
  'GET /admin/users': { who: 'admin', ok: 200, also: [400] },
  'GET /admin/users/{id}/sessions': { who: 'admin', ok: 200, also: [404] },
  'POST /admin/users/{id}/force-logout': { who: 'admin', ok: 204, also: [404] },
  'PATCH /admin/users/{id}': { who: 'admin', ok: 200, also: [404], body: true },
  'DELETE /admin/sessions/{id}': { who: 'admin', ok: 204, also: [404] },
  'GET /admin/audit': { who: 'admin', ok: 200, also: [400] },
  // 503 also when mail is off (forgot, resend); 400 an invalid, expired or used link (reset, verify).
  'POST /auth/password/forgot': { who: 'public', ok: 202, body: true, throttled: true },
  'POST /auth/password/reset': { who: 'public', ok: 204, body: true },
  'POST /auth/email/verify': { who: 'public', ok: 204, body: true },
  'POST /auth/email/verify/resend': { who: 'public', ok: 202, body: true, throttled: true },
  // Step-up: 401 also a wrong password or code and RFC 9470's challenge (the bearer rule's status).
  'POST /auth/reauthenticate': { who: 'bearer', ok: 200, body: true, throttled: true },
  'GET /admin/outbox': { who: 'admin', ok: 200, also: [400] },
  // Account lifecycle: 409 taken / the last admin / an account exists / disabled; 404 no such user or invitation.
  'POST /auth/email/change': { who: 'bearer', ok: 202, also: [409], body: true, throttled: true },
  'POST /auth/email/change/confirm': { who: 'public', ok: 204, body: true },
  'DELETE /auth/me': { who: 'bearer', ok: 204, also: [409] },
  'POST /auth/invitations/accept': { who: 'public', ok: 201, body: true, throttled: true, cookieMode: true },
  'POST /admin/users/{id}/password-reset': { who: 'admin', ok: 202, also: [404, 409] },
  'DELETE /admin/users/{id}': { who: 'admin', ok: 204, also: [404, 409] },
  'POST /admin/invitations': { who: 'admin', ok: 201, also: [409], body: true },
  'GET /admin/invitations': { who: 'admin', ok: 200 },
  'DELETE /admin/invitations/{id}': { who: 'admin', ok: 204, also: [404] },
  'GET /health': { who: 'public', ok: 200 },
  'GET /.well-known/jwks.json': { who: 'public', ok: 200, memoryOnly: true },
  'GET /admin/keys': { who: 'admin', ok: 200 },
  'POST /admin/keys/rotate': { who: 'admin', ok: 201 },
  'DELETE /admin/keys/{kid}': { who: 'admin', ok: 204, also: [404, 409] },
  'POST /admin/clients': { who: 'admin', ok: 201, body: true },
  'GET /admin/clients': { who: 'admin', ok: 200 },
  'POST /admin/clients/{id}/secret': { who: 'admin', ok: 201, also: [404] },
  'DELETE /admin/clients/{id}': { who: 'admin', ok: 204, also: [404] },
  'POST /admin/webhooks': { who: 'admin', ok: 201, body: true },
  'GET /admin/webhooks': { who: 'admin', ok: 200 },
  'PATCH /admin/webhooks/{id}': { who: 'admin', ok: 200, also: [404], body: true },
  'POST /admin/webhooks/{id}/secret': { who: 'admin', ok: 201, also: [404] },
  'DELETE /admin/webhooks/{id}': { who: 'admin', ok: 204, also: [404] },
  'GET /admin/webhooks/{id}/deliveries': { who: 'admin', ok: 200, also: [400, 404] },
  'POST /admin/webhooks/{id}/deliveries/{deliveryId}/retry': { who: 'admin', ok: 202, also: [404] },
  // Form-encoded or JSON: 400, 413, 415 as a JSON body.
  'POST /auth/introspect': { who: 'client', ok: 200, body: true, throttled: true },
  'GET /auth/revocations': { who: 'client', ok: 200, throttled: true },
  // Sign-in with other providers: the list and the start come from the configuration (and the provider).
  'GET /auth/providers': { who: 'public', ok: 200, memoryOnly: true },
  'GET /auth/oidc/{provider}/start': { who: 'public', ok: 302, also: [400, 404], noDatabase: true },
  // 400: no flow cookie whose state matches; every other failure is a redirect with #error=.
  'GET /auth/oidc/{provider}/callback': { who: 'public', ok: 302, also: [400, 404], throttled: true },
  'POST /auth/oidc/{provider}/link': { who: 'bearer', ok: 200, also: [404], body: true },
  'GET /auth/identities': { who: 'bearer', ok: 200 },
  'DELETE /auth/identities/{id}': { who: 'bearer', ok: 204, also: [404, 409] },
};

function expectedStatuses(row: Row): string[] {
  const statuses = new Set([row.ok, ...(row.also ?? []), ...(row.memoryOnly || row.noDatabase ? [] : [503])]);
  if (row.who === 'bearer' || row.who === 'admin' || row.who === 'client') statuses.add(401);
  if (row.who === 'admin') statuses.add(403);
  if (row.throttled) statuses.add(429);
  if (row.body) [400, 413, 415].forEach((s) => statuses.add(s));
  return [...statuses].map(String).sort();
}

const SECURITY: Record<Who, unknown> = {
  public: undefined,
  bearer: [{ bearer: [] }],
  admin: [{ bearer: [] }],
  client: [{ client: [] }],
  // The cookie, or no scheme at all: the refresh token in the body.
  'refresh cookie': [{ 'refresh-cookie': [] }, {}],
};

const ERROR_REF = '#/components/schemas/ErrorResponse';
const HEALTH_REF = '#/components/schemas/HealthDto';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }>; headers?: Record<string, unknown> }>;
  security?: unknown[];
  parameters?: Array<{ name: string; in: string; schema?: { enum?: unknown[] } }>;
}
interface OpenApiDocument {
  openapi: string;
  security?: unknown[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, any>; securitySchemes: Record<string, unknown> };
}

/** A row of docs/API.md's tables: `| method | route | success | failures |`. */
interface ReferenceRow {
  /** "METHOD /path", in the document's spelling (`{id}`). */
  route: string;
  /** The status its success cell starts with. */
  ok: number | undefined;
  /** The statuses that start its failures cell's items (`400 invalid, 409 email taken`). */
  failures: number[];
}

const REFERENCE = resolve(__dirname, '../../docs/API.md');
const API_TYPES = resolve(__dirname, '../../scripts/api-types.js');

/** Every row of docs/API.md whose first cell is an HTTP method (`\|` inside a cell is a pipe, not a cell's end). */
function referenceRows(markdown: string): ReferenceRow[] {
  const statusOf = (text: string) => {
    const status = /^\s*(\d{3})\b/.exec(text)?.[1];
    return status === undefined ? undefined : Number(status);
  };
  return markdown.split('\n').flatMap((line) => {
    const cells = line
      .trim()
      .split(/(?<!\\)\|/)
      .slice(1, -1);
    if (cells.length !== 4) return [];
    const method = cells[0].trim();
    if (!/^(GET|POST|PUT|PATCH|DELETE)$/.test(method)) return [];
    const path = cells[1]
      .trim()
      .split(/\s/)[0]
      .replace(/:(\w+)/g, '{$1}');
    const failures = cells[3].split(/[,;]/).flatMap((item) => statusOf(item) ?? []);
    return [{ route: `${method} ${path}`, ok: statusOf(cells[2]), failures }];
  });
}

/** Served but deliberately not in the document: the documentation itself, operators' /metrics, and the web console's pages. */
const NOT_DOCUMENTED = /^\w+ \/(docs|metrics|console|reset-password|verify-email|confirm-email|accept-invite)\b/;

/**
 * "METHOD /path" of every route Fastify serves, from its route tree (printRoutes), in the
 * document's spelling (`{id}`); HEAD and OPTIONS (added for GET and CORS) and
 * NOT_DOCUMENTED left out.
 */
function servedRoutes(tree: string): string[] {
  const pathAt: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const node = /^([│ ]*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!node) continue;
    const depth = node[1].length / 4;
    pathAt[depth] = (depth > 0 ? pathAt[depth - 1] : '') + node[2];
    for (const method of node[3]?.split(', ') ?? []) routes.push(`${method} ${pathAt[depth]}`);
  }
  return routes
    .filter((route) => !/^(HEAD|OPTIONS) /.test(route) && !NOT_DOCUMENTED.test(route))
    .map((route) => route.replace(/:(\w+)/g, '{$1}'))
    .sort();
}

describe('operations: the OpenAPI document', () => {
  const t = useApp();
  let doc: OpenApiDocument;
  const operation = (route: string): Operation => {
    const [method, path] = route.split(' ');
    const op = doc.paths[path]?.[method.toLowerCase()];
    if (!op) throw new Error(`${route} is not in the document`);
    return op;
  };
  const rows = Object.entries(CONTRACT);
  const reference = referenceRows(readFileSync(REFERENCE, 'utf8'));
  const referenceRow = (route: string): ReferenceRow => {
    const row = reference.find((r) => r.route === route);
    if (!row) throw new Error(`${route} has no row in docs/API.md`);
    return row;
  };

  beforeAll(async () => {
    const res = await t.http.get('/docs-json');
    expect(res.status).toBe(200);
    doc = res.body;
  });

  it('is a valid OpenAPI 3 document', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    // validate() dereferences in place: give it a copy.
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('documents exactly the routes the server serves, each a row of the contract', () => {
    const served = servedRoutes(t.server.app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false }));
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(served).toContain('GET /auth/me'); // the route tree was read
    expect(documented).toEqual(served);
    expect(Object.keys(CONTRACT).sort()).toEqual(served);
  });

  it('has a row in docs/API.md for each route it serves, and none for a route it does not serve', () => {
    const served = servedRoutes(t.server.app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false }));
    const routes = reference.map((row) => row.route);
    expect(routes).toContain('GET /auth/me'); // the tables were read
    expect({
      missing: served.filter((route) => !routes.includes(route)),
      extra: routes.filter((route) => !served.includes(route)),
      twice: routes.filter((route, i) => routes.indexOf(route) !== i),
    }).toEqual({ missing: [], extra: [], twice: [] });
  });

  it.each(rows)('%s: its docs/API.md row gives its success status and names its particular failures, all documented', (route, row) => {
    const { ok, failures } = referenceRow(route);
    const answered = Object.keys(operation(route).responses).map(Number);
    expect({ ok, unnamed: (row.also ?? []).filter((status) => !failures.includes(status)) }).toEqual({ ok: row.ok, unnamed: [] });
    expect({ undocumented: failures.filter((status) => !answered.includes(status)) }).toEqual({ undocumented: [] });
  });

  it.each(rows)('%s documents every status it answers, and only those', (route, row) => {
    expect(Object.keys(operation(route).responses).sort()).toEqual(expectedStatuses(row));
  });

  it('describes the error shape once, as ErrorResponse', () => {
    expect(doc.components.schemas.ErrorResponse).toEqual({
      type: 'object',
      properties: {
        statusCode: expect.objectContaining({ type: 'integer' }),
        message: expect.objectContaining({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] }),
        error: expect.objectContaining({ type: 'string' }),
      },
      required: ['statusCode', 'message', 'error'],
    });
  });

  it.each(rows)('%s: every error response has the ErrorResponse schema (/health: its own)', (route, row) => {
    const errors = Object.entries(operation(route).responses).filter(([status]) => Number(status) >= 400);
    // The JWKS is served from memory: it has no error of its own to document.
    expect(errors.length > 0).toBe(!row.memoryOnly);
    for (const [status, response] of errors) {
      const expected = route === 'GET /health' ? HEALTH_REF : ERROR_REF;
      expect({ status, schema: response.content?.['application/json']?.schema }).toEqual({ status, schema: { $ref: expected } });
    }
  });

  it('says when to come back on every 429', () => {
    for (const [route] of rows.filter(([, r]) => r.throttled)) {
      expect({ route, headers: Object.keys(operation(route).responses['429']?.headers ?? {}) }).toEqual({ route, headers: ['Retry-After'] });
    }
  });

  it('declares the bearer JWT, the refresh cookie and client credentials, and nothing else', () => {
    expect(doc.components.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
      client: expect.objectContaining({ type: 'http', scheme: 'basic' }),
      'refresh-cookie': expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'refresh_token' }),
    });
    // No global requirement: public routes must not inherit one.
    expect(doc.security ?? []).toEqual([]);
  });

  it.each(rows)('%s requires exactly the security of who may call it', (route, row) => {
    expect(operation(route).security).toEqual(SECURITY[row.who]);
  });

  it.each(rows)('%s documents X-Auth-Mode (enum cookie) exactly when it reads it', (route, row) => {
    const headers = (operation(route).parameters ?? []).filter((p) => p.in === 'header' && p.name.toLowerCase() === 'x-auth-mode');
    if (row.cookieMode) {
      expect(headers).toHaveLength(1);
      expect(headers[0].schema?.enum).toEqual(['cookie']);
    } else {
      expect(headers).toEqual([]);
    }
  });

  it('gives /health its real schema, which its answer follows', async () => {
    const health = operation('GET /health').responses;
    expect(health['200'].content?.['application/json']?.schema).toEqual({ $ref: HEALTH_REF });
    expect(health['503'].content?.['application/json']?.schema).toEqual({ $ref: HEALTH_REF });
    const schema = doc.components.schemas.HealthDto;
    expect(schema).toEqual({
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['ok', 'error'] },
        database: { type: 'string', enum: ['up', 'down'] },
        // Only when down although the database answers: its writes are refused.
        reason: { type: 'string', enum: ['disk full', 'restart needed'], description: expect.any(String) },
      },
      required: ['status', 'database'],
    });
    const res = await t.http.get('/health');
    expect(Object.keys(res.body).sort()).toEqual([...schema.required].sort());
    expect(schema.properties.status.enum).toContain(res.body.status);
    expect(schema.properties.database.enum).toContain(res.body.database);
  });

  it('is what the console’s types (console/src/api-types.ts) were generated from: after a change of the DTOs, npm run api:types', () => {
    const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
    try {
      writeFileSync(join(dir, 'openapi.json'), JSON.stringify(doc));
      const check = spawnSync(process.execPath, [API_TYPES, '--check', '--document', join(dir, 'openapi.json')], { encoding: 'utf8' });
      expect({ code: check.status, stdout: check.stdout.trim(), stderr: check.stderr.trim() }).toEqual({ code: 0, stdout: 'up to date', stderr: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('marks email fields as format: email', () => {
    for (const dto of ['RegisterDto', 'LoginDto']) {
      expect({ dto, email: doc.components.schemas[dto]?.properties?.email?.format }).toEqual({ dto, email: 'email' });
    }
  });
});
