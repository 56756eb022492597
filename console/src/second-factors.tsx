import { browserSupportsWebAuthn } from '@simplewebauthn/browser';
import QRCode from 'qrcode';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call, onReauthenticate, SecondFactorNeeded, SessionEnded, signInStep, type ReauthPrompt, type TokenResponse, type User } from './api';
import type { MfaRequiredDto, MfaStatusDto, ReauthenticateDto, RecoveryCodesDto, TotpEnrollmentDto } from './api-types';
import { passkeyReauthentication, PasskeyStep } from './passkeys';
import { Confirm, Field, NoticeLine, Submit, useAction, when, type Notice } from './ui';

/**
 * Second factors in the console (API.md, "Second factors, step-up and passkeys"): TOTP and
 * recovery codes on My account, the second step of a sign-in, the re-authentication
 * prompt that api.ts opens when a route asks for a more recent sign-in, and an admin's reset.
 */

type StepMethod = 'totp' | 'recovery_code';

/** A second step refused: a wrong or used code, or a sign-in that waited too long (or had too many wrong codes). */
export const STEP_REFUSED = 'That code did not work: it is wrong or was used already, or this sign-in took too long. Try again, or go back and sign in again.';

/**
 * The otpauth URI as a QR code: the qrcode library's SVG, shown as an <img> of a data: URL.
 * The console's CSP allows `img-src data:` (Pico's icons need it), and an SVG loaded as an
 * image is inert (no script, no request), so no markup of ours goes into the document.
 */
