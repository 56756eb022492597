import { newSession, newUser } from '../support/factories';
import { PRODUCTION_ARGON2, useApp } from '../support/test-app';

/**
 * Hashing at the production cost (argon2id, 19 MiB, 2 passes), and what a flood of it
 * does to everyone else: registrations beyond what the server can hash in about a second
 * are shed with 503 at once, and sign-ins keep their own share of the hashing capacity.
 */
describe('password hashing under a registration flood', () => {
  const t = useApp(PRODUCTION_ARGON2);

  it('stores argon2id at OWASP’s minimum by default', async () => {
    const user = await newUser(t.http);
    const row = await t.server.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(row.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
  });

  it('sheds the excess of 120 concurrent registrations with 503 + Retry-After, while every concurrent login succeeds', async () => {
    const owner = await newUser(t.http);
    const flood = Array.from({ length: 120 }, (_, i) => t.http.post('/auth/register', { email: `flood-${i}@example.com`, password: 'flood password 123' }));
    const logins = Array.from({ length: 10 }, () => newSession(t.http, owner));
    const registrations = await Promise.all(flood);

    const statuses = registrations.map((r) => r.status);
    const shed = registrations.filter((r) => r.status === 503);
    expect(new Set(statuses)).toEqual(new Set([201, 503]));
    expect(shed[0].headers.get('retry-after')).toBe('1');
    expect(shed[0].body).toEqual({ statusCode: 503, message: 'The server is busy; try again in a moment', error: 'Service Unavailable' });
    // Every login went through: none was shed or failed behind the flood.
    expect((await Promise.all(logins)).every((s) => typeof s.accessToken === 'string')).toBe(true);
    // A shed registration wrote nothing; an accepted one wrote its user.
    const created = await t.server.prisma.user.count({ where: { email: { startsWith: 'flood-' } } });
    expect(created).toBe(statuses.filter((s) => s === 201).length);
    // And a shed client that comes back later gets in.
    const retry = registrations.findIndex((r) => r.status === 503);
    const again = await t.http.post('/auth/register', { email: `flood-${retry}@example.com`, password: 'flood password 123' });
    expect(again.status).toBe(201);
  });
});
