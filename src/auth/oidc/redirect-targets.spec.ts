import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../../config/configuration';
import { RedirectTargets, withFragment } from './redirect-targets';

const settings: Record<string, unknown> = { 'app.url': 'https://auth.example.com/console', 'app.corsOrigins': ['https://app.example.com'] };
const targets = new RedirectTargets({ get: (key: string) => settings[key] } as unknown as ConfigService<AppConfig, true>);

describe('RedirectTargets (the redirect rule)', () => {
  it.each(['/console', '/console/account?tab=1', '/', 'https://auth.example.com/console', 'https://app.example.com/signed-in'])('allows %s', (value) => {
    expect(targets.check(value)).toBe(value);
  });

  it.each([
    '//evil.example/',
    '/\\evil.example',
    'https://evil.example/',
    'https://app.example.com.evil.example/',
    'http://app.example.com/',
    'https://user:pw@app.example.com/',
    'javascript:alert(1)',
    'console',
    '/con\nsole',
    '',
    undefined,
    ['/console'],
  ])('refuses %p', (value) => {
    expect(targets.check(value)).toBeNull();
  });

  it('puts the answer in the fragment, replacing one the target had', () => {
    expect(withFragment('/console#old', { error: 'account_exists' })).toBe('/console#error=account_exists');
    expect(withFragment('https://app.example.com/x?y=1', { mfaToken: 'a b', methods: 'totp,recovery_code' })).toBe(
      'https://app.example.com/x?y=1#mfaToken=a+b&methods=totp%2Crecovery_code',
    );
  });
});
