import { useEffect, useState } from 'preact/hooks';
import { call, type AuditEvent, type Page } from './api';
import { Field, NoticeLine, Pager, ShortId, Submit, Table, useAction, when } from './ui';

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
  'key.rotated',
  'key.revoked',
];

/** Admin: the audit log, newest first, by user and by type (`?userId=` opens it filtered). */
export function AuditScreen() {
  const initial = new URLSearchParams(location.search);
  const [userId, setUserId] = useState(initial.get('userId') ?? '');
  const [type, setType] = useState(initial.get('type') ?? '');
  const [filters, setFilters] = useState({ userId, type });
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const [page, setPage] = useState<Page<AuditEvent> | null>(null);
  const { run, busy, notice } = useAction();

  const cursor = cursors[cursors.length - 1];
  useEffect(() => {
    const params = new URLSearchParams({ take: String(PAGE_SIZE) });
    if (filters.userId) params.set('userId', filters.userId);
    if (filters.type) params.set('type', filters.type);
    if (cursor) params.set('cursor', cursor);
    void run(async () => setPage(await call<Page<AuditEvent>>('GET', `/admin/audit?${params}`)));
  }, [filters, cursor, run]);

  return (
    <>
      <h1>Audit log</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const next = { userId: userId.trim(), type };
          setFilters(next);
          setCursors([null]);
          // The filters in the address, so that the view can be shared or reloaded.
          const query = new URLSearchParams(Object.entries(next).filter(([, v]) => v));
          history.replaceState(null, '', `${location.pathname}${query.size ? `?${query}` : ''}`);
        }}
      >
        <div class="grid">
          <Field label="User id" name="userId" value={userId} onInput={setUserId} hint="Events about this user (their id, from Users)." />
          <label>
            Event type
            <select name="type" value={type} onChange={(e) => setType((e.currentTarget as HTMLSelectElement).value)}>
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
        <Table caption="Audit events, newest first" head={['Time', 'Event', 'User', 'By', 'IP address', 'Details']}>
          {page.items.map((e) => (
            <tr key={e.id}>
              <td>{when(e.createdAt, true)}</td>
              <td>{e.type}</td>
              <td>{e.userId ? <ShortId id={e.userId} /> : '—'}</td>
              <td>{e.actorId ? e.actorId === e.userId ? 'the user' : <ShortId id={e.actorId} /> : '—'}</td>
              <td>{e.ip ?? '—'}</td>
              <td class="data">{e.data ? <code>{JSON.stringify(e.data)}</code> : '—'}</td>
            </tr>
          ))}
        </Table>
      )}
      <Pager
        busy={busy}
        hasPrevious={cursors.length > 1}
        hasNext={!!page?.nextCursor}
        onPrevious={() => setCursors((c) => c.slice(0, -1))}
        onNext={() => page?.nextCursor && setCursors((c) => [...c, page.nextCursor])}
      />
    </>
  );
}
