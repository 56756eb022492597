import { useEffect, useState } from 'preact/hooks';
import { call } from './api';
import type { AuditPageDto } from './api-types';
import { Field, NoticeLine, Pager, Person, showFilters, Submit, Table, useAction, useCursors, when } from './ui';

const PAGE_SIZE = 50;

/** The types the server writes (API.md, "Admin"); the filter also takes any other. */
const TYPES = [
  'user.registered',
  'login.succeeded',
  'login.failed',
  'token.refreshed',
  'token.reuse_detected',
  'session.revoked',
  'user.logged_out_everywhere',
  'user.force_logged_out',
  'user.role_changed',
  'user.disabled',
  'user.enabled',
  'password.changed',
  'password.reset',
  'email.verified',
  'mfa.enabled',
  'mfa.disabled',
  'mfa.recovery_codes_regenerated',
  'mfa.recovery_code_used',
  'user.mfa_reset',
  'passkey.added',
  'passkey.removed',
  'identity.linked',
  'identity.unlinked',
  'email.change_requested',
  'email.changed',
  'user.deleted',
  'user.invited',
  'invitation.revoked',
  'key.rotated',
  'key.revoked',
];

/** Admin: the audit log, newest first, by user and by type (`?userId=` opens it filtered). */
export function AuditScreen() {
  const initial = new URLSearchParams(location.search);
  const [userId, setUserId] = useState(initial.get('userId') ?? '');
  const [type, setType] = useState(initial.get('type') ?? '');
  const [filters, setFilters] = useState({ userId, type });
  const { cursor, query, first, pager } = useCursors(PAGE_SIZE);
  const [page, setPage] = useState<AuditPageDto | null>(null);
  const { run, busy, notice } = useAction();

  useEffect(() => {
    void run(async () => setPage(await call<AuditPageDto>('GET', `/admin/audit?${query(filters)}`)));
  }, [filters, cursor, run]);

  return (
    <>
      <h1>Audit log</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const next = { userId: userId.trim(), type };
          setFilters(next);
          first();
          showFilters(next);
        }}
      >
        <div class="grid">
          <Field label="User id" name="userId" value={userId} onInput={setUserId} hint="Events about this user (their id, from Users)." />
          <label>
            Event type
            <select name="type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
              <option value="">Any type</option>
              {TYPES.map((t) => (
                <option value={t}>{t}</option>
              ))}
            </select>
          </label>
        </div>
        <Submit busy={busy}>Show events</Submit>
      </form>
      <NoticeLine notice={notice} />
      {page && page.items.length === 0 && <p>No event matches.</p>}
      {page && page.items.length > 0 && (
        <Table caption="Audit events, newest first" head={['Time', 'Event', 'User', 'By', 'IP address', 'Details']} dense>
          {page.items.map((e) => (
            <tr key={e.id}>
              <td class="time">{when(e.createdAt, true)}</td>
              <td>{e.type}</td>
              <td>{e.userId ? <Person id={e.userId} email={e.userEmail} /> : '—'}</td>
              <td>{e.actorId ? e.actorId === e.userId ? <span class="nowrap">the user</span> : <Person id={e.actorId} email={e.actorEmail} /> : '—'}</td>
              <td>{e.ip ?? '—'}</td>
              <td class="data">{e.data ? <code>{JSON.stringify(e.data)}</code> : '—'}</td>
            </tr>
          ))}
        </Table>
      )}
      <Pager busy={busy} {...pager(page)} />
    </>
  );
}
