import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, call, profile, publicCall, type Device, type User } from './api';
import { Passkeys } from './passkeys';
import { TwoFactor } from './second-factors';
import { LinkedProviders } from './providers';
import { ChangeEmail, DeleteAccount } from './account-lifecycle';
import { device, Field, NoticeLine, roleLabel, Submit, Table, useAction, when } from './ui';

/** Signed in: who I am, my devices (this one marked), ending them, my password. */
export function Account({ user, onSignOut, onDeleted }: { user: User; onSignOut(everywhere: boolean): Promise<void>; onDeleted(): void }) {
  return (
    <>
      <h1>My account</h1>
      <Profile user={user} />
      <Devices onSignOut={onSignOut} />
      <Passkeys />
      <LinkedProviders />
      <ChangePassword />
      <TwoFactor />
      <ChangeEmail user={user} />
      <DeleteAccount onDeleted={onDeleted} />
    </>
  );
}

function Profile({ user }: { user: User }) {
  const { run, busy, notice } = useAction();
  return (
    <section aria-labelledby="profile-heading">
      <h2 id="profile-heading">Profile</h2>
      <dl>
        <dt>Email</dt>
        <dd>
          {user.email} {user.emailVerified ? <span class="badge muted">verified</span> : <span class="badge muted">not verified</span>}
        </dd>
        {user.name && (
          <>
            <dt>Name</dt>
            <dd>{user.name}</dd>
          </>
        )}
        <dt>Role</dt>
        <dd>{roleLabel(user.role)}</dd>
        <dt>Member since</dt>
        <dd>{when(user.createdAt)}</dd>
      </dl>
      {!user.emailVerified && (
        <div class="actions">
          <button
            type="button"
            class="secondary"
            aria-busy={busy}
            disabled={busy}
            onClick={() =>
              void run(async () => {
                await publicCall('POST', '/auth/email/verify/resend', { email: user.email });
                return `A verification link is on its way to ${user.email}.`;
              })
            }
          >
            Send verification email
          </button>
        </div>
      )}
      <NoticeLine notice={notice} />
    </section>
  );
}

function Devices({ onSignOut }: { onSignOut(everywhere: boolean): Promise<void> }) {
  const [devices, setDevices] = useState<Device[] | null>(null);
  const { run, busy, notice } = useAction();
  // The profile with the devices: a role given or taken, an email verified, show as well.
  const load = useCallback(() => run(async () => setDevices((await Promise.all([call<Device[]>('GET', '/auth/sessions'), profile()]))[0])), [run]);
  useEffect(() => void load(), [load]);
  // Back to this tab: show what is true now (and notice a session ended meanwhile).
  useEffect(() => {
    const onVisible = () => document.visibilityState === 'visible' && void load();
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [load]);

  const others = devices?.filter((d) => !d.current) ?? [];
  const end = (d: Device) =>
    run(async () => {
      await call('DELETE', `/auth/sessions/${d.id}`);
      setDevices(await call<Device[]>('GET', '/auth/sessions'));
      return `Signed out ${device(d.userAgent)}.`;
    });
  const endOthers = () =>
    run(async () => {
      for (const d of others) {
        // Gone already (it expired, or was ended meanwhile): that is what was wanted.
        await call('DELETE', `/auth/sessions/${d.id}`).catch((error: unknown) => {
          if (!(error instanceof ApiError && error.status === 404)) throw error;
        });
      }
      setDevices(await call<Device[]>('GET', '/auth/sessions'));
      return 'Every other device is signed out.';
    });

  return (
    <section aria-labelledby="devices-heading">
      <h2 id="devices-heading">My devices</h2>
      <p>Where your account is signed in now. Sign out any device you do not recognise, then change your password.</p>
      {devices && (
        <Table caption="My devices" head={['Device', 'IP address', 'Signed in', 'Last active', '']}>
          {devices.map((d) => (
            <tr key={d.id}>
              <td>
                {device(d.userAgent)} {d.current && <span class="badge">This device</span>}
              </td>
              <td>{d.ip ?? '—'}</td>
              <td>{when(d.createdAt)}</td>
              <td>{when(d.lastUsedAt)}</td>
              <td>
                {d.current ? (
                  <button type="button" class="secondary outline" disabled={busy} onClick={() => void onSignOut(false)}>
                    Sign out
                  </button>
                ) : (
                  <button
                    type="button"
                    class="secondary"
                    disabled={busy}
                    aria-label={`Sign out ${device(d.userAgent)}, ${d.ip ?? 'unknown address'}, signed in ${when(d.createdAt)}`}
                    onClick={() => void end(d)}
                  >
                    Sign out
                  </button>
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
      <NoticeLine notice={notice} />
      <div class="actions">
        <button type="button" class="secondary" disabled={busy} onClick={() => void load()}>
          Reload devices
        </button>
        <button type="button" class="secondary" disabled={busy || others.length === 0} onClick={() => void endOthers()}>
          Sign out all other devices
        </button>
        <button type="button" class="contrast" disabled={busy} onClick={() => void onSignOut(true)}>
          Sign out everywhere
        </button>
      </div>
    </section>
  );
}

function ChangePassword() {
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const { run, busy, notice } = useAction();
  return (
    <section aria-labelledby="password-heading">
      <h2 id="password-heading">Change password</h2>
      <form
        method="post"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            await call('POST', '/auth/password', { currentPassword, newPassword });
            setCurrent('');
            setNew('');
            return 'Password changed. Every other device was signed out.';
          });
        }}
      >
        <Field
          label="Current password"
          name="current-password"
          type="password"
          value={currentPassword}
          onInput={setCurrent}
          autocomplete="current-password"
          required
        />
        <Field
          label="New password"
          name="new-password"
          type="password"
          value={newPassword}
          onInput={setNew}
          autocomplete="new-password"
          minLength={8}
          required
          hint="At least 8 characters. Every other device is signed out."
        />
        <NoticeLine notice={notice} />
        <Submit busy={busy}>Change password</Submit>
      </form>
    </section>
  );
}
