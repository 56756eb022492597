import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailTemplates } from './mail-templates';

describe('MailTemplates', () => {
  const values = { link: 'https://example.com/reset-password#token=abc', email: '"<b>x</b>"@example.com', expiresIn: '1 hour', appUrl: 'https://example.com' };

  it('escapes values in the HTML body only', () => {
    const mail = new MailTemplates().render('password-reset', values);
    expect(mail.html).toContain('&quot;&lt;b&gt;x&lt;/b&gt;&quot;@example.com');
    expect(mail.html).not.toContain('<b>x</b>');
    expect(mail.text).toContain('"<b>x</b>"@example.com');
    expect(mail.subject).toBe('Reset your password');
  });

  it('takes a file of MAIL_TEMPLATES_DIR over the shipped one, file by file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mail-templates-'));
    writeFileSync(join(dir, 'password-reset.subject.txt'), 'Your {{email}} reset\n');
    const mail = new MailTemplates(dir).render('password-reset', { ...values, email: 'ada@example.com' });
    expect(mail.subject).toBe('Your ada@example.com reset');
    expect(mail.text).toContain(values.link);
  });

  it('refuses a broken template at start, naming its file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mail-templates-'));
    writeFileSync(join(dir, 'email-verification.html'), '<p>{{#if link}}unclosed</p>');
    expect(() => new MailTemplates(dir)).toThrow(/email-verification\.html/);
  });

  it('refuses a template that names a value that does not exist (strict)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mail-templates-'));
    writeFileSync(join(dir, 'password-reset.txt'), '{{lnk}}');
    expect(() => new MailTemplates(dir)).toThrow(/password-reset\.txt/);
  });
});
