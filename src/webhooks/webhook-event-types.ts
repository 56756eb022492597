import type { AuditType } from '../audit/audit-types';

/**
 * The audit event types a webhook can receive (API.md, "Webhooks and back-channel logout"):
 * what ends or changes a user's access, and the account's milestones. The body of each is
 * `{ type, timestamp, data }`, `data` being the audit event as /admin/audit shows it.
 */
export const WEBHOOK_EVENT_TYPES = [
  'session.revoked',
  'user.logged_out_everywhere',
  'user.force_logged_out',
  'user.disabled',
  'user.enabled',
  'user.role_changed',
  'password.changed',
  'password.reset',
  'token.reuse_detected',
  'user.registered',
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
  'email.changed',
  'user.deleted',
  'user.invited',
] as const satisfies readonly AuditType[];

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
