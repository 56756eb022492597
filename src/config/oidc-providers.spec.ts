import { ConfigValidationError, validateEnv } from './configuration';

const google = { id: 'google', name: 'Google', issuer: 'https://accounts.google.com', clientId: 'client-id', clientSecret: 'the-very-secret-value' };
const messageOf = (env: Record<string, string>): string => {
  try {
    validateEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return (error as Error).message;
  }
  throw new Error('validateEnv accepted it');
};

describe('OIDC_PROVIDERS', () => {
  it('is empty by default, and takes a JSON array with the default scopes', () => {
    expect(validateEnv({}).oidc).toEqual({ providers: [], callbackBaseUrl: undefined });
    const config = validateEnv({ OIDC_PROVIDERS: JSON.stringify([google]), OIDC_CALLBACK_BASE_URL: 'https://auth.example.com/' });
    expect(config.oidc).toEqual({ providers: [{ ...google, scopes: ['openid', 'email', 'profile'] }], callbackBaseUrl: 'https://auth.example.com' });
  });

  it('stops the start on bad JSON with a clear message that does not repeat the value', () => {
    const message = messageOf({ OIDC_PROVIDERS: `[{"id":"google","clientSecret":"the-very-secret-value"` });
    expect(message).toContain('OIDC_PROVIDERS: is not valid JSON');
    expect(message).not.toContain('the-very-secret-value');
  });

  it('names every bad field, never a secret', () => {
    const message = messageOf({
      OIDC_PROVIDERS: JSON.stringify([
        { ...google, id: 'Google!', issuer: 'ftp://x', scopes: ['email'] },
        { ...google, clientSecret: '', extra: 1 },
        google,
        { ...google, name: 'Google again' },
      ]),
    });
    expect(message).toContain('provider 1: id must be');
    expect(message).toContain('provider 1: issuer must be an http:// or https:// URL');
    expect(message).toContain('provider 1: scopes must include "openid"');
    expect(message).toContain('provider 2: clientSecret must not be empty');
    expect(message).toContain('provider 2: unknown field "extra"');
    expect(message).toContain('two providers have the id "google"');
    expect(message).not.toContain('the-very-secret-value');
    expect(messageOf({ OIDC_PROVIDERS: '{"id":"google"}' })).toContain('OIDC_PROVIDERS: must be a JSON array');
  });

  it('accepts an http:// issuer outside production only', () => {
    const local = JSON.stringify([{ ...google, issuer: 'http://127.0.0.1:8080/realms/main' }]);
    expect(validateEnv({ OIDC_PROVIDERS: local }).oidc.providers[0].issuer).toBe('http://127.0.0.1:8080/realms/main');
    const message = messageOf({ NODE_ENV: 'production', AUTH_SECRET: 'x'.repeat(10) + 'Zq8#mK2$vL9@pR4&wN7!tY3^bX6*cJ1', OIDC_PROVIDERS: local });
    expect(message).toContain('OIDC_PROVIDERS: provider "google": the issuer must be https:// when NODE_ENV=production');
  });
});
