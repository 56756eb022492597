import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { call, type Delivery, type DeliveryKind, type DeliveryStatus } from './api';
import type { DeliveryPageDto } from './api-types';
import { NoticeLine, Pager, showFilters, Submit, Table, useAction, useCursors, when } from './ui';

const PAGE_SIZE = 50;
const KINDS: Array<{ value: DeliveryKind; text: string }> = [
  { value: 'webhook', text: 'Webhook' },
  { value: 'backchannel', text: 'Back-channel logout' },
  { value: 'mail', text: 'Mail' },
];
const STATUSES: DeliveryStatus[] = ['pending', 'delivered', 'failed'];

export function StatusBadge({ status }: { status: DeliveryStatus }) {
  return <span class={status === 'delivered' ? 'badge' : status === 'failed' ? 'badge failed' : 'badge muted'}>{status}</span>;
}

/** The receiver's last answer: its status code (HTTP, SMTP), and the error if any (which often names the code already). */
function lastAnswer({ lastStatusCode: code, lastError: error }: Delivery): string {
  if (!error) return code === null ? '—' : String(code);
  return code === null || error.includes(String(code)) ? error : `${code} · ${error}`;
}

/**
 * Deliveries, newest first: when, what, its status, attempts, the last answer, the next
 * attempt. `withTarget` adds the kind and the target (the outbox mixes them); `action`
 * fills a last column (a webhook's Retry).
 */
export function DeliveryTable({
  caption,
  items,
  withTarget,
  action,
}: {
  caption: string;
  items: Delivery[];
  withTarget?: boolean;
  action?(d: Delivery): ComponentChildren;
}) {
  const head = ['Created', ...(withTarget ? ['Kind', 'Target'] : []), 'Event', 'Status', 'Attempts', 'Last answer', 'Next attempt', ...(action ? [''] : [])];
  return (
    <Table caption={caption} head={head} dense>
      {items.map((d) => (
        <tr key={d.id}>
          <td class="time">{when(d.createdAt, true)}</td>
          {withTarget && <td>{KINDS.find((k) => k.value === d.kind)?.text ?? d.kind}</td>}
          {withTarget && <td class="wrap">{d.target}</td>}
          <td>{d.eventType}</td>
          <td>
            <StatusBadge status={d.status} />
          </td>
          <td>{d.attempts}</td>
          <td class="wrap">{lastAnswer(d)}</td>
          <td class="time">{when(d.nextAttemptAt, true)}</td>
          {action && <td>{action(d)}</td>}
        </tr>
      ))}
    </Table>
  );
}

/** Admin: every outbound delivery (webhooks, back-channel logouts, mails), newest first, by kind and status. */
export function OutboxScreen() {
  const initial = new URLSearchParams(location.search);
  const [kind, setKind] = useState(initial.get('kind') ?? '');
  const [status, setStatus] = useState(initial.get('status') ?? '');
  const [filters, setFilters] = useState({ kind, status });
  const { cursor, query, first, pager } = useCursors(PAGE_SIZE);
  const [page, setPage] = useState<DeliveryPageDto | null>(null);
  const { run, busy, notice } = useAction();

  // A new filters object (each "Show deliveries") loads again, from the first page.
  useEffect(() => {
    void run(async () => setPage(await call<DeliveryPageDto>('GET', `/admin/outbox?${query(filters)}`)));
  }, [filters, cursor, run]);

  return (
    <>
      <h1>Outbox</h1>
      <p>
        Every message this server sends — webhooks, back-channel logouts, mails — is written here with the change it reports, then delivered by a worker that
        retries with backoff (<code>OUTBOX_RETRY_SCHEDULE</code>). After the last attempt a delivery is failed. Bodies and tokens are never shown.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const next = { kind, status };
          setFilters(next);
          first();
          showFilters(next);
        }}
      >
        <div class="grid">
          <label>
            Kind
            <select name="kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
              <option value="">Any kind</option>
              {KINDS.map((k) => (
                <option value={k.value}>{k.text}</option>
              ))}
            </select>
          </label>
          <label>
            Status
            <select name="status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
              <option value="">Any status</option>
              {STATUSES.map((s) => (
                <option value={s}>{s}</option>
              ))}
            </select>
          </label>
        </div>
        <Submit busy={busy}>Show deliveries</Submit>
      </form>
      <NoticeLine notice={notice} />
      {page && page.items.length === 0 && <p>No delivery matches.</p>}
      {page && page.items.length > 0 && <DeliveryTable caption="Outbox deliveries, newest first" items={page.items} withTarget />}
      <Pager busy={busy} {...pager(page)} />
    </>
  );
}
