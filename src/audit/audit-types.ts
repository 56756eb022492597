/**
 * Every audit event type the server writes (API.md, "Audit event types"): an open
 * registry, type → `true`. The accounts' own are here; a feature declares its types in its
 * own folder, by declaration merging —
 *
 *   declare module '../audit/audit-types' { interface AuditTypes { 'client.created': true } }
 *
 * (src/clients/clients.service.ts, src/webhooks/webhooks.service.ts,
 * src/auth/keys/key-rotation.ts). The `type` column is text: no migration.
 */
export interface AuditTypes {
  'user.registered': true;
  'login.succeeded': true;
  'login.failed': true;
  'token.refreshed': true;
  'token.reuse_detected': true;
  'session.revoked': true;
  'user.logged_out_everywhere': true;
  'user.force_logged_out': true;
  'user.role_changed': true;
  'user.disabled': true;
  'user.enabled': true;
  'password.changed': true;
  'password.reset_requested': true;
  'password.reset': true;
  'email.verified': true;
}

export type AuditType = Extract<keyof AuditTypes, string>;
