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
