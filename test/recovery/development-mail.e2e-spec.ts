import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { newUser } from '../support/factories';
import { linkIn } from '../support/mail-catcher';
import { PRODUCTION_ARGON2, useApp } from '../support/test-app';
import { waitFor } from '../support/wait';

describe('Mail in development without SMTP_URL: .eml files in DATA_DIR/mail, and the link logged', () => {
  // Development refuses the cheap test hashing: the production cost, for one registration.
  const t = useApp({ NODE_ENV: 'development', ...PRODUCTION_ARGON2, RATE_LIMIT_MAIL: '0' });
  const mailDir = () => join(t.db.env.DATA_DIR, 'mail');
  const files = () => {
    try {
      return readdirSync(mailDir()).filter((name) => name.endsWith('.eml'));
    } catch {
      return [];
    }
  };

  it('registration writes the verification mail as an RFC 822 file; its link is in the log line and verifies the address', async () => {
    const user = await newUser(t.http);
    await waitFor('the .eml file', () => files().length === 1);
    const mail = await simpleParser(readFileSync(join(mailDir(), files()[0])));
    expect(mail.subject).toBe('Confirm your email address');
    expect(mail.to).toMatchObject({ value: [{ address: user.email }] });
    const { link, token } = linkIn(mail, 'verify-email');
    expect(String(mail.html)).toContain('verify-email#token');

    await waitFor('the log line', () => t.server.logs().includes(link));
    const line = t.server
      .logs()
      .split('\n')
      .find((l) => l.includes(link))!;
    expect(JSON.parse(line)).toMatchObject({ level: 30, context: 'Mail' });

    expect((await t.http.post('/auth/email/verify', { token })).status).toBe(204);
    // forgot works too, in development, with no SMTP server at all.
    expect((await t.http.post('/auth/password/forgot', { email: user.email })).status).toBe(202);
    await waitFor('the reset .eml file', () => files().length === 2);
  });
});
