import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, publicCall, signIn, type TokenResponse } from './api';
import type { MfaRequiredDto } from './api-types';
import { PasskeySignIn } from './passkeys';
import { FurtherStep } from './second-factors';
import { ProviderSignIn } from './providers';
import { Field, NoticeLine, Submit, useAction, type Notice } from './ui';

type Mode = 'sign-in' | 'sign-up' | 'forgot' | 'resend';

/**
 * Signed out: sign in, sign up (unless REGISTRATION_ENABLED=false) or ask for a reset
 * link. `notice` says why the person is here (their session was ended elsewhere).
 */
export function SignIn({ notice, registration, onSignedIn }: { notice: Notice | null; registration: boolean; onSignedIn(grant: TokenResponse): void }) {
  const [mode, setMode] = useState<Mode>('sign-in');
  // A sign-in refused because the email is not verified yet (REQUIRE_VERIFIED_EMAIL): offer a new link.
  const [unverified, setUnverified] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const switched = useRef(false);
  // Keyboard and screen-reader users land on the form they switched to (not at page load).
  useEffect(() => {
    if (switched.current) heading.current?.focus();
    switched.current = true;
  }, [mode]);
  const titles: Record<Mode, string> = {
    'sign-in': 'Sign in',
    'sign-up': 'Create an account',
    forgot: 'Forgot your password?',
    resend: 'Verify your email address',
  };
  return (
    <article>
      <h1 ref={heading} tabIndex={-1}>
        {titles[mode]}
      </h1>
      {mode === 'sign-in' && <NoticeLine notice={notice} />}
      {mode === 'sign-in' && <SignInForm onSignedIn={onSignedIn} onUnverified={() => setUnverified(true)} />}
      {mode === 'sign-in' && <PasskeySignIn onSignedIn={onSignedIn} />}
      {mode === 'sign-in' && <ProviderSignIn onSignedIn={onSignedIn} />}
      {mode === 'sign-up' && <SignUpForm onSignedIn={onSignedIn} />}
      {mode === 'forgot' && (
        <EmailForm
          path="/auth/password/forgot"
          intro="We send a link to set a new password to the email address of your account."
          done="If an account has this email address, a link to reset its password is on its way."
          button="Send reset link"
        />
      )}
      {mode === 'resend' && (
        <EmailForm
          path="/auth/email/verify/resend"
          intro="We send a new verification link to the email address of your account."
          done="If this address has an account to verify, a new link is on its way."
          button="Send verification link"
        />
      )}
      <p class="actions">
        {mode !== 'sign-in' && (
          <button type="button" class="link-button" onClick={() => setMode('sign-in')}>
            Back to sign in
          </button>
        )}
        {mode === 'sign-in' && (
          <button type="button" class="link-button" onClick={() => setMode('forgot')}>
            Forgot password?
          </button>
        )}
        {mode === 'sign-in' && unverified && (
          <button type="button" class="link-button" onClick={() => setMode('resend')}>
            Send the verification link again
          </button>
        )}
        {mode === 'sign-in' && registration && (
          <button type="button" class="link-button" onClick={() => setMode('sign-up')}>
            Create an account
          </button>
        )}
      </p>
    </article>
  );
}

function SignInForm({ onSignedIn, onUnverified }: { onSignedIn(grant: TokenResponse): void; onUnverified(): void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  // The password was right and the account has a second factor: its step comes next.
  const [pending, setPending] = useState<MfaRequiredDto | null>(null);
  const { run, busy, notice } = useAction();
  if (pending) return <FurtherStep pending={pending} onSignedIn={onSignedIn} onBack={() => setPending(null)} />;
  return (
    <form
      method="post"
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          try {
            const grant = await signIn('/auth/login', { email, password });
            if ('mfaRequired' in grant) return setPending(grant);
            onSignedIn(grant);
          } catch (error) {
            if (error instanceof ApiError && error.status === 403) onUnverified();
            throw error;
          }
        });
      }}
    >
      {/* `webauthn`: the browser may offer passkeys in this field's autofill (conditional UI). */}
      <Field label="Email" name="email" type="email" value={email} onInput={setEmail} autocomplete="username webauthn" required />
      <Field label="Password" name="password" type="password" value={password} onInput={setPassword} autocomplete="current-password" required />
      <NoticeLine notice={notice} />
      <Submit busy={busy}>Sign in</Submit>
    </form>
  );
}

function SignUpForm({ onSignedIn }: { onSignedIn(grant: TokenResponse): void }) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const { run, busy, notice } = useAction();
  return (
    <form
      method="post"
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          const grant = await signIn('/auth/register', name.trim() ? { email, password, name: name.trim() } : { email, password });
          // With REQUIRE_VERIFIED_EMAIL the account waits for its email to be verified: no tokens yet.
          if (!grant.accessToken) return 'Account created. Open the link we sent to your email address, then sign in.';
          onSignedIn(grant);
        });
      }}
    >
      <Field label="Email" name="email" type="email" value={email} onInput={setEmail} autocomplete="email" required />
      <Field label="Name (optional)" name="name" value={name} onInput={setName} autocomplete="name" />
      <Field
        label="Password"
        name="new-password"
        type="password"
        value={password}
        onInput={setPassword}
        autocomplete="new-password"
        minLength={8}
        required
        hint="At least 8 characters; a long phrase is best."
      />
      <NoticeLine notice={notice} />
      <Submit busy={busy}>Create account</Submit>
    </form>
  );
}

/** One email address, for a link by mail (a password reset, a new verification link): 202 whatever the address. */
function EmailForm({ path, intro, done, button }: { path: string; intro: string; done: string; button: string }) {
  const [email, setEmail] = useState('');
  const { run, busy, notice } = useAction();
  return (
    <form
      method="post"
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          await publicCall('POST', path, { email });
          return done;
        });
      }}
    >
      <p>{intro}</p>
      <Field label="Email" name="email" type="email" value={email} onInput={setEmail} autocomplete="email" required />
      <NoticeLine notice={notice} />
      <Submit busy={busy}>{button}</Submit>
    </form>
  );
}
