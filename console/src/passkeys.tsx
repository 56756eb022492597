import {
  browserSupportsWebAuthn,
  browserSupportsWebAuthnAutofill,
  startAuthentication,
  startRegistration,
  WebAuthnAbortService,
} from '@simplewebauthn/browser';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { call, publicCall, signIn, type TokenResponse } from './api';
import type { PasskeyDto, PasskeyListDto, ReauthenticateDto, WebauthnOptionsDto } from './api-types';
import { Confirm, Field, NoticeLine, Submit, Table, useAction, when } from './ui';

/**
 * Passkeys in the console (API.md, "Second factors, step-up and passkeys"): added, named,
 * renamed and removed on My account; "Sign in with a passkey" (and the browser's autofill
 * of passkeys where it offers it) on the sign-in form; the passkey as a second step. The
 * ceremonies are @simplewebauthn/browser's, bundled: nothing loads from elsewhere, so the
 * console's Content-Security-Policy (scripts and requests of its own origin) holds.
 */

const request = (o: WebauthnOptionsDto) => o.options as unknown as PublicKeyCredentialRequestOptionsJSON;
const creation = (o: WebauthnOptionsDto) => o.options as unknown as PublicKeyCredentialCreationOptionsJSON;
/** A ceremony the person cancelled (or that timed out) says so plainly, not as a DOMException. */
const cancelled = (error: unknown) => error instanceof Error && (error.name === 'NotAllowedError' || error.name === 'AbortError');
const plainly = (error: unknown): never => {
  if (cancelled(error)) throw new Error('The passkey prompt was cancelled or timed out.', { cause: error });
  throw error;
};

/**
 * A passkey's answer for POST /auth/reauthenticate: the re-authentication prompt
 * (second-factors.tsx) offers it when a "recent" route asks the person to confirm it is them.
 */
export async function passkeyReauthentication(): Promise<ReauthenticateDto> {
  const options = await call<WebauthnOptionsDto>('POST', '/auth/passkeys/authentication/options', {});
  if ((request(options).allowCredentials ?? []).length === 0) throw new Error('This account has no passkey: use your password or a code.');
  const response = await startAuthentication({ optionsJSON: request(options) }).catch(plainly);
  return { method: 'passkey', challengeId: options.challengeId, response: response as unknown as Record<string, unknown> };
}

/** My account's passkeys: the list, a new one (named), renaming, removing. */
export function Passkeys() {
  const [items, setItems] = useState<PasskeyDto[] | null>(null);
  const [name, setName] = useState('');
  const { run, busy, notice } = useAction();
  const load = useCallback(() => run(async () => setItems((await call<PasskeyListDto>('GET', '/auth/passkeys')).items)), [run]);
  useEffect(() => void load(), [load]);
  if (!browserSupportsWebAuthn()) return null;

  const add = () =>
    run(async () => {
      const options = await call<WebauthnOptionsDto>('POST', '/auth/passkeys/registration/options');
      const response = await startRegistration({ optionsJSON: creation(options) }).catch(plainly);
      const created = await call<PasskeyDto>('POST', '/auth/passkeys/registration', {
        challengeId: options.challengeId,
        response,
        ...(name.trim() && { name: name.trim() }),
      });
      setName('');
      setItems((await call<PasskeyListDto>('GET', '/auth/passkeys')).items);
      return `Passkey “${created.name}” added.`;
    });
  const rename = (p: PasskeyDto) => {
    const next = window.prompt(`A new name for “${p.name}”`, p.name)?.trim();
    if (!next || next === p.name) return;
    void run(async () => {
      await call('PATCH', `/auth/passkeys/${p.id}`, { name: next });
      setItems((await call<PasskeyListDto>('GET', '/auth/passkeys')).items);
      return `Renamed to “${next}”.`;
    });
  };
  const remove = (p: PasskeyDto) =>
    run(async () => {
      await call('DELETE', `/auth/passkeys/${p.id}`);
      setItems((await call<PasskeyListDto>('GET', '/auth/passkeys')).items);
      return `Passkey “${p.name}” removed. Every other device was signed out.`;
    });

  return (
    <section aria-labelledby="passkeys-heading">
      <h2 id="passkeys-heading">Passkeys</h2>
      <p>Sign in with your fingerprint, face or screen lock instead of a password. A passkey works only on this site, so it cannot be phished.</p>
      {items && items.length > 0 && (
        <Table caption="My passkeys" head={['Name', 'Added', 'Last used', '']}>
          {items.map((p) => (
            <tr key={p.id}>
              <td>
                {p.name} {p.backedUp && <span class="badge muted">synced</span>}
              </td>
              <td>{when(p.createdAt)}</td>
              <td>{p.lastUsedAt ? when(p.lastUsedAt) : '—'}</td>
              <td class="actions">
                <button type="button" class="secondary outline" disabled={busy} aria-label={`Rename passkey ${p.name}`} onClick={() => rename(p)}>
                  Rename
                </button>
                <Confirm action="Remove" what={`passkey ${p.name}`} busy={busy} onConfirm={() => void remove(p)} />
              </td>
            </tr>
          ))}
        </Table>
      )}
      <form
        method="post"
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
      >
        <Field label="Name of the new passkey (optional)" name="passkey-name" value={name} onInput={setName} hint="Such as “Laptop” or “Phone”." />
        <NoticeLine notice={notice} />
        <Submit busy={busy}>Add a passkey</Submit>
      </form>
    </section>
  );
}

