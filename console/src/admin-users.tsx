import { useCallback, useEffect, useState } from 'preact/hooks';
import { call, type Device, type Role, type User } from './api';
import type { UsersPageDto } from './api-types';
import { ResetSecondFactors } from './second-factors';
import { Invitations, UserLifecycle } from './account-lifecycle';
import { device, Link, NoticeLine, Pager, roleLabel, ROLES, Submit, Table, useAction, useCursors, when } from './ui';

const PAGE_SIZE = 20;

/** Admin: find users by email (any part, any case), page through them, manage one. */
export function UsersScreen({ me }: { me: User }) {
  const [query, setQuery] = useState('');
  const [search, setSearch] = useState('');
  const { cursor, query: pageQuery, first, pager } = useCursors(PAGE_SIZE);
  const [page, setPage] = useState<UsersPageDto | null>(null);
  const [selected, setSelected] = useState<User | null>(null);
  const { run, busy, notice } = useAction();

  useEffect(() => {
    void run(async () => setPage(await call<UsersPageDto>('GET', `/admin/users?${pageQuery({ email: search })}`)));
  }, [search, cursor, run]);

  const changed = useCallback((user: User) => {
    setSelected(user);
    setPage((p) => p && { ...p, items: p.items.map((u) => (u.id === user.id ? user : u)) });
  }, []);

  if (selected) return <UserDetail user={selected} me={me} onChange={changed} onClose={() => setSelected(null)} />;
  return (
    <>
      <h1>Users</h1>
      <form
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setSearch(query.trim());
          first();
        }}
      >
        <fieldset role="group">
          <input
            type="search"
            name="email"
            aria-label="Search users by email"
            placeholder="Search by email"
            value={query}
            onInput={(e) => setQuery(e.currentTarget.value)}
          />
          <button type="submit">Search</button>
        </fieldset>
      </form>
      <NoticeLine notice={notice} />
      {page && page.items.length === 0 && <p>No user matches.</p>}
      {page && page.items.length > 0 && (
        <Table caption="Users" head={['Email', 'Name', 'Role', 'Status', 'Created', '']}>
          {page.items.map((u) => (
            <tr key={u.id}>
              <td>{u.email}</td>
              <td>{u.name ?? '—'}</td>
              <td>{roleLabel(u.role)}</td>
              <td>{u.disabled ? <span class="badge muted">disabled</span> : 'active'}</td>
              <td>{when(u.createdAt)}</td>
              <td>
                <button type="button" class="secondary" aria-label={`Manage ${u.email}`} onClick={() => setSelected(u)}>
                  Manage
                </button>
              </td>
            </tr>
          ))}
        </Table>
      )}
      <Pager busy={busy} {...pager(page)} />
      <Invitations />
    </>
  );
}

/** One user: their sessions, force-logout, disable / enable, role. */
function UserDetail({ user, me, onChange, onClose }: { user: User; me: User; onChange(user: User): void; onClose(): void }) {
  const [sessions, setSessions] = useState<Device[] | null>(null);
  const [role, setRole] = useState<Role>(user.role);
  const { run, busy, notice } = useAction();
  const loadSessions = useCallback(async () => setSessions(await call<Device[]>('GET', `/admin/users/${user.id}/sessions`)), [user.id]);
  useEffect(() => void run(loadSessions), [run, loadSessions]);
  const update = (patch: { role?: Role; disabled?: boolean }, done: string) =>
    run(async () => {
      onChange(await call<User>('PATCH', `/admin/users/${user.id}`, patch));
      await loadSessions();
      return done;
    });
  const self = user.id === me.id;

  return (
    <>
      <p>
        <button type="button" class="link-button" onClick={onClose}>
          ← All users
        </button>
      </p>
      <h1>{user.email}</h1>
      <dl>
        <dt>Name</dt>
        <dd>{user.name ?? '—'}</dd>
        <dt>Status</dt>
        <dd>{user.disabled ? 'Disabled: cannot sign in' : 'Active'}</dd>
        <dt>Email</dt>
        <dd>{user.emailVerified ? 'verified' : 'not verified'}</dd>
        <dt>Created</dt>
        <dd>{when(user.createdAt)}</dd>
        <dt>User id</dt>
        <dd>
          <code class="id">{user.id}</code>
        </dd>
      </dl>
      <p>
        <Link to={`/console/admin/audit?userId=${encodeURIComponent(user.id)}`}>Audit log of this user</Link>
      </p>
      {self && <p>This is you: you cannot disable yourself or take away your own admin role.</p>}
      <NoticeLine notice={notice} />
      <section aria-labelledby="access-heading">
        <h2 id="access-heading">Access</h2>
        <div class="actions">
          <button
            type="button"
            class="secondary"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                await call('POST', `/admin/users/${user.id}/force-logout`);
                await loadSessions();
                return `${user.email} was signed out of every device.`;
              })
            }
          >
            Force logout
          </button>
          <ResetSecondFactors user={user} busy={busy} run={run} onDone={loadSessions} />
          {user.disabled ? (
            <button type="button" disabled={busy} onClick={() => void update({ disabled: false }, `${user.email} is enabled: they can sign in again.`)}>
              Enable user
            </button>
          ) : (
            <button
              type="button"
              class="contrast"
              disabled={busy || self}
              onClick={() => void update({ disabled: true }, `${user.email} is disabled and signed out everywhere.`)}
            >
              Disable user
            </button>
          )}
        </div>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void update({ role }, `${user.email} now has the role ${roleLabel(role)}.`);
          }}
        >
          <label for="role">Role</label>
          <fieldset role="group">
            <select id="role" name="role" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)} disabled={self}>
              {ROLES.map((r) => (
                <option value={r}>{roleLabel(r)}</option>
              ))}
            </select>
            <Submit busy={busy}>Change role</Submit>
          </fieldset>
        </form>
      </section>
      <UserLifecycle user={user} me={me} onDeleted={onClose} />
      <section aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">Sessions</h2>
        {sessions && sessions.length === 0 && <p>No active session.</p>}
        {sessions && sessions.length > 0 && (
          <Table caption={`Sessions of ${user.email}`} head={['Device', 'IP address', 'Signed in', 'Last active', '']}>
            {sessions.map((s) => (
              <tr key={s.id}>
                <td>{device(s.userAgent)}</td>
                <td>{s.ip ?? '—'}</td>
                <td>{when(s.createdAt)}</td>
                <td>{when(s.lastUsedAt)}</td>
                <td>
                  <button
                    type="button"
                    class="secondary"
                    disabled={busy}
                    aria-label={`End session: ${device(s.userAgent)}, ${s.ip ?? 'unknown address'}, signed in ${when(s.createdAt)}`}
                    onClick={() =>
                      void run(async () => {
                        await call('DELETE', `/admin/sessions/${s.id}`);
                        await loadSessions();
                        return 'Session ended.';
                      })
                    }
                  >
                    End session
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        )}
        <div class="actions">
          <button type="button" class="secondary" disabled={busy} onClick={() => void run(loadSessions)}>
            Reload sessions
          </button>
        </div>
      </section>
    </>
  );
}
