import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import * as client from 'openid-client';
import type { AppConfig } from '../../config/configuration';
import type { OidcProviderConfig } from '../../config/oidc-providers';

/** A discovery document is read again after this long (a provider's endpoints rarely move; its keys are followed by openid-client). */
const DISCOVERY_TTL_MS = 24 * 3600_000;
/** Seconds a request to a provider may take (discovery, token, userinfo) before it counts as unavailable. */
const PROVIDER_TIMEOUT_SECONDS = 10;

/**
 * OIDC_PROVIDERS and what their discovery documents say. Discovery happens at the first
 * sign-in with a provider, not at boot: a provider that is down is an answer to that
 * sign-in (`provider_unavailable`), never a server that does not start. A success is
 * cached per provider; a failure is not, so the next sign-in tries again. openid-client
 * verifies ID tokens against the provider's JWKS, fetched and refetched (an unknown `kid`,
 * i.e. a rotation) by itself.
 */
@Injectable()
export class OidcProviders {
  private readonly providers: Map<string, OidcProviderConfig>;
  private readonly insecure: boolean;
  private readonly discovered = new Map<string, { at: number; configuration: Promise<client.Configuration> }>();

  constructor(config: ConfigService<AppConfig, true>) {
    this.providers = new Map(config.get('oidc.providers', { infer: true }).map((p) => [p.id, p]));
    // http:// issuers: outside production only (the configuration refuses them there too).
    this.insecure = config.get('app.env', { infer: true }) !== 'production';
  }

  /** GET /auth/providers: what the buttons say, nothing else. */
  list(): Array<{ id: string; name: string }> {
    return [...this.providers.values()].map(({ id, name }) => ({ id, name }));
  }

  get(id: string): OidcProviderConfig | undefined {
    return this.providers.get(id);
  }

  /** The provider's openid-client configuration (discovered once, then cached); rejects while it cannot be discovered. */
  configuration(provider: OidcProviderConfig): Promise<client.Configuration> {
    const cached = this.discovered.get(provider.id);
    if (cached && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached.configuration;
    const configuration = this.discover(provider);
    const entry = { at: Date.now(), configuration };
    this.discovered.set(provider.id, entry);
    configuration.catch(() => {
      if (this.discovered.get(provider.id) === entry) this.discovered.delete(provider.id);
    });
    return configuration;
  }

  private discover(provider: OidcProviderConfig): Promise<client.Configuration> {
    return client.discovery(new URL(provider.issuer), provider.clientId, undefined, clientSecretAuth(provider.clientSecret), {
      execute: this.insecure && provider.issuer.startsWith('http://') ? [client.allowInsecureRequests] : [],
      timeout: PROVIDER_TIMEOUT_SECONDS,
    });
  }
}

/**
 * The client secret at the token endpoint: HTTP Basic (the default of OpenID Connect), or
 * in the form when the provider lists client_secret_post and not Basic.
 */
function clientSecretAuth(secret: string): client.ClientAuth {
  const basic = client.ClientSecretBasic(secret);
  const post = client.ClientSecretPost(secret);
  return (as, metadata, body, headers) => {
    const supported = as.token_endpoint_auth_methods_supported;
    const usePost = supported !== undefined && !supported.includes('client_secret_basic') && supported.includes('client_secret_post');
    (usePost ? post : basic)(as, metadata, body, headers);
  };
}
