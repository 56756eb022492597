/**
 * The kinds of outbox rows, each with the payload its rows carry: an open registry. A
 * feature declares its kind in its own folder, by declaration merging —
 *
 *   declare module '../outbox/outbox-kinds' { interface OutboxKinds { mail: MailPayload } }
 *
 * — and delivers it with a provider marked `@DeliversOutbox('mail')` (delivery-handler.ts):
 * src/mail/mail.service.ts, src/webhooks/webhook-delivery.ts, src/clients/backchannel-logout.ts.
 * The column is text, so a new kind needs no migration; the admin API's filter lists the
 * kinds it accepts (src/admin/dto/outbox.dto.ts: the compiler checks the list is complete).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface OutboxKinds {}

export type OutboxKind = Extract<keyof OutboxKinds, string>;
