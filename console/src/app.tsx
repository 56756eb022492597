import { useEffect, useState } from 'preact/hooks';
import { onSession, restore, SESSION_ENDED, SessionEnded, signOut, type TokenResponse, type User } from './api';
import { Account } from './account';
import { AcceptInvite, ConfirmEmail } from './account-lifecycle';
import { AuditScreen } from './admin-audit';
import { ClientsScreen } from './admin-clients';
import { KeysScreen } from './admin-keys';
import { OutboxScreen } from './admin-outbox';
import { UsersScreen } from './admin-users';
import { WebhooksScreen } from './admin-webhooks';
import { ResetPassword, VerifyEmail } from './recovery';
import { ReauthDialog } from './second-factors';
import { SignIn } from './sign-in';
import { Link, NoticeLine, type Notice } from './ui';

type State = { status: 'loading' } | { status: 'signed-out'; notice: Notice | null } | { status: 'signed-in'; user: User };

/** The screens, by path under /console (the server serves this page for every one of them). */
const ADMIN_SCREENS: Record<string, { title: string; screen: (me: User) => preact.JSX.Element }> = {
  '/console/admin/users': { title: 'Users', screen: (me) => <UsersScreen me={me} /> },
  '/console/admin/audit': { title: 'Audit log', screen: () => <AuditScreen /> },
  '/console/admin/keys': { title: 'Signing keys', screen: () => <KeysScreen /> },
  '/console/admin/clients': { title: 'Clients', screen: () => <ClientsScreen /> },
  '/console/admin/webhooks': { title: 'Webhooks', screen: () => <WebhooksScreen /> },
  '/console/admin/outbox': { title: 'Outbox', screen: () => <OutboxScreen /> },
};
/** Pages that mails link to: public, whatever the session. */
const LINK_PAGES: Record<string, { title: string; page: () => preact.JSX.Element }> = {
  '/console/reset-password': { title: 'Set a new password', page: () => <ResetPassword /> },
  '/console/verify-email': { title: 'Verify your email address', page: () => <VerifyEmail /> },
  '/console/confirm-email': { title: 'Confirm your new email address', page: () => <ConfirmEmail /> },
  '/console/accept-invite': { title: 'Accept your invitation', page: () => <AcceptInvite /> },
};
const ACCOUNT = '/console';

function useLocation(): { path: string; search: string } {
  const read = () => ({ path: location.pathname.replace(/\/+$/, '') || '/', search: location.search });
  const [where, setWhere] = useState(read);
  useEffect(() => {
    const changed = () => setWhere(read());
    addEventListener('popstate', changed);
    return () => removeEventListener('popstate', changed);
  }, []);
  return where;
}

export function App() {
  const registration = document.querySelector('meta[name="registration"]')?.getAttribute('content') !== 'disabled';
  const { path, search } = useLocation();
  const linkPage = LINK_PAGES[path];
  const [state, setState] = useState<State>(linkPage ? { status: 'signed-out', notice: null } : { status: 'loading' });
  const [notice, setNotice] = useState<Notice | null>(null);

  useEffect(() => {
    // Everything the signed-in screens held goes with them: they are unmounted.
    onSession({
      ended: () => setState({ status: 'signed-out', notice: { kind: 'alert', text: SESSION_ENDED } }),
      user: (user) => setState((s) => (s.status === 'signed-in' ? { status: 'signed-in', user } : s)),
    });
    if (linkPage) return;
    // No cookie: the sign-in form alone. A cookie whose session has ended: `ended` above has said so.
    restore()
      .then((grant) => setState(grant ? { status: 'signed-in', user: grant.user } : { status: 'signed-out', notice: null }))
      .catch((error: Error) => {
        if (!(error instanceof SessionEnded)) setState({ status: 'signed-out', notice: { kind: 'alert', text: error.message } });
      });
  }, []);

  const title = linkPage?.title ?? ADMIN_SCREENS[path]?.title ?? (state.status === 'signed-in' ? 'My account' : 'Sign in');
  useEffect(() => {
    document.title = `${title} · Auth console`;
  }, [title]);

  const signedIn = (grant: TokenResponse) => {
    setNotice(null);
    setState({ status: 'signed-in', user: grant.user });
  };
  const leave = async (everywhere: boolean) => {
    setNotice(null);
    try {
      await signOut(everywhere ? '/auth/logout-all' : '/auth/logout');
      setState({ status: 'signed-out', notice: { kind: 'status', text: everywhere ? 'You are signed out on every device.' : 'You are signed out.' } });
    } catch (error) {
      if (!(error instanceof SessionEnded)) setNotice({ kind: 'alert', text: (error as Error).message });
    }
  };

  const user = state.status === 'signed-in' ? state.user : null;
  return (
    <>
      <header class="container">
        <nav aria-label="Console">
          <ul>
            <li>
              <strong>Auth console</strong>
            </li>
          </ul>
          {user && (
            <ul>
              <li>
                <Link to={ACCOUNT} current={path === ACCOUNT}>
                  My account
                </Link>
              </li>
              {user.role === 'ADMIN' &&
                Object.entries(ADMIN_SCREENS).map(([to, { title }]) => (
                  <li>
                    <Link to={to} current={path === to}>
                      {title}
                    </Link>
                  </li>
                ))}
              <li>
                <button type="button" class="secondary outline" onClick={() => void leave(false)} aria-label={`Sign out ${user.email}`}>
                  Sign out
                </button>
              </li>
            </ul>
          )}
        </nav>
      </header>
      <main class="container" key={`${path}${search}`}>
        <NoticeLine notice={notice} />
        {linkPage ? (
          linkPage.page()
        ) : state.status === 'loading' ? (
          <p aria-busy="true">Loading…</p>
        ) : state.status === 'signed-out' ? (
          <SignIn notice={state.notice} registration={registration} onSignedIn={signedIn} />
        ) : path === ACCOUNT ? (
          <Account
            user={state.user}
            onSignOut={leave}
            onDeleted={() => setState({ status: 'signed-out', notice: { kind: 'status', text: 'Your account was deleted.' } })}
          />
        ) : ADMIN_SCREENS[path] ? (
          state.user.role === 'ADMIN' ? (
            ADMIN_SCREENS[path].screen(state.user)
          ) : (
            <p role="alert" class="alert">
              This page is for administrators. <Link to={ACCOUNT}>Go to my account</Link>
            </p>
          )
        ) : (
          <>
            <h1>Page not found</h1>
            <p>
              <Link to={ACCOUNT}>Go to my account</Link>
            </p>
          </>
        )}
      </main>
      <ReauthDialog />
    </>
  );
}