function QrCode({ uri }: { uri: string }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    void QRCode.toString(uri, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' }).then((svg) =>
      setSrc(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`),
    );
  }, [uri]);
  return src ? <img class="qr-code" src={src} width={200} height={200} alt="QR code to scan with your authenticator app" /> : null;
}

/** The codes of a new set, shown this once: copy them, or download them as a text file. */
function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone(): void }) {
  const [told, setTold] = useState<Notice | null>(null);
  const text = `${codes.join('\n')}\n`;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setTold({ kind: 'status', text: 'Copied to the clipboard.' });
    } catch {
      setTold({ kind: 'alert', text: 'The browser refused the clipboard: select the codes and copy them, or download them.' });
    }
  };
  const download = () => {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'recovery-codes.txt';
    link.click();
    // After the click has started the download: the URL is not needed any more.
    setTimeout(() => URL.revokeObjectURL(url), 0);
  };
  return (
    <article class="secret" aria-labelledby="codes-heading">
      <h3 id="codes-heading">Your recovery codes</h3>
      <p>Each signs in once when you do not have your authenticator app. They are shown this once: store them somewhere safe.</p>
      <ol aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ol>
      <NoticeLine notice={told} />
      <div class="actions">
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
        <button type="button" class="secondary" onClick={download}>
          Download
        </button>
        <button type="button" class="secondary" onClick={onDone}>
          I have stored them
        </button>
      </div>
    </article>
  );
}

/** My account, "Two-factor authentication": on or off, enrolling with a QR code, recovery codes. */
export function TwoFactor() {
  const [status, setStatus] = useState<MfaStatusDto | null>(null);
  const [enrollment, setEnrollment] = useState<TotpEnrollmentDto | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState('');
  const { run, busy, notice } = useAction();
  const load = useCallback(async () => setStatus(await call<MfaStatusDto>('GET', '/auth/mfa')), []);
  useEffect(() => void run(load), [run, load]);

  const enabled = status?.totp.enabled ?? false;
  return (
    <section aria-labelledby="mfa-heading">
      <h2 id="mfa-heading">Two-factor authentication</h2>
      {status && (
        <p>
          {enabled
            ? `On since ${when(status.totp.confirmedAt)}: signing in asks for a code from your authenticator app. Recovery codes left: ${status.recoveryCodes.remaining}.`
            : 'Off: your password alone signs in. Add an authenticator app so that a stolen password is not enough.'}
        </p>
      )}
      {codes && <RecoveryCodes codes={codes} onDone={() => setCodes(null)} />}
      {enrollment && (
        <form
          method="post"
          aria-label="Set up an authenticator app"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              const confirmed = await call<RecoveryCodesDto>('POST', '/auth/mfa/totp/confirm', { code: code.trim() });
              setEnrollment(null);
              setCode('');
              setCodes(confirmed.recoveryCodes);
              await load();
              return 'Two-factor authentication is on. Every other device was signed out.';
            });
          }}
        >
          <p>Scan this code with your authenticator app, then enter the 6-digit code it shows.</p>
          <QrCode uri={enrollment.otpauthUri} />
          <p>
            Cannot scan it? Enter this key in the app: <code aria-label="Setup key">{enrollment.secret}</code>
          </p>
          <Field label="Code from the app" name="totp-code" value={code} onInput={setCode} autocomplete="one-time-code" required />
          <Submit busy={busy}>Turn on</Submit>
        </form>
      )}
      <NoticeLine notice={notice} />
      <div class="actions">
        {status && !enabled && !enrollment && (
          <button type="button" disabled={busy} onClick={() => void run(async () => setEnrollment(await call<TotpEnrollmentDto>('POST', '/auth/mfa/totp')))}>
            Set up an authenticator app
          </button>
        )}
        {enabled && (
          <button
            type="button"
            class="secondary"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                setCodes((await call<RecoveryCodesDto>('POST', '/auth/mfa/recovery-codes')).recoveryCodes);
                await load();
                return 'New recovery codes: the previous ones no longer work. Every other device was signed out.';
              })
            }
          >
            New recovery codes
          </button>
        )}
        {enabled && (
          <Confirm
            action="Turn off"
            what="two-factor authentication"
            busy={busy}
            onConfirm={() =>
              void run(async () => {
                await call('DELETE', '/auth/mfa/totp');
                setCodes(null);
                await load();
                return 'Two-factor authentication is off. Every other device was signed out.';
              })
            }
          />
        )}
      </div>
    </section>
  );
}

/**
 * The further step of a sign-in (a password, or another provider, was right for an account
 * with a second factor): a passkey first when the account has one, codes beside it.
 */
export function FurtherStep({ pending, onSignedIn, onBack }: { pending: MfaRequiredDto; onSignedIn(grant: TokenResponse): void; onBack(): void }) {
  const passkey = pending.methods.includes('passkey') && <PasskeyStep mfaToken={pending.mfaToken} onSignedIn={onSignedIn} />;
  if (pending.methods.some((m) => m !== 'passkey'))
    return (
      <>
        {passkey}
        <SecondStep pending={pending} onSignedIn={onSignedIn} onBack={onBack} />
      </>
    );
  return (
    <>
      {passkey}
      <button type="button" class="link-button" onClick={onBack}>
        Back to sign in
      </button>
    </>
  );
}

/** The second step of a sign-in: a code from the app, or a recovery code. */
function SecondStep({ pending, onSignedIn, onBack }: { pending: MfaRequiredDto; onSignedIn(grant: TokenResponse): void; onBack(): void }) {
  const [method, setMethod] = useState<StepMethod>(pending.methods.includes('totp') ? 'totp' : 'recovery_code');
  const [code, setCode] = useState('');
  const { run, busy, notice } = useAction();
  const other: StepMethod = method === 'totp' ? 'recovery_code' : 'totp';
  return (
    <form
      method="post"
      aria-label="Second step"
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          try {
            onSignedIn(await signInStep({ mfaToken: pending.mfaToken, method, code: code.trim() }));
          } catch (error) {
            // The server's one message for every refusal names its mfaToken: said here in the person's words.
            if (error instanceof ApiError && error.status === 401) throw new Error(STEP_REFUSED, { cause: error });
            throw error;
          }
        });
      }}
    >
      <p>Your account has two-factor authentication.</p>
      <Field
        label={method === 'totp' ? 'Code from your authenticator app' : 'Recovery code'}
        name={method === 'totp' ? 'totp-code' : 'recovery-code'}
        value={code}
        onInput={setCode}
        autocomplete="one-time-code"
        required
      />
      <NoticeLine notice={notice} />
      <Submit busy={busy}>Verify</Submit>
      <p class="actions">
        {pending.methods.includes(other) && (
          <button
            type="button"
            class="link-button"
            onClick={() => {
              setMethod(other);
              setCode('');
            }}
          >
            {other === 'recovery_code' ? 'Use a recovery code instead' : 'Use the authenticator app instead'}
          </button>
        )}
        <button type="button" class="link-button" onClick={onBack}>
          Back to sign in
        </button>
      </p>
    </form>
  );
}

/**
 * The re-authentication prompt, mounted once: api.ts opens it when a route answers RFC
 * 9470's `insufficient_user_authentication`, and sends the request again once it is done.
 */
export function ReauthDialog() {
  const [ask, setAsk] = useState<ReauthPrompt | null>(null);
  const [method, setMethod] = useState<'password' | StepMethod>('password');
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(
    () =>
      onReauthenticate((prompt) => {
        setMethod(prompt.secondFactor ? 'totp' : 'password');
        setValue('');
        setNotice(null);
        setAsk(prompt);
      }),
    [],
  );
  useEffect(() => {
    if (ask && !dialog.current?.open) dialog.current?.showModal();
  }, [ask]);

  const close = () => {
    dialog.current?.close();
    setAsk(null);
  };
  const cancel = () => {
    ask?.cancel();
    close();
  };
  if (!ask) return null;
  const submit = (proof: ReauthenticateDto | Promise<ReauthenticateDto>) => {
    setBusy(true);
    setNotice(null);
    Promise.resolve(proof)
      .then((p) => ask.submit(p))
      .then(close)
      .catch((error: Error) => {
        // The session ended meanwhile: the app shows the sign-in form, the prompt has nothing left to do.
        if (error instanceof SessionEnded) return close();
        if (error instanceof SecondFactorNeeded) {
          setMethod('totp');
          setValue('');
        }
        setNotice({ kind: 'alert', text: error.message });
      })
      .finally(() => setBusy(false));
  };
  const label = method === 'password' ? 'Password' : method === 'totp' ? 'Code from your authenticator app' : 'Recovery code';
  return (
    <dialog
      ref={dialog}
      aria-labelledby="reauth-heading"
      onCancel={(e) => {
        e.preventDefault();
        cancel();
      }}
    >
      <article>
        <h2 id="reauth-heading">Confirm it is you</h2>
        <p>This change needs a recent sign-in.</p>
        <form
          method="post"
          onSubmit={(e) => {
            e.preventDefault();
            submit(method === 'password' ? { password: value } : { method, code: value.trim() });
          }}
        >
          <Field
            label={label}
            name={method === 'password' ? 'reauth-password' : 'reauth-code'}
            type={method === 'password' ? 'password' : 'text'}
            value={value}
            onInput={setValue}
            autocomplete={method === 'password' ? 'current-password' : 'one-time-code'}
            required
          />
          <NoticeLine notice={notice} />
          <div class="actions">
            <Submit busy={busy}>Confirm</Submit>
            <button type="button" class="secondary" onClick={cancel}>
              Cancel
            </button>
            {browserSupportsWebAuthn() && (
              <button type="button" class="link-button" disabled={busy} onClick={() => submit(passkeyReauthentication())}>
                Use a passkey
              </button>
            )}
            {method !== 'password' && (
              <button
                type="button"
                class="link-button"
                onClick={() => {
                  setMethod(method === 'totp' ? 'recovery_code' : 'totp');
                  setValue('');
                }}
              >
                {method === 'totp' ? 'Use a recovery code instead' : 'Use the authenticator app instead'}
              </button>
            )}
          </div>
        </form>
      </article>
    </dialog>
  );
}

/** Admin, on a user: remove every second factor (they sign in with the password alone); every session of theirs ends. */
export function ResetSecondFactors({
  user,
  busy,
  run,
  onDone,
}: {
  user: User;
  busy: boolean;
  run(action: () => Promise<string | void>): Promise<boolean>;
  onDone(): Promise<void>;
}) {
  return (
    <Confirm
      action="Reset second factors"
      what={`of ${user.email}`}
      busy={busy}
      onConfirm={() =>
        void run(async () => {
          await call('DELETE', `/admin/users/${user.id}/mfa`);
          await onDone();
          return `The second factors of ${user.email} were removed, and every session of theirs ended.`;
        })
      }
    />
  );
}
