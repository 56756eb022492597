import { ConfigurableModuleBuilder } from '@nestjs/common';

/** What AuthClientModule.forRoot / forRootAsync take (see the README's table). */
export interface AuthClientOptions {
  /** The `iss` of the tokens: the auth server's JWT_ISSUER (by default its APP_URL). */
  issuer: string;
  /** The `aud` every service of the deployment accepts: the auth server's JWT_AUDIENCE. */
  audience: string;
  /** Where this service reaches the auth server (JWKS, feed, introspection). Default: `issuer`. */
  serverUrl?: string;
  /** This service's credentials, from POST /admin/clients. */
  clientId: string;
  clientSecret: string;
  /**
   * The staleness bound (ms, default 1000): memory is trusted only while a heartbeat
   * certified it this recently; past it, every request is introspected until the feed
   * is `ready` again.
   */
  maxStalenessMs?: number;
  /** Per-request timeout of introspection calls (ms, default 2000): past it, 503. */
  introspectionTimeoutMs?: number;
}

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: AUTH_CLIENT_OPTIONS } = new ConfigurableModuleBuilder<AuthClientOptions>({
  moduleName: 'AuthClient',
})
  .setClassMethodName('forRoot')
  .build();

/** An option AuthClientModule cannot start with, said in one line (no value is echoed: one is a secret). */
export class AuthClientOptionsError extends Error {
  override readonly name = 'AuthClientOptionsError';
}

const isHttpUrl = (value: string): boolean => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);

/**
 * The options, checked when the module starts, because a bad one would surface late and
 * far from its cause: an undefined `clientId` is sent as the string "undefined" and every
 * feed connection gets 401; a server URL without its scheme (`auth.internal:3000`) parses
 * as a URL of the scheme `auth.internal:`, and every request is a 503. Throws one
 * AuthClientOptionsError naming every problem.
 */
export function checkAuthClientOptions(options: Partial<AuthClientOptions> | undefined): asserts options is AuthClientOptions {
  const problems: string[] = [];
  const required: Array<[keyof AuthClientOptions, string]> = [
    ['issuer', "the auth server's JWT_ISSUER, by default its APP_URL"],
    ['audience', "the auth server's JWT_AUDIENCE, by default nest-auth-backend"],
    ['clientId', "this service's client id, from POST /admin/clients on the auth server"],
    ['clientSecret', 'its secret, shown once by POST /admin/clients'],
  ];
  for (const [name, meaning] of required) {
    const value = options?.[name];
    if (typeof value !== 'string' || value.trim() === '') problems.push(`${name} is required (${meaning})`);
  }
  const serverUrl = options?.serverUrl ?? options?.issuer;
  if (typeof serverUrl === 'string' && serverUrl.trim() !== '' && !isHttpUrl(serverUrl)) {
    const name = options?.serverUrl === undefined ? 'issuer (serverUrl when it is not given)' : 'serverUrl';
    problems.push(`${name} must be an http or https URL where this service reaches the auth server, like http://auth.internal:3000`);
  }
  for (const name of ['maxStalenessMs', 'introspectionTimeoutMs'] as const) {
    const value = options?.[name];
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
      problems.push(`${name} must be a positive number of milliseconds`);
    }
  }
  if (problems.length > 0) throw new AuthClientOptionsError(`AuthClientModule: ${problems.join('; ')}`);
}
