import { ADMIN_ENV, newAdmin, newSession, newUser, type TestUser } from '../support/factories';
import { useApp } from '../support/test-app';

interface AuditItem {
  id: string;
  type: string;
  userId: string | null;
  actorId: string | null;
  sessionId: string | null;
  data: unknown;
  userEmail: string | null;
  actorEmail: string | null;
}

describe('GET /admin/audit', () => {
  const t = useApp(ADMIN_ENV);
  let admin: TestUser;
  beforeAll(async () => {
    admin = await newAdmin(t.http);
  });

  const get = (query: string) => t.http.get(`/admin/audit${query}`, { token: admin.accessToken });
  /** Every page from the first to the last; returns all items and the raw pages. */
  async function walk(query: string): Promise<{ items: AuditItem[]; pages: string[] }> {
    const items: AuditItem[] = [];
    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`?${query}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      items.push(...res.body.items);
      pages.push(res.text);
      cursor = res.body.nextCursor;
    } while (cursor);
    return { items, pages };
  }

  it('shows each event of a user’s story, newest first, with the right actor, and no secret anywhere', async () => {
    const user = await newUser(t.http);
    const other = await newSession(t.http, user);
    await t.http.post('/auth/login', { email: user.email, password: 'a wrong password' });
    const refreshed = await t.http.post('/auth/refresh', { refreshToken: other.refreshToken });
    await t.http.delete(`/auth/sessions/${other.sessionId}`, { token: user.accessToken });
    await t.http.post('/auth/password', { currentPassword: user.password, newPassword: 'the new passphrase' }, { token: user.accessToken });
    await t.http.patch(`/admin/users/${user.id}`, { role: 'ADMIN' }, { token: admin.accessToken });
    await t.http.patch(`/admin/users/${user.id}`, { role: 'USER' }, { token: admin.accessToken });
    const third = await newSession(t.http, { email: user.email, password: 'the new passphrase' });
    await t.http.delete(`/admin/sessions/${third.sessionId}`, { token: admin.accessToken });
    await t.http.post(`/admin/users/${user.id}/force-logout`, undefined, { token: admin.accessToken });
    await t.http.patch(`/admin/users/${user.id}`, { disabled: true }, { token: admin.accessToken });
    await t.http.patch(`/admin/users/${user.id}`, { disabled: false }, { token: admin.accessToken });
    // Refused, and not audited: the token died with the force-logout.
    expect((await t.http.post('/auth/logout-all', undefined, { token: user.accessToken })).status).toBe(401);

    const { items, pages } = await walk(`userId=${user.id}&take=3`);
    expect(items.map((e) => [e.type, e.actorId]).reverse()).toEqual([
      ['user.registered', null],
      ['login.succeeded', null],
      ['login.failed', null],
      ['token.refreshed', null],
      ['session.revoked', user.id],
      ['password.changed', user.id],
      ['user.role_changed', admin.id],
      ['user.role_changed', admin.id],
      ['login.succeeded', null],
      ['session.revoked', admin.id],
      ['user.force_logged_out', admin.id],
      ['user.disabled', admin.id],
      ['user.enabled', admin.id],
    ]);
    // Who, by email: the user's on every event, the admin's where the admin acted.
    expect(items.every((e) => e.userEmail === user.email)).toBe(true);
    expect(items.filter((e) => e.actorId === admin.id).map((e) => e.actorEmail)).toEqual(Array(6).fill(admin.email));
    expect(items.filter((e) => e.actorId === null).map((e) => e.actorEmail)).toEqual(Array(5).fill(null));
    const row = await t.server.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    const secrets = [
      user.password,
      'a wrong password',
      'the new passphrase',
      row.passwordHash,
      user.accessToken,
      user.refreshToken,
      other.accessToken,
      other.refreshToken,
      refreshed.body.refreshToken,
      refreshed.body.accessToken,
      third.refreshToken,
      third.accessToken,
    ];
    for (const page of pages) {
      for (const secret of secrets) expect(page).not.toContain(secret);
      expect(page).not.toMatch(/argon2|passwordHash|"token"/i);
    }
  });

  it('has the contract’s fields, the id as a string', async () => {
    const user = await newUser(t.http);
    const res = await get(`?userId=${user.id}`);
    expect(res.body).toEqual({
      items: [
        {
          id: expect.stringMatching(/^\d+$/),
          type: 'user.registered',
          userId: user.id,
          actorId: null,
          sessionId: user.sessionId,
          ip: '127.0.0.1',
          userAgent: expect.any(String),
          createdAt: expect.any(String),
          data: null,
          userEmail: user.email,
          actorEmail: null,
        },
      ],
      nextCursor: null,
    });
  });

  it('shows a null email for an account that is gone: the audit keeps the id', async () => {
    const user = await newUser(t.http);
    await t.server.prisma.user.delete({ where: { id: user.id } });
    const res = await get(`?userId=${user.id}`);
    expect(res.body.items.map((e: AuditItem) => [e.type, e.userId, e.userEmail])).toEqual([['user.registered', user.id, null]]);
  });

  it('pages through every event with take=2 to a null nextCursor, without duplicates; filters by type', async () => {
    for (let i = 0; i < 3; i++) await newUser(t.http);
    const all = await t.server.prisma.auditEvent.findMany({ orderBy: { id: 'desc' }, select: { id: true } });
    const { items } = await walk('take=2');
    expect(items.map((e) => e.id)).toEqual(all.map((e) => e.id.toString()));
    expect(new Set(items.map((e) => e.id)).size).toBe(items.length);

    const registered = await walk('type=user.registered&take=2');
    expect(registered.items.length).toBe(await t.server.prisma.auditEvent.count({ where: { type: 'user.registered' } }));
    expect(registered.items.every((e) => e.type === 'user.registered')).toBe(true);
  });

  it('answers 400 for an invalid filter, take or cursor', async () => {
    for (const query of ['userId=nope', 'type=DROP TABLE', 'take=0', 'take=101', 'cursor=abc', 'cursor=-1', `cursor=${'9'.repeat(19)}`, 'actorId=x']) {
      const res = await get(`?${query}`);
      expect([query, res.status]).toEqual([query, 400]);
    }
  });
});
