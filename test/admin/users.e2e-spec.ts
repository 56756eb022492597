import { ADMIN_ENV, newAdmin, newSession, newUser, type TestUser } from '../support/factories';
import { useApp } from '../support/test-app';

describe('GET /admin/users and /admin/users/:id/sessions', () => {
  const t = useApp(ADMIN_ENV);
  let admin: TestUser;
  beforeAll(async () => {
    admin = await newAdmin(t.http);
  });

  const list = (query: string) => t.http.get(`/admin/users${query}`, { token: admin.accessToken });
  /** Follows nextCursor from the first page to the last; returns every id in order. */
  async function walk(query: string): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await list(`?${query}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      ids.push(...res.body.items.map((u: { id: string }) => u.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    return ids;
  }

  it('pages through every user, newest first, take=2, to a null nextCursor, without duplicates — ties in createdAt too', async () => {
    const users: TestUser[] = [];
    for (let i = 0; i < 5; i++) users.push(await newUser(t.http, { email: `page${i}@paging.test` }));
    // Three users created in the same millisecond: the id orders them.
    const tie = new Date();
    await t.server.prisma.user.updateMany({ where: { id: { in: users.slice(1, 4).map((u) => u.id) } }, data: { createdAt: tie } });

    const expected = await t.server.prisma.user.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], select: { id: true } });
    const ids = await walk('take=2');
    expect(ids).toEqual(expected.map((u) => u.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(await walk('take=2&email=PAGING.TEST')).toEqual(expected.map((u) => u.id).filter((id) => users.some((u) => u.id === id)));
  });

  it('shows users as the User of the contract, and defaults to 20 a page', async () => {
    const user = await newUser(t.http, { email: 'shape@example.com', name: 'Shape' });
    const res = await list('?email=shape@');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      items: [{ id: user.id, email: 'shape@example.com', emailVerified: false, name: 'Shape', role: 'USER', disabled: false, createdAt: expect.any(String) }],
      nextCursor: null,
    });
    expect(res.text).not.toMatch(/passwordHash|refreshTokenVersion|argon2/);
    for (let i = 0; i < 21; i++) await t.server.prisma.user.create({ data: { email: `bulk${i}@bulk.test`, passwordHash: 'x' } });
    const page = await list('?email=bulk');
    expect(page.body.items).toHaveLength(20);
    expect(page.body.nextCursor).toBe(page.body.items[19].id);
  });

  it('matches email as a literal substring: % and _ are not wildcards', async () => {
    await newUser(t.http, { email: 'a_b@literal.test' });
    await newUser(t.http, { email: 'axb@literal.test' });
    expect((await list('?email=a_b@')).body.items.map((u: { email: string }) => u.email)).toEqual(['a_b@literal.test']);
    expect((await list('?email=%25@literal')).body.items).toEqual([]);
  });

  it('answers 400 for an invalid take, cursor or unknown parameter', async () => {
    for (const query of ['take=0', 'take=101', 'take=abc', 'take=1.5', 'cursor=nope', `cursor=${crypto.randomUUID()}`, 'role=ADMIN']) {
      const res = await list(`?${query}`);
      expect([query, res.status]).toEqual([query, 400]);
    }
    expect((await list('?take=100')).status).toBe(200);
  });

  it('lists a user’s active sessions, newest first, without `current`; 404 for an unknown user', async () => {
    const user = await newUser(t.http);
    const second = await newSession(t.http, user, { 'user-agent': 'Tablet/2' });
    const ended = await newSession(t.http, user);
    await t.http.post('/auth/logout', undefined, { token: ended.accessToken });

    const res = await t.http.get(`/admin/users/${user.id}/sessions`, { token: admin.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.map((s: { id: string }) => s.id)).toEqual([second.sessionId, user.sessionId]);
    expect(res.body[0]).toEqual({
      id: second.sessionId,
      createdAt: expect.any(String),
      lastUsedAt: expect.any(String),
      expiresAt: expect.any(String),
      userAgent: 'Tablet/2',
      ip: '127.0.0.1',
    });
    const notFound = { statusCode: 404, message: 'User not found', error: 'Not Found' };
    for (const id of [crypto.randomUUID(), 'not-a-uuid']) {
      const missing = await t.http.get(`/admin/users/${id}/sessions`, { token: admin.accessToken });
      expect([missing.status, missing.body]).toEqual([404, notFound]);
    }
  });
});
