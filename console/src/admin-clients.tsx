import { useCallback, useEffect, useState } from 'preact/hooks';
import { call, type Client } from './api';
import type { ClientsDto, ClientSecretDto, CreatedClientDto } from './api-types';
import { Confirm, Field, NoticeLine, SecretBox, Submit, Table, useAction, when } from './ui';

/** A client in a button's name: names may repeat, client ids do not. */
const named = (c: Client) => `${c.name} (${c.clientId})`;

/** The secret just made (created or rotated), shown once: held here, in memory, until dismissed or the screen goes. */
interface Shown {
  name: string;
  clientId: string;
  secret: string;
  rotated: boolean;
}

/**
 * Admin: the services that accept our access tokens (API.md, "Services that accept our
 * access tokens"): create one (its secret shown once), rotate its secret, delete it.
 */
export function ClientsScreen() {
  const [clients, setClients] = useState<Client[] | null>(null);
  const [name, setName] = useState('');
  const [logoutUri, setLogoutUri] = useState('');
  const [shown, setShown] = useState<Shown | null>(null);
  const { run, busy, notice } = useAction();
  const load = useCallback(async () => setClients((await call<ClientsDto>('GET', '/admin/clients')).items), []);
  useEffect(() => void run(load), [run, load]);

  const create = () =>
    run(async () => {
      setShown(null);
      const uri = logoutUri.trim();
      const client = await call<CreatedClientDto>('POST', '/admin/clients', {
        name: name.trim(),
        ...(uri ? { backchannelLogoutUri: uri } : {}),
      });
      setShown({ name: client.name, clientId: client.clientId, secret: client.clientSecret, rotated: false });
      setName('');
      setLogoutUri('');
      await load();
      return `Client ${client.name} created.`;
    });
  const rotate = (client: Client) =>
    run(async () => {
      setShown(null);
      const { clientSecret } = await call<ClientSecretDto>('POST', `/admin/clients/${client.id}/secret`);
      setShown({ name: client.name, clientId: client.clientId, secret: clientSecret, rotated: true });
      return `${client.name} has a new secret.`;
    });
  const remove = (client: Client) =>
    run(async () => {
      await call('DELETE', `/admin/clients/${client.id}`);
      setShown((s) => (s?.clientId === client.clientId ? null : s));
      await load();
      return `Client ${client.name} deleted: its credentials no longer work.`;
    });

  return (
    <>
      <h1>Clients</h1>
      <p>
        A service that accepts our access tokens verifies them with the JWKS and signs in here as a client (HTTP Basic, <code>client_id:client_secret</code>) to
        introspect tokens and read the revocation feed. A client with a back-channel logout URI receives a logout token whenever one of its users' sessions
        ends.
      </p>
      <section aria-labelledby="new-client-heading">
        <h2 id="new-client-heading">New client</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void create();
          }}
        >
          <div class="grid">
            <Field
              label="Name"
              name="name"
              value={name}
              onInput={setName}
              required
              hint="For people reading this list and the audit log, e.g. billing-service."
            />
            <Field
              label="Back-channel logout URI (optional)"
              name="backchannelLogoutUri"
              type="url"
              value={logoutUri}
              onInput={setLogoutUri}
              hint="An http(s) URL of the service that receives OpenID Connect back-channel logout requests."
            />
          </div>
          <Submit busy={busy}>Create client</Submit>
        </form>
      </section>
      {shown && (
        <SecretBox title={`The secret of ${shown.name}`} label={`Client secret of ${shown.clientId}`} secret={shown.secret} onDone={() => setShown(null)}>
          Store it now in the service's configuration: it will not be shown again (the server keeps only its hash).
          {shown.rotated && ' The previous secret keeps working for 24 hours, time to deploy this one.'}
        </SecretBox>
      )}
      <NoticeLine notice={notice} />
      <section aria-labelledby="clients-heading">
        <h2 id="clients-heading">Clients</h2>
        {clients && clients.length === 0 && <p>No client yet.</p>}
        {clients && clients.length > 0 && (
          <Table caption="Clients" head={['Name', 'Client id', 'Back-channel logout URI', 'Created', '']}>
            {clients.map((c) => (
              <tr key={c.id}>
                <td>{c.name}</td>
                <td>
                  <code class="id">{c.clientId}</code>
                </td>
                <td class="wrap">{c.backchannelLogoutUri ?? '—'}</td>
                <td>{when(c.createdAt)}</td>
                <td>
                  <span class="actions">
                    <button type="button" class="secondary" disabled={busy} aria-label={`Rotate the secret of ${named(c)}`} onClick={() => void rotate(c)}>
                      Rotate secret
                    </button>
                    <Confirm action="Delete" what={named(c)} busy={busy} onConfirm={() => void remove(c)} />
                  </span>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </section>
    </>
  );
}
