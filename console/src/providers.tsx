import { useEffect, useState } from 'preact/hooks';
import { call, publicCall, type TokenResponse } from './api';
import type { IdentitiesDto, IdentityDto, LinkUrlDto, MfaRequiredDto, ProviderDto, ProvidersDto } from './api-types';
import { FurtherStep } from './second-factors';
import { Confirm, NoticeLine, Table, useAction, when, type Notice } from './ui';

/** Where a provider sends the browser back: the console, which reads the answer from the fragment. */
const RETURN_TO = '/console';

/** The codes a sign-in at a provider comes back with (`#error=`, docs/providers.md), in words. */
const ERROR_TEXT: Record<string, string> = {
  access_denied: 'You declined at the provider, so nothing changed.',
  provider_error: 'The provider could not sign you in. Try again, or use another way to sign in.',
  provider_unavailable: 'The provider cannot be reached right now. Try again in a moment, or use another way to sign in.',
  invalid_response: "The provider's answer could not be verified, so it was not used. Start again from this page.",
  expired: 'That took too long. Start again from this page.',
  account_exists:
    'An account with this email address already exists. Sign in to it with your password, then link the provider from My account (we link on an email only when both sides have verified it).',
  registration_closed: 'No account is linked to this provider account, and new accounts cannot be created here. Ask an administrator.',
  email_missing: 'The provider did not share an email address, which a new account needs. Allow it at the provider, or sign in another way.',
  email_not_verified: 'Your email address is not verified yet. Open the link we sent you, or verify it at the provider, then try again.',
  account_disabled: 'This account is disabled. Ask an administrator.',
  identity_in_use: 'That provider account is already linked to another account here.',
  session_ended: 'Your session ended before the provider answered. Sign in and try again.',
  sign_in_failed: 'The sign-in could not be completed. Try again.',
};
const explain = (code: string) => ERROR_TEXT[code] ?? `The sign-in with the provider failed (${code}).`;

/** What the provider's return left in the address bar's fragment: read once, then removed from it. */
interface Returned {
  error?: string;
  mfaToken?: string;
  methods?: string[];
  linked?: string;
}
function takeReturn(): Returned | null {
  const params = new URLSearchParams(location.hash.slice(1));
  if (!params.has('error') && !params.has('mfaToken') && !params.has('linked')) return null;
  // The mfaToken must not stay in the address bar (history, a shared screen).
  history.replaceState(history.state, '', location.pathname + location.search);
  return {
    error: params.get('error') ?? undefined,
    mfaToken: params.get('mfaToken') ?? undefined,
    methods: params.get('methods')?.split(',').filter(Boolean),
    linked: params.get('linked') ?? undefined,
  };
}
let returned: Returned | null = typeof location === 'undefined' ? null : takeReturn();
/** The return, for the first screen that shows it. */
const consumeReturn = (): Returned | null => {
  const value = returned;
  returned = null;
  return value;
};

function useProviders(): ProviderDto[] {
  const [providers, setProviders] = useState<ProviderDto[]>([]);
  useEffect(() => {
    publicCall<ProvidersDto>('GET', '/auth/providers')
      .then((list) => setProviders(list.items))
      .catch(() => setProviders([]));
  }, []);
  return providers;
}

/**
 * On the sign-in form: "Sign in with <name>" for each provider, what a return from one
 * says (an error in words), and the second step when the account has a second factor.
 */
export function ProviderSignIn({ onSignedIn }: { onSignedIn(grant: TokenResponse): void }) {
  const providers = useProviders();
  const [back, setBack] = useState(consumeReturn);
  const notice: Notice | null = back?.error ? { kind: 'alert', text: explain(back.error) } : null;
  if (back?.mfaToken) {
    const pending = { mfaRequired: true, mfaToken: back.mfaToken, methods: back.methods ?? [], expiresIn: 0 } as MfaRequiredDto;
    return <FurtherStep pending={pending} onSignedIn={onSignedIn} onBack={() => setBack(null)} />;
  }
  if (providers.length === 0 && !notice) return null;
  return (
    <section aria-label="Other ways to sign in">
      <NoticeLine notice={notice} />
      {providers.length > 0 && (
        <div class="actions">
          {providers.map((p) => (
            <button
              type="button"
              class="secondary"
              onClick={() => location.assign(`/auth/oidc/${encodeURIComponent(p.id)}/start?redirect=${encodeURIComponent(RETURN_TO)}`)}
            >
              Sign in with {p.name}
            </button>
          ))}
        </div>
      )}
    </section>
  );
}

/** On My account: the providers linked to it (unlink), and the ones that can be linked. */
export function LinkedProviders() {
  const providers = useProviders();
  const [identities, setIdentities] = useState<IdentityDto[] | null>(null);
  const { run, busy, notice, setNotice } = useAction();
  useEffect(() => {
    const back = consumeReturn();
    void run(async () => setIdentities((await call<IdentitiesDto>('GET', '/auth/identities')).items)).then(() => {
      if (back?.error) setNotice({ kind: 'alert', text: explain(back.error) });
      if (back?.linked) setNotice({ kind: 'status', text: `Signing in with ${back.linked} is now linked to your account.` });
    });
  }, [run, setNotice]);
  if (providers.length === 0 && !identities?.length) return null;
  const nameOf = (id: string) => providers.find((p) => p.id === id)?.name ?? id;
  const link = (p: ProviderDto) =>
    run(async () => {
      const { url } = await call<LinkUrlDto>('POST', `/auth/oidc/${encodeURIComponent(p.id)}/link`, { redirect: RETURN_TO });
      location.assign(url);
    });
  const unlink = (identity: IdentityDto) =>
    run(async () => {
      await call('DELETE', `/auth/identities/${identity.id}`);
      setIdentities((await call<IdentitiesDto>('GET', '/auth/identities')).items);
      return `Signing in with ${nameOf(identity.provider)} was removed.`;
    });
  return (
    <section aria-labelledby="providers-heading">
      <h2 id="providers-heading">Linked providers</h2>
      <p>Other accounts you can sign in with. Linking needs a recent sign-in.</p>
      {identities && identities.length > 0 && (
        <Table caption="Linked providers" head={['Provider', 'Email there', 'Linked', '']}>
          {identities.map((identity) => (
            <tr key={identity.id}>
              <td>{nameOf(identity.provider)}</td>
              <td>{identity.email ?? '—'}</td>
              <td>{when(identity.createdAt)}</td>
              <td>
                <Confirm
                  action="Unlink"
                  what={`${nameOf(identity.provider)} (${identity.email ?? identity.id})`}
                  busy={busy}
                  onConfirm={() => void unlink(identity)}
                />
              </td>
            </tr>
          ))}
        </Table>
      )}
      <NoticeLine notice={notice} />
      <div class="actions">
        {providers.map((p) => (
          <button type="button" class="secondary" disabled={busy} onClick={() => void link(p)}>
            Link {p.name}
          </button>
        ))}
      </div>
    </section>
  );
}
