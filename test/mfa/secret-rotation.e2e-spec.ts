import { randomBytes } from 'node:crypto';
import { TEST_SECRET, useApp } from '../support/test-app';
import { currentStep, enrolledUser, firstStep, totpAt } from './support';

/** TOTP secrets are sealed like signing keys: they survive an AUTH_SECRET rotation, and are sealed again under the new secret. */
describe('TOTP secrets across an AUTH_SECRET rotation', () => {
  const t = useApp();

  it('opens under AUTH_SECRET_PREVIOUS, seals again under AUTH_SECRET on use, then needs only the new secret', async () => {
    const user = await enrolledUser(t.http);
    const sealed = async () => Buffer.from((await t.server.prisma.totpFactor.findUniqueOrThrow({ where: { userId: user.id } })).secretSealed).toString('hex');
    const before = await sealed();
    const next = randomBytes(32).toString('base64url');

    await t.restart({ AUTH_SECRET: next, AUTH_SECRET_PREVIOUS: TEST_SECRET });
    const step = currentStep();
    const during = await t.http.post('/auth/login/mfa', { mfaToken: await firstStep(t.http, user), method: 'totp', code: totpAt(user.secret, step) });
    expect(during.status).toBe(200);
    expect(await sealed()).not.toBe(before);

    await t.restart({ AUTH_SECRET: next });
    const after = await t.http.post('/auth/login/mfa', { mfaToken: await firstStep(t.http, user), method: 'totp', code: totpAt(user.secret, step + 1) });
    expect(after.status).toBe(200);
  });
});
