import { useCallback, useEffect, useState } from 'preact/hooks';
import { call, type SigningKey } from './api';
import type { KeysDto, RotatedKeyDto } from './api-types';
import { NoticeLine, Table, useAction, when } from './ui';

/** Admin: the signing keys and their status; rotate; revoke a compromised key (after a confirmation). */
export function KeysScreen() {
  const [keys, setKeys] = useState<SigningKey[] | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const { run, busy, notice } = useAction();
  const load = useCallback(async () => setKeys((await call<KeysDto>('GET', '/admin/keys')).items), []);
  useEffect(() => void run(load), [run, load]);

  return (
    <>
      <h1>Signing keys</h1>
      <p>
        Access tokens are signed by the active key. A rotation publishes a new key at once and makes it sign after the lead time (SIGNING_KEY_LEAD): nobody is
        signed out. Revoke a key only if it was compromised: every token it signed is refused at once.
      </p>
      <div class="actions">
        <button
          type="button"
          aria-busy={busy}
          disabled={busy}
          onClick={() =>
            void run(async () => {
              const key = await call<RotatedKeyDto>('POST', '/admin/keys/rotate');
              await load();
              return `New key ${key.kid} published; it signs from ${when(key.activatesAt)}.`;
            })
          }
        >
          Rotate signing key
        </button>
      </div>
      <NoticeLine notice={notice} />
      {keys && (
        <Table caption="Signing keys" head={['Key id', 'Algorithm', 'Status', 'Created', 'Signs from', 'Retires', '']}>
          {keys.map((k) => (
            <tr key={k.kid}>
              <td>
                <code class="id">{k.kid}</code>
              </td>
              <td>{k.alg}</td>
              <td>
                <span class={k.status === 'active' ? 'badge' : 'badge muted'}>{k.status}</span>
              </td>
              <td>{when(k.createdAt)}</td>
              <td>{when(k.activatesAt)}</td>
              <td>{when(k.retiresAt)}</td>
              <td>
                {k.status !== 'revoked' && confirming !== k.kid && (
                  <button type="button" class="secondary" disabled={busy} aria-label={`Revoke key ${k.kid}`} onClick={() => setConfirming(k.kid)}>
                    Revoke…
                  </button>
                )}
                {confirming === k.kid && (
                  <span class="actions">
                    <button
                      type="button"
                      class="contrast"
                      disabled={busy}
                      aria-label={`Confirm: revoke key ${k.kid}`}
                      onClick={() =>
                        void run(async () => {
                          setConfirming(null);
                          await call('DELETE', `/admin/keys/${encodeURIComponent(k.kid)}`);
                          await load();
                          return `Key ${k.kid} revoked: its tokens are refused from now on.`;
                        })
                      }
                    >
                      Revoke now
                    </button>
                    <button type="button" class="secondary outline" onClick={() => setConfirming(null)}>
                      Cancel
                    </button>
                  </span>
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}
