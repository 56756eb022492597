import { z } from 'zod';
import { shown } from './env-fields';

/** One provider of OIDC_PROVIDERS (API.md, "Sign-in with other providers"). */
export interface OidcProviderConfig {
  /** In the routes (/auth/oidc/:id/…) and on linked identities: lower-case letters, digits, `-`, `_`. */
  id: string;
  /** What the "Sign in with <name>" button says. */
  name: string;
  /** The issuer identifier: its discovery document is `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** Never logged, never in a response or an error message. */
  clientSecret: string;
  scopes: string[];
}

export const DEFAULT_OIDC_SCOPES = ['openid', 'email', 'profile'];

const provider = z
  .object(
    {
      id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'id must be 1 to 40 lower-case letters, digits, "-" or "_" (it is part of the routes)'),
      name: z.string().trim().min(1, 'name must be the text of the "Sign in with" button').max(80, 'name must be at most 80 characters'),
      issuer: z.url({ protocol: /^https?$/, message: 'issuer must be an http:// or https:// URL' }),
      clientId: z.string().min(1, 'clientId must not be empty'),
      clientSecret: z.string().min(1, 'clientSecret must not be empty'),
      scopes: z
        .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'scopes must be scope tokens (no spaces)'))
        .refine((scopes) => scopes.includes('openid'), 'scopes must include "openid"')
        .default(DEFAULT_OIDC_SCOPES),
    },
    { error: 'each provider must be an object { id, name, issuer, clientId, clientSecret, scopes? }' },
  )
  .strict();

/**
 * OIDC_PROVIDERS: a JSON array of providers, validated at start. The messages never repeat
 * the value, nor a field of it, except the ids: the value holds client secrets.
 */
export const oidcProviders = z
  .string()
  .trim()
  .default('')
  .transform((value, ctx): OidcProviderConfig[] => {
    if (value === '') return [];
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message:
          'is not valid JSON: it must be a JSON array [{ "id", "name", "issuer", "clientId", "clientSecret", "scopes"? }] (the value is not repeated: it holds secrets)',
      });
      return z.NEVER;
    }
    if (!Array.isArray(json)) {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of providers (the value is not repeated: it holds secrets)' });
      return z.NEVER;
    }
    const providers: OidcProviderConfig[] = [];
    json.forEach((entry, i) => {
      const parsed = provider.safeParse(entry);
      if (parsed.success) providers.push(parsed.data);
      else
        for (const issue of parsed.error.issues)
          ctx.addIssue({
            code: 'custom',
            message: `provider ${i + 1}: ${issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.map(shown).join(', ')}` : issue.message}`,
          });
    });
    const ids = providers.map((p) => p.id);
    const twice = ids.find((id, i) => ids.indexOf(id) !== i);
    if (twice) ctx.addIssue({ code: 'custom', message: `two providers have the id ${shown(twice)}` });
    return providers;
  });
