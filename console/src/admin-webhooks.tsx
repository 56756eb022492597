import { useCallback, useEffect, useState } from 'preact/hooks';
import { call, type Delivery, type Webhook } from './api';
import type { CreatedWebhookDto, DeliveryPageDto, WebhooksDto, WebhookSecretDto } from './api-types';
import { DeliveryTable } from './admin-outbox';
import { Confirm, Field, Link, NoticeLine, Pager, SecretBox, Submit, Table, useAction, useCursors, when } from './ui';

const PAGE_SIZE = 20;

type WebhookEvent = Webhook['events'][number];

/**
 * The audit event types a webhook can subscribe to (API.md, "Webhooks and back-channel
 * logout"), as the server's document lists them, each with its text: a type the server
 * adds does not compile here until it has one.
 */
const EVENT_TEXT: Record<WebhookEvent, string> = {
  'session.revoked': 'A session ended',
  'user.logged_out_everywhere': 'A user signed out everywhere',
  'user.force_logged_out': 'An admin signed a user out everywhere',
  'user.disabled': 'A user was disabled',
  'user.enabled': 'A user was enabled',
  'user.role_changed': 'A user’s role changed',
  'password.changed': 'A user changed their password',
  'password.reset': 'A password was reset by mail',
  'token.reuse_detected': 'A refresh token was reused (a possible theft)',
  'user.registered': 'A user signed up',
  'email.verified': 'An email address was verified',
  'mfa.enabled': 'Two-factor authentication was turned on',
  'mfa.disabled': 'Two-factor authentication was turned off',
  'mfa.recovery_codes_regenerated': 'New recovery codes were made',
  'mfa.recovery_code_used': 'A recovery code was used to sign in',
  'user.mfa_reset': "An admin removed a user's second factors",
  'passkey.added': 'A passkey was added',
  'passkey.removed': 'A passkey was removed',
  'identity.linked': 'Another provider was linked to an account',
  'identity.unlinked': 'Another provider was unlinked from an account',
  'email.changed': 'A user changed their email address',
  'user.deleted': 'An account was deleted',
  'user.invited': 'An admin invited someone',
};
const EVENTS = (Object.keys(EVENT_TEXT) as WebhookEvent[]).map((type) => ({ type, text: EVENT_TEXT[type] }));

/** The secret just made, shown once: held in the screen's memory until dismissed or the screen goes. */
interface Shown {
  url: string;
  secret: string;
  rotated: boolean;
}

function WebhookSecret({ shown, onDone }: { shown: Shown; onDone(): void }) {
  return (
    <SecretBox title={`The signing secret of ${shown.url}`} label="Webhook signing secret" secret={shown.secret} onDone={onDone}>
      The receiver checks the <code>webhook-signature</code> header of each delivery with it (Standard Webhooks). Store it now: it will not be shown again.
      {shown.rotated && ' For 24 hours deliveries are signed with the previous secret too, time to deploy this one.'}
    </SecretBox>
  );
}

/** The events to send: one labelled checkbox each, in a fieldset. */
function EventChoices({ chosen, onChange }: { chosen: WebhookEvent[]; onChange(events: WebhookEvent[]): void }) {
  return (
    <fieldset>
      <legend>Events</legend>
      <div class="checks">
        {EVENTS.map((e) => (
          <label key={e.type}>
            <input
              type="checkbox"
              name="events"
              value={e.type}
              checked={chosen.includes(e.type)}
              onChange={(ev) => {
                const on = ev.currentTarget.checked;
                onChange(EVENTS.map((x) => x.type).filter((t) => (t === e.type ? on : chosen.includes(t))));
              }}
            />
            <code>{e.type}</code> <small>{e.text}</small>
          </label>
        ))}
      </div>
      <div class="actions">
        <button type="button" class="secondary outline" onClick={() => onChange(EVENTS.map((e) => e.type))}>
          Every event
        </button>
        <button type="button" class="secondary outline" onClick={() => onChange([])}>
          No event
        </button>
      </div>
    </fieldset>
  );
}

