import { useEffect, useState } from 'preact/hooks';
import { publicCall } from './api';
import { Field, Link, NoticeLine, Submit, useAction } from './ui';

/**
 * The token of a mail's link (`…/reset-password#token=…`): in the fragment, so it never
 * reaches a server or a Referer. Read once, then taken out of the address bar (and so out
 * of the history); nothing is submitted until the person presses the button, so a mail
 * scanner that opens the link spends nothing.
 */
export function useLinkToken(): string | null {
  const take = () => {
    const value = new URLSearchParams(location.hash.slice(1)).get('token');
    if (location.hash) history.replaceState(null, '', location.pathname);
    return value;
  };
  const [token, setToken] = useState(take);
  // The link pasted into this tab while the page is open: no new page load, only a new fragment.
  useEffect(() => {
    const changed = () => {
      const value = take();
      if (value) setToken(value);
    };
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return token;
}

const NO_TOKEN = 'This page needs the link from your email: open it again from the email (the whole link).';

export function ResetPassword() {
  const token = useLinkToken();
  const [newPassword, setNew] = useState('');
  const [done, setDone] = useState(false);
  const { run, busy, notice } = useAction();
  return (
    <article>
      <h1>Set a new password</h1>
      {!token && (
        <p role="alert" class="alert">
          {NO_TOKEN}
        </p>
      )}
      {token && !done && (
        <form
          method="post"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              await publicCall('POST', '/auth/password/reset', { token, newPassword });
              setDone(true);
              return 'Your password was changed, and every device signed out. Sign in with the new password.';
            });
          }}
        >
          <Field
            label="New password"
            name="new-password"
            type="password"
            value={newPassword}
            onInput={setNew}
            autocomplete="new-password"
            minLength={8}
            required
            hint="At least 8 characters. Every device signed in to your account is signed out."
          />
          <NoticeLine notice={notice} />
          <Submit busy={busy}>Set new password</Submit>
        </form>
      )}
      {done && <NoticeLine notice={notice} />}
      <p>
        <Link to="/console">Go to sign in</Link>
      </p>
    </article>
  );
}

export function VerifyEmail() {
  const token = useLinkToken();
  const [done, setDone] = useState(false);
  const { run, busy, notice } = useAction();
  return (
    <article>
      <h1>Verify your email address</h1>
      {!token && (
        <p role="alert" class="alert">
          {NO_TOKEN}
        </p>
      )}
      {token && !done && (
        <>
          <p>Confirm that this email address is yours.</p>
          <button
            type="button"
            aria-busy={busy}
            disabled={busy}
            onClick={() =>
              void run(async () => {
                await publicCall('POST', '/auth/email/verify', { token });
                setDone(true);
                return 'Your email address is verified.';
              })
            }
          >
            Verify my email address
          </button>
        </>
      )}
      <NoticeLine notice={notice} />
      <p>
        <Link to="/console">Go to the console</Link>
      </p>
    </article>
  );
}
