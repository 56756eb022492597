import { useCallback, useEffect, useState } from 'preact/hooks';
import { call, deleteAccount, publicCall, signIn, type Role, type User } from './api';
import type { InvitationDto, PendingInvitationDto } from './api-types';
import { useLinkToken } from './recovery';
import { Confirm, Field, NoticeLine, roleLabel, ROLES, Submit, Table, useAction, when } from './ui';

/**
 * The account's whole life in the console (API.md, "Account lifecycle"): changing the email
 * and deleting the account (both routes want a recent authentication: on an old sign-in
 * api.ts's re-authentication prompt asks the person to confirm it is them), the pages their mails link to, and an admin's reset mail, deletion and
 * invitations.
 */

const NO_TOKEN = 'This page needs the link from your email: open it again from the email (the whole link).';

/** My account: a new address, confirmed by a link sent to it; the current one is told. */
export function ChangeEmail({ user }: { user: User }) {
  const [newEmail, setNewEmail] = useState('');
  const { run, busy, notice } = useAction();
  return (
    <section aria-labelledby="email-heading">
      <h2 id="email-heading">Change email address</h2>
      <form
        method="post"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            await call('POST', '/auth/email/change', { newEmail });
            return `A confirmation link is on its way to ${newEmail.trim()}. Your address stays ${user.email} until you open it.`;
          });
        }}
      >
        <Field
          label="New email address"
          name="new-email"
          type="email"
          value={newEmail}
          onInput={setNewEmail}
          autocomplete="email"
          required
          hint={`We send a link to the new address and tell ${user.email}. Opening the link signs out every other device.`}
        />
        <NoticeLine notice={notice} />
        <Submit busy={busy}>Send confirmation link</Submit>
      </form>
    </section>
  );
}

/** My account: gone for good, after a confirmation that says what is lost (and a recent sign-in). */
export function DeleteAccount({ onDeleted }: { onDeleted(): void }) {
  const { run, busy, notice } = useAction();
  return (
    <section aria-labelledby="delete-heading">
      <h2 id="delete-heading">Delete my account</h2>
      <p>
        Deleting your account signs you out on every device and removes your sessions, your second factors and your linked sign-ins. It cannot be undone: you
        would have to sign up again, as a new account.
      </p>
      <NoticeLine notice={notice} />
      <div class="actions">
        <Confirm
          action="Delete"
          what="my account and everything in it, for good"
          busy={busy}
          onConfirm={() =>
            void run(async () => {
              await deleteAccount();
              onDeleted();
            })
          }
        />
      </div>
    </section>
  );
}

/** /console/confirm-email: the link of an email change, submitted only when the person presses the button. */
export function ConfirmEmail() {
  const token = useLinkToken();
  const [done, setDone] = useState(false);
  const { run, busy, notice } = useAction();
  return (
    <article>
      <h1>Confirm your new email address</h1>
      {!token && (
        <p role="alert" class="alert">
          {NO_TOKEN}
        </p>
      )}
      {token && !done && (
        <>
          <p>Your account moves to this address. Every other device signed in to it is signed out.</p>
          <button
            type="button"
            aria-busy={busy}
            disabled={busy}
            onClick={() =>
              void run(async () => {
                await publicCall('POST', '/auth/email/change/confirm', { token });
                setDone(true);
                return 'Your email address was changed and is verified.';
              })
            }
          >
            Confirm my new address
          </button>
        </>
      )}
      <NoticeLine notice={notice} />
      <p>
        {/* A page load, not an in-app link: it restores the session this browser may hold. */}
        <a href="/console">Go to the console</a>
      </p>
    </article>
  );
}

/** /console/accept-invite: choose a password; the account opens signed in. */
export function AcceptInvite() {
  const token = useLinkToken();
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const { run, busy, notice } = useAction();
  return (
    <article>
      <h1>Accept your invitation</h1>
      {!token && (
        <p role="alert" class="alert">
          {NO_TOKEN}
        </p>
      )}
      {token && (
        <form
          method="post"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              await signIn('/auth/invitations/accept', { token, password, ...(name.trim() ? { name: name.trim() } : {}) });
              // A fresh page load restores the session this browser now holds (its cookie).
              location.assign('/console');
            });
          }}
        >
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
            hint="At least 8 characters."
          />
          <NoticeLine notice={notice} />
          <Submit busy={busy}>Create my account</Submit>
        </form>
      )}
    </article>
  );
}

/** Admin, one user: send a reset mail, delete the account. */
export function UserLifecycle({ user, me, onDeleted }: { user: User; me: User; onDeleted(): void }) {
  const { run, busy, notice } = useAction();
  return (
    <section aria-labelledby="lifecycle-heading">
      <h2 id="lifecycle-heading">Account</h2>
      <NoticeLine notice={notice} />
      <div class="actions">
        <button
          type="button"
          class="secondary"
          disabled={busy}
          onClick={() =>
            void run(async () => {
              await call('POST', `/admin/users/${user.id}/password-reset`);
              return `A reset link is on its way to ${user.email}. Nothing changes until they use it.`;
            })
          }
        >
          Send reset mail
        </button>
        <Confirm
          action="Delete"
          what={`the account of ${user.email}, with its sessions and factors, for good`}
          busy={busy || user.id === me.id}
          onConfirm={() =>
            void run(async () => {
              await call('DELETE', `/admin/users/${user.id}`);
              onDeleted();
            })
          }
        />
      </div>
    </section>
  );
}

/** Admin, on the Users screen: invite people (with a role), see the pending invitations, revoke one. */
export function Invitations() {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('USER');
  const [invitations, setInvitations] = useState<PendingInvitationDto[] | null>(null);
  const { run, busy, notice } = useAction();
  const load = useCallback(async () => setInvitations(await call<PendingInvitationDto[]>('GET', '/admin/invitations')), []);
  useEffect(() => void run(load), [run, load]);
  return (
    <section aria-labelledby="invitations-heading">
      <h2 id="invitations-heading">Invitations</h2>
      <form
        method="post"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            const invited = await call<InvitationDto>('POST', '/admin/invitations', { email, role });
            setEmail('');
            await load();
            return `${invited.email} is invited as ${roleLabel(invited.role)} until ${when(invited.expiresAt)}.`;
          });
        }}
      >
        <Field label="Email address" name="invite-email" type="email" value={email} onInput={setEmail} required />
        <label for="invite-role">Role</label>
        <fieldset role="group">
          <select id="invite-role" name="role" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            {ROLES.map((r) => (
              <option value={r}>{roleLabel(r)}</option>
            ))}
          </select>
          <Submit busy={busy}>Invite</Submit>
        </fieldset>
      </form>
      <NoticeLine notice={notice} />
      {invitations && invitations.length === 0 && <p>No pending invitation.</p>}
      {invitations && invitations.length > 0 && (
        <Table caption="Pending invitations" head={['Email', 'Role', 'Sent', 'Expires', '']}>
          {invitations.map((i) => (
            <tr key={i.id}>
              <td>{i.email}</td>
              <td>{roleLabel(i.role)}</td>
              <td>{when(i.createdAt)}</td>
              <td>{when(i.expiresAt)}</td>
              <td>
                <Confirm
                  action="Revoke"
                  what={`the invitation of ${i.email}`}
                  busy={busy}
                  onConfirm={() =>
                    void run(async () => {
                      await call('DELETE', `/admin/invitations/${i.id}`);
                      await load();
                      return `The invitation of ${i.email} no longer works.`;
                    })
                  }
                />
              </td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