/** Admin: webhook endpoints (create one, its secret shown once), and one endpoint's page with its deliveries. */
export function WebhooksScreen() {
  const [webhooks, setWebhooks] = useState<Webhook[] | null>(null);
  const [selected, setSelected] = useState<Webhook | null>(null);
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<WebhookEvent[]>([]);
  const [shown, setShown] = useState<Shown | null>(null);
  const { run, busy, notice, setNotice } = useAction();
  const load = useCallback(async () => setWebhooks((await call<WebhooksDto>('GET', '/admin/webhooks')).items), []);
  useEffect(() => void run(load), [run, load]);

  const create = () =>
    run(async () => {
      setShown(null);
      const text = description.trim();
      const created = await call<CreatedWebhookDto>('POST', '/admin/webhooks', { url: url.trim(), events, ...(text ? { description: text } : {}) });
      setShown({ url: created.url, secret: created.secret, rotated: false });
      setUrl('');
      setDescription('');
      setEvents([]);
      await load();
      return `Webhook endpoint ${created.url} created.`;
    });
  const changed = useCallback((webhook: Webhook) => {
    setSelected(webhook);
    setWebhooks((list) => list && list.map((w) => (w.id === webhook.id ? webhook : w)));
  }, []);
  const deleted = (webhook: Webhook) => {
    setSelected(null);
    setWebhooks((list) => list && list.filter((w) => w.id !== webhook.id));
    setNotice({ kind: 'status', text: `Webhook endpoint ${webhook.url} deleted.` });
  };

  if (selected) return <WebhookDetail webhook={selected} onChange={changed} onDeleted={deleted} onClose={() => setSelected(null)} />;
  return (
    <>
      <h1>Webhooks</h1>
      <p>
        Endpoints that receive the events they subscribe to, as signed HTTP requests (Standard Webhooks), through the{' '}
        <Link to="/console/admin/outbox">outbox</Link>: retried with backoff until the receiver answers 2xx; an answer 410 disables the endpoint.
      </p>
      <section aria-labelledby="new-webhook-heading">
        <h2 id="new-webhook-heading">New endpoint</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void create();
          }}
        >
          <div class="grid">
            <Field label="URL" name="url" type="url" value={url} onInput={setUrl} required hint="http(s); it receives POST requests." />
            <Field label="Description (optional)" name="description" value={description} onInput={setDescription} />
          </div>
          <EventChoices chosen={events} onChange={setEvents} />
          <Submit busy={busy}>Create endpoint</Submit>
        </form>
      </section>
      {shown && <WebhookSecret shown={shown} onDone={() => setShown(null)} />}
      <NoticeLine notice={notice} />
      <section aria-labelledby="webhooks-heading">
        <h2 id="webhooks-heading">Endpoints</h2>
        {webhooks && webhooks.length === 0 && <p>No webhook endpoint yet.</p>}
        {webhooks && webhooks.length > 0 && (
          <Table caption="Webhook endpoints" head={['URL', 'Events', 'Description', 'Status', 'Created', '']}>
            {webhooks.map((w) => (
              <tr key={w.id}>
                <td class="wrap">{w.url}</td>
                <td>{w.events.join(', ')}</td>
                <td>{w.description ?? '—'}</td>
                <td>{w.enabled ? 'enabled' : <span class="badge muted">disabled</span>}</td>
                <td>{when(w.createdAt)}</td>
                <td>
                  <button type="button" class="secondary" aria-label={`Manage ${w.url}`} onClick={() => setSelected(w)}>
                    Manage
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </section>
    </>
  );
}

/** One endpoint: enable / disable, its settings, rotate its secret, delete it; its deliveries, a failed one retried. */
function WebhookDetail({
  webhook,
  onChange,
  onDeleted,
  onClose,
}: {
  webhook: Webhook;
  onChange(w: Webhook): void;
  onDeleted(w: Webhook): void;
  onClose(): void;
}) {
  const [url, setUrl] = useState(webhook.url);
  const [description, setDescription] = useState(webhook.description ?? '');
  const [events, setEvents] = useState<WebhookEvent[]>(webhook.events);
  const [shown, setShown] = useState<Shown | null>(null);
  const { cursor, query, pager } = useCursors(PAGE_SIZE);
  const [deliveries, setDeliveries] = useState<DeliveryPageDto | null>(null);
  const { run, busy, notice } = useAction();

  const loadDeliveries = useCallback(async () => {
    setDeliveries(await call<DeliveryPageDto>('GET', `/admin/webhooks/${webhook.id}/deliveries?${query()}`));
  }, [webhook.id, cursor]);
  useEffect(() => void run(loadDeliveries), [run, loadDeliveries]);

  const update = (patch: Partial<Pick<Webhook, 'url' | 'events' | 'description' | 'enabled'>>, done: string) =>
    run(async () => {
      const updated = await call<Webhook | undefined>('PATCH', `/admin/webhooks/${webhook.id}`, patch);
      onChange(updated?.id ? updated : { ...webhook, ...patch });
      return done;
    });
  const rotate = () =>
    run(async () => {
      const { secret } = await call<WebhookSecretDto>('POST', `/admin/webhooks/${webhook.id}/secret`);
      setShown({ url: webhook.url, secret, rotated: true });
      return `${webhook.url} has a new signing secret.`;
    });
  const remove = () =>
    run(async () => {
      await call('DELETE', `/admin/webhooks/${webhook.id}`);
      onDeleted(webhook);
    });
  const retry = (d: Delivery) =>
    run(async () => {
      await call('POST', `/admin/webhooks/${webhook.id}/deliveries/${d.id}/retry`);
      await loadDeliveries();
      return `The ${d.eventType} delivery will be sent again.`;
    });

  return (
    <>
      <p>
        <button type="button" class="link-button" onClick={onClose}>
          ← All webhooks
        </button>
      </p>
      <h1>{webhook.url}</h1>
      <dl>
        <dt>Description</dt>
        <dd>{webhook.description ?? '—'}</dd>
        <dt>Status</dt>
        <dd>
          {webhook.enabled
            ? 'Enabled: receives its events'
            : `Disabled: receives nothing${webhook.disabledReason ? ` (${webhook.disabledReason})` : ''}. Enable it to receive its events again.`}
        </dd>
        <dt>Events</dt>
        <dd>{webhook.events.join(', ') || '—'}</dd>
        <dt>Created</dt>
        <dd>{when(webhook.createdAt)}</dd>
        <dt>Endpoint id</dt>
        <dd>
          <code class="id">{webhook.id}</code>
        </dd>
      </dl>
      {shown && <WebhookSecret shown={shown} onDone={() => setShown(null)} />}
      <NoticeLine notice={notice} />
      <section aria-labelledby="endpoint-heading">
        <h2 id="endpoint-heading">Endpoint</h2>
        <div class="actions">
          {webhook.enabled ? (
            <button
              type="button"
              class="contrast"
              disabled={busy}
              onClick={() => void update({ enabled: false }, `${webhook.url} is disabled: it receives nothing.`)}
            >
              Disable endpoint
            </button>
          ) : (
            <button type="button" disabled={busy} onClick={() => void update({ enabled: true }, `${webhook.url} is enabled.`)}>
              Enable endpoint
            </button>
          )}
          <button type="button" class="secondary" disabled={busy} onClick={() => void rotate()}>
            Rotate secret
          </button>
          <Confirm action="Delete" what={`endpoint ${webhook.url}`} busy={busy} onConfirm={() => void remove()} />
        </div>
      </section>
      <section aria-labelledby="settings-heading">
        <h2 id="settings-heading">Settings</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const text = description.trim();
            void update({ url: url.trim(), events, description: text ? text : null }, 'Changes saved.');
          }}
        >
          <div class="grid">
            <Field label="URL" name="url" type="url" value={url} onInput={setUrl} required />
            <Field label="Description (optional)" name="description" value={description} onInput={setDescription} />
          </div>
          <EventChoices chosen={events} onChange={setEvents} />
          <Submit busy={busy}>Save changes</Submit>
        </form>
      </section>
      <section aria-labelledby="deliveries-heading">
        <h2 id="deliveries-heading">Deliveries</h2>
        {deliveries && deliveries.items.length === 0 && <p>No delivery yet.</p>}
        {deliveries && deliveries.items.length > 0 && (
          <DeliveryTable
            caption={`Deliveries to ${webhook.url}`}
            items={deliveries.items}
            action={(d) =>
              d.status === 'failed' && (
                <button
                  type="button"
                  class="secondary"
                  disabled={busy}
                  aria-label={`Retry delivery ${d.id}: ${d.eventType}, ${when(d.createdAt, true)}`}
                  onClick={() => void retry(d)}
                >
                  Retry
                </button>
              )
            }
          />
        )}
        <div class="actions">
          <button type="button" class="secondary" disabled={busy} onClick={() => void run(loadDeliveries)}>
            Reload deliveries
          </button>
        </div>
        <Pager busy={busy} {...pager(deliveries)} />
      </section>
    </>
  );
}