async function passkeySignIn(autofill: boolean): Promise<TokenResponse> {
  const options = await publicCall<WebauthnOptionsDto>('POST', '/auth/passkeys/authentication/options', {});
  const response = await startAuthentication({ optionsJSON: request(options), useBrowserAutofill: autofill });
  return signIn('/auth/passkeys/authentication', { challengeId: options.challengeId, response: response as unknown as Record<string, unknown> });
}

/**
 * "Sign in with a passkey" under the password form: no email asked. Where the browser
 * offers passkeys in the email field's autofill (conditional UI), a request waits there too.
 */
export function PasskeySignIn({ onSignedIn }: { onSignedIn(grant: TokenResponse): void }) {
  const { run, busy, notice } = useAction();
  useEffect(() => {
    let live = true;
    void browserSupportsWebAuthnAutofill().then((supported) => {
      if (!supported || !live) return;
      // Errors here are the autofill's being replaced or dismissed: nothing to tell.
      passkeySignIn(true).then(onSignedIn, () => undefined);
    });
    return () => {
      live = false;
      WebAuthnAbortService.cancelCeremony();
    };
  }, [onSignedIn]);
  if (!browserSupportsWebAuthn()) return null;
  return (
    <div class="passkey-sign-in">
      <NoticeLine notice={notice} />
      <button
        type="button"
        class="secondary"
        aria-busy={busy}
        disabled={busy}
        onClick={() => void run(async () => onSignedIn(await passkeySignIn(false).catch(plainly)))}
      >
        Sign in with a passkey
      </button>
    </div>
  );
}

/** The second step with a passkey (after a right password): only this account's passkeys are asked for. */
export function PasskeyStep({ mfaToken, onSignedIn }: { mfaToken: string; onSignedIn(grant: TokenResponse): void }) {
  const { run, busy, notice } = useAction();
  return (
    <div class="passkey-step">
      <p>Confirm it is you with your passkey.</p>
      <NoticeLine notice={notice} />
      <button
        type="button"
        aria-busy={busy}
        disabled={busy}
        onClick={() =>
          void run(async () => {
            const options = await publicCall<WebauthnOptionsDto>('POST', '/auth/login/mfa/passkey-options', { mfaToken });
            const response = await startAuthentication({ optionsJSON: request(options) }).catch(plainly);
            onSignedIn(
              await signIn('/auth/login/mfa', {
                mfaToken,
                method: 'passkey',
                challengeId: options.challengeId,
                response: response as unknown as Record<string, unknown>,
              }),
            );
          })
        }
      >
        Use my passkey
      </button>
    </div>
  );
}
