import { Logger } from '@nestjs/common';
import { AuditService } from '../../src/audit/audit.service';
import { PasswordService } from '../../src/auth/passwords/password.service';
import { ensureAdmin } from '../../src/admin/first-admin/ensure-admin';
import { UsersRepository } from '../../src/users/users.repository';
import { ADMIN, ADMIN_ENV, newAdmin, newUser } from '../support/factories';
import { useApp } from '../support/test-app';

describe('the first admin (ADMIN_EMAIL + ADMIN_PASSWORD) and the admin:create logic', () => {
  const t = useApp(ADMIN_ENV);

  const login = (email: string, password: string) => t.http.post('/auth/login', { email, password });
  const adminRow = () => t.server.prisma.user.findUniqueOrThrow({ where: { email: ADMIN.email } });

  it('is created at start as an ADMIN that can sign in', async () => {
    const admin = await newAdmin(t.http);
    expect((await t.http.get('/admin/users', { token: admin.accessToken })).status).toBe(200);
    expect(await t.server.prisma.user.count({ where: { email: ADMIN.email } })).toBe(1);
    const events = await t.server.prisma.auditEvent.findMany({ where: { userId: admin.id, type: 'user.registered' } });
    expect(events).toMatchObject([{ data: { role: 'ADMIN', via: 'ADMIN_EMAIL' } }]);
    expect(JSON.stringify(events.map((e) => e.data))).not.toContain(ADMIN.password);
  });

  it('is created once: a restart with another ADMIN_PASSWORD changes nothing', async () => {
    const before = await adminRow();
    await t.restart({ ...ADMIN_ENV, ADMIN_PASSWORD: 'a different passphrase' });
    const after = await adminRow();
    expect(after).toEqual(before);
    expect((await login(ADMIN.email, ADMIN.password)).status).toBe(200);
    expect((await login(ADMIN.email, 'a different passphrase')).status).toBe(401);
    expect(await t.server.prisma.auditEvent.count({ where: { userId: before.id, type: 'user.registered' } })).toBe(1);
  });

  it('never promotes an existing USER at start: it warns instead', async () => {
    const user = await newUser(t.http);
    // Spied rather than read from t.server.logs(): nestjs-pino keeps the first app's log stream for the whole process.
    const warn = jest.spyOn(Logger.prototype, 'warn');
    await t.restart({ ADMIN_EMAIL: user.email, ADMIN_PASSWORD: 'take-over-attempt' });
    const row = await t.server.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(row.role).toBe('USER');
    expect((await login(user.email, 'take-over-attempt')).status).toBe(401);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('ADMIN_EMAIL belongs to an account that is not an enabled admin'));
    expect(JSON.stringify(warn.mock.calls)).not.toContain('take-over-attempt');
    warn.mockRestore();
  });

  describe('ensureAdmin with promotion (npm run admin:create)', () => {
    /** As the CLI calls it; without `password`, asking for one fails the test. */
    const run = (email: string, password?: string) =>
      ensureAdmin(t.server.app.get(UsersRepository), t.server.app.get(AuditService), {
        email,
        passwordHash: async () => {
          if (password === undefined) throw new Error('no password should be needed');
          return t.server.app.get(PasswordService).hash(password);
        },
        promote: true,
        via: 'admin:create',
      });

    it('creates a new ADMIN, then says it already is one', async () => {
      expect(await run('  Cli@Example.com ', 'cli passphrase 1')).toBe('created');
      const res = await login('cli@example.com', 'cli passphrase 1');
      expect([res.status, res.body.user.role]).toEqual([200, 'ADMIN']);
      expect(await run('cli@example.com')).toBe('admin');
      expect(await t.server.prisma.user.count({ where: { email: 'cli@example.com' } })).toBe(1);
    });

    it('promotes and enables an existing account without asking for or changing its password', async () => {
      const user = await newUser(t.http);
      await t.server.prisma.user.update({ where: { id: user.id }, data: { disabled: true } });
      expect(await run(user.email)).toBe('promoted');
      const res = await login(user.email, user.password);
      expect([res.status, res.body.user.role, res.body.user.disabled]).toEqual([200, 'ADMIN', false]);
      const events = await t.server.prisma.auditEvent.findMany({ where: { userId: user.id, type: { in: ['user.role_changed', 'user.enabled'] } } });
      expect(events.map((e) => [e.type, e.data])).toEqual([
        ['user.role_changed', { from: 'USER', to: 'ADMIN', via: 'admin:create' }],
        ['user.enabled', { via: 'admin:create' }],
      ]);
    });
  });
});
