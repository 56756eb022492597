import { MFA_FAILED } from '../../src/auth/sign-in/sign-in.service';
import { ADMIN_ENV, newAdmin, newUser } from '../support/factories';
import { linkIn, useMailCatcher } from '../support/mail-catcher';
import { useApp } from '../support/test-app';
import { waitFor } from '../support/wait';
import { useReceiver } from '../support/webhook-receiver';
import { claimsOf, currentStep, enrolledUser, firstStep, steppedUp, totpAt } from './support';

const MFA_EVENTS = ['mfa.enabled', 'mfa.disabled', 'mfa.recovery_codes_regenerated', 'mfa.recovery_code_used', 'user.mfa_reset'];

/**
 * Recovery codes, regeneration, an admin's reset and a password reset, with what each tells
 * the user (mail) and the webhooks; and, after all of it, no TOTP secret or recovery code
 * in the logs, the audit trail or the outbox (API.md, "Second factors").
 */
describe('second factors: recovery codes, resets, notices', () => {
  const env: Record<string, string> = { ...ADMIN_ENV, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' };
  const mail = useMailCatcher(env);
  const receiver = useReceiver();
  const t = useApp(env);
  /** Every secret a flow below saw: none may appear where it is not the one response. */
  const secrets = new Set<string>();
  const notices = (to: string) => mail.mails.filter((m) => m.subject?.startsWith('Security notice') && (m.to as { text: string }).text.includes(to));
  const receivedTypes = () => receiver.received.map((r) => (JSON.parse(r.body) as { type: string }).type);

  beforeAll(async () => {
    const admin = await newAdmin(t.http);
    const res = await t.http.post('/admin/webhooks', { url: receiver.url(), events: MFA_EVENTS }, { token: admin.accessToken });
    expect(res.status).toBe(201);
  });

  const enrolled = async () => {
    const user = await enrolledUser(t.http);
    secrets.add(user.secret);
    user.recoveryCodes.forEach((c) => secrets.add(c));
    return user;
  };

  it('a recovery code signs in once (any case, with or without dashes), at aal2; it is audited, mailed and sent to webhooks', async () => {
    const user = await enrolled();
    await waitFor('the mfa.enabled notice', () => notices(user.email).length === 1);
    expect(notices(user.email)[0].text).toContain('turned on');

    const code = user.recoveryCodes[3];
    const used = await t.http.post('/auth/login/mfa', {
      mfaToken: await firstStep(t.http, user),
      method: 'recovery_code',
      code: code.toUpperCase().replace(/-/g, ''),
    });
    expect(used.status).toBe(200);
    expect(claimsOf(used.body.accessToken)).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], acr: 'aal2' });
    const again = await t.http.post('/auth/login/mfa', { mfaToken: await firstStep(t.http, user), method: 'recovery_code', code });
    expect([again.status, again.body.message]).toEqual([401, MFA_FAILED]);
    expect((await t.http.get('/auth/mfa', { token: user.accessToken })).body.recoveryCodes).toEqual({ remaining: 9 });

    const audit = await t.server.prisma.auditEvent.findMany({ where: { userId: user.id, type: 'mfa.recovery_code_used' } });
    expect(audit.map((a) => a.data)).toEqual([{ remaining: 9 }]);
    await waitFor('the recovery-code notice', () => notices(user.email).length === 2);
    expect(notices(user.email)[1].text).toContain('recovery code was used');
    await waitFor('the webhooks', () => receivedTypes().filter((type) => type === 'mfa.recovery_code_used').length === 1);
    expect(receivedTypes()).toContain('mfa.enabled');
  });

  it('regenerating: a new set, the previous stops working, other sessions end; mailed', async () => {
    const user = await enrolled();
    const step = currentStep();
    const other = await t.http.post('/auth/login/mfa', { mfaToken: await firstStep(t.http, user), method: 'totp', code: totpAt(user.secret, step) });
    expect(other.status).toBe(200);
    const regenerated = await t.http.post('/auth/mfa/recovery-codes', undefined, { token: await steppedUp(t.http, user, step + 1) });
    expect(regenerated.status).toBe(200);
    expect(regenerated.body.recoveryCodes).toHaveLength(10);
    regenerated.body.recoveryCodes.forEach((c: string) => secrets.add(c));
    expect((await t.http.get('/auth/me', { token: other.body.accessToken })).status).toBe(401);
    const old = await t.http.post('/auth/login/mfa', { mfaToken: await firstStep(t.http, user), method: 'recovery_code', code: user.recoveryCodes[0] });
    expect(old.status).toBe(401);
    const fresh = await t.http.post('/auth/login/mfa', {
      mfaToken: await firstStep(t.http, user),
      method: 'recovery_code',
      code: regenerated.body.recoveryCodes[0],
    });
    expect(fresh.status).toBe(200);
    await waitFor('the regeneration notice', () => notices(user.email).some((m) => m.text?.includes('New recovery codes')));
    await waitFor('the webhook', () => receivedTypes().includes('mfa.recovery_codes_regenerated'));
  });

  it('disabling is mailed and sent to webhooks', async () => {
    const user = await enrolled();
    expect((await t.http.delete('/auth/mfa/totp', { token: await steppedUp(t.http, user, currentStep()) })).status).toBe(204);
    await waitFor('the notice', () => notices(user.email).some((m) => m.text?.includes('turned off')));
    await waitFor('the webhook', () => receivedTypes().includes('mfa.disabled'));
  });

  it("an admin's reset removes every factor and ends every session; audited, mailed, sent; 404 for no user, 403 for a non-admin", async () => {
    const admin = await newAdmin(t.http);
    const user = await enrolled();
    const second = await newUser(t.http);
    expect((await t.http.delete(`/admin/users/${user.id}/mfa`, { token: second.accessToken })).status).toBe(403);
    expect((await t.http.delete('/admin/users/00000000-0000-4000-8000-000000000000/mfa', { token: admin.accessToken })).status).toBe(404);
    expect((await t.http.delete(`/admin/users/${user.id}/mfa`, { token: admin.accessToken })).status).toBe(204);
    expect((await t.http.get('/auth/me', { token: user.accessToken })).status).toBe(401);
    expect((await t.http.post('/auth/refresh', { refreshToken: user.refreshToken })).status).toBe(401);
    const login = await t.http.post('/auth/login', { email: user.email, password: user.password });
    expect(claimsOf(login.body.accessToken)).toMatchObject({ acr: 'aal1' });
    expect((await t.http.get('/auth/mfa', { token: login.body.accessToken })).body).toMatchObject({
      totp: { enabled: false },
      recoveryCodes: { remaining: 0 },
    });
    const audit = await t.server.prisma.auditEvent.findFirstOrThrow({ where: { userId: user.id, type: 'user.mfa_reset' } });
    expect(audit).toMatchObject({ actorId: admin.id, data: { totpRemoved: true, recoveryCodesRemoved: 10 } });
    await waitFor('the notice', () => notices(user.email).some((m) => m.text?.includes('administrator removed')));
    await waitFor('the webhook', () => receivedTypes().includes('user.mfa_reset'));
  });

  it('a password reset keeps the factor: the next sign-in still asks for the second step', async () => {
    const user = await enrolled();
    expect((await t.http.post('/auth/password/forgot', { email: user.email })).status).toBe(202);
    const { token } = linkIn(await mail.nth(user.email, 'reset-password'), 'reset-password');
    const newPassword = 'a-brand-new-passphrase';
    expect((await t.http.post('/auth/password/reset', { token, newPassword })).status).toBe(204);
    const login = await t.http.post('/auth/login', { email: user.email, password: newPassword });
    expect(login.body).toMatchObject({ mfaRequired: true });
    expect(login.body.accessToken).toBeUndefined();
    const second = await t.http.post('/auth/login/mfa', { mfaToken: login.body.mfaToken, method: 'totp', code: totpAt(user.secret, currentStep()) });
    expect(claimsOf(second.body.accessToken)).toMatchObject({ acr: 'aal2' });
  });

  it('a pending sign-in dies with a password reset committed before its second step', async () => {
    const user = await enrolled();
    const mfaToken = await firstStep(t.http, user);
    expect((await t.http.post('/auth/password/forgot', { email: user.email })).status).toBe(202);
    const { token } = linkIn(await mail.nth(user.email, 'reset-password'), 'reset-password');
    expect((await t.http.post('/auth/password/reset', { token, newPassword: 'another-new-passphrase' })).status).toBe(204);
    const res = await t.http.post('/auth/login/mfa', { mfaToken, method: 'totp', code: totpAt(user.secret, currentStep()) });
    expect([res.status, res.body.message]).toEqual([401, MFA_FAILED]);
  });

  it('holds no TOTP secret or recovery code in the logs, the audit trail, the outbox or the webhooks', async () => {
    expect(secrets.size).toBeGreaterThan(30);
    const logs = t.server.logs();
    expect(logs).toContain('/auth/login/mfa');
    const json = (rows: unknown) => JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    const audit = json(await t.server.prisma.auditEvent.findMany());
    const outbox = json(await t.server.prisma.outboxDelivery.findMany());
    const hooks = receiver.received.map((r) => r.body).join('\n');
    const mails = mail.mails.map((m) => `${m.subject}\n${m.text}\n${m.html}`).join('\n');
    expect(hooks).toContain('mfa.recovery_code_used');
    for (const secret of secrets) {
      const forms = [secret, secret.replace(/-/g, ''), secret.toUpperCase()];
      for (const [where, text] of Object.entries({ logs, audit, outbox, hooks, mails })) {
        for (const form of forms) expect([where, text.includes(form)]).toEqual([where, false]);
      }
    }
  });
});
