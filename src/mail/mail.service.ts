import { Injectable, OnApplicationShutdown, ServiceUnavailableException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import ms from 'ms';
import type { AppConfig } from '../config/configuration';
import { DeliversOutbox, DeliveryError, type ClaimedDelivery, type DeliveryHandler } from '../outbox/delivery-handler';
import { OutboxRepository } from '../outbox/outbox.repository';
import { MailTemplates, type MailTemplate } from './mail-templates';
import { createMailTransport, type MailTransport } from './mail-transport';
import type { Tx } from '../database/tx';

export const MAIL_NOT_CONFIGURED = 'Mail is not configured on this server (SMTP_URL)';

/** The page each mail links to: APP_URL/<page>#token=… (a fragment: never sent to a server, never in a Referer). */
const LINK_PAGES: Record<Exclude<MailTemplate, 'security-notice'>, string> = {
  'password-reset': 'reset-password',
  'email-verification': 'verify-email',
  'email-change': 'confirm-email',
  invitation: 'accept-invite',
};

/** What a mail's outbox row holds until it is delivered (then the payload is cleared). */
type MailPayload = { template: keyof typeof LINK_PAGES; token: string; expiresIn: string } | { template: 'security-notice'; what: string };

declare module '../outbox/outbox-kinds' {
  interface OutboxKinds {
    /** A mail with a link (MailService): its payload holds the link's token until delivered. */
    mail: MailPayload;
  }
}

export interface LinkMail {
  template: keyof typeof LINK_PAGES;
  to: string;
  /** The account the mail concerns (null: none yet, an invitation): its deletion cancels the mail. */
  userId: string | null;
  /** The link's single-use token: only in the outbox row's payload, until delivery. */
  token: string;
  /** When the link expires: a mail not delivered by then is dropped. */
  expiresAt: Date;
  ttlSeconds: number;
}

/**
 * Mail (API.md, "Account recovery and email"). A mail is an outbox row written in the
 * transaction of the change that causes it (`enqueue`), so no request waits on SMTP and a
 * crash loses nothing; this service is also the outbox's handler of kind `mail`, which
 * renders the templates and sends through SMTP_URL (or, in development without it,
 * writes an .eml file). With mail off (no SMTP_URL outside development) nothing is sent.
 */
@Injectable()
@DeliversOutbox('mail')
export class MailService implements DeliveryHandler, OnApplicationShutdown {
  private readonly transport?: MailTransport;
  private readonly templates?: MailTemplates;
  private readonly appUrl: string;

  constructor(
    private readonly outbox: OutboxRepository,
    config: ConfigService<AppConfig, true>,
  ) {
    const mail = config.get('mail', { infer: true });
    this.transport = createMailTransport(mail, config.get('database.dataDir', { infer: true }));
    // Read (and checked) only when mail is on: with mail off nothing is rendered.
    if (this.transport) this.templates = new MailTemplates(mail.templatesDir);
    this.appUrl = config.get('app.url', { infer: true });
  }

  onApplicationShutdown(): void {
    this.transport?.close();
  }

  /** Whether mail is on (SMTP_URL, or development). */
  get enabled(): boolean {
    return this.transport !== undefined;
  }

  /** 503 when mail is off: for the routes that exist only to send a mail (forgot, resend). */
  assertEnabled(): void {
    if (!this.enabled) throw new ServiceUnavailableException(MAIL_NOT_CONFIGURED);
  }

  /** Writes the mail in `tx` (the change's transaction); the outbox delivers it after commit. */
  async enqueue(tx: Tx, mail: LinkMail): Promise<void> {
    const payload: MailPayload = { template: mail.template, token: mail.token, expiresIn: ms(mail.ttlSeconds * 1000, { long: true }) };
    await this.outbox.enqueue(tx, {
      kind: 'mail',
      target: mail.to,
      eventType: mail.template,
      payload: { ...payload },
      expiresAt: mail.expiresAt,
      userId: mail.userId ?? undefined,
    });
  }

  /**
   * A security notice to the account's owner (a second factor turned on or off, a recovery
   * code used…), in `tx`: sent only if the change commits. `what` is one sentence of facts,
   * never a secret. Nothing when mail is off. `userId`: the account, when the address is
   * not (or no longer) its current one; a deletion cancels the notices to the account's
   * address either way (AccountDeletionService).
   */
  async notify(tx: Tx, to: string, what: string, userId?: string): Promise<void> {
    if (!this.enabled) return;
    const payload: MailPayload = { template: 'security-notice', what };
    await this.outbox.enqueue(tx, { kind: 'mail', target: to, eventType: 'security-notice', payload: { ...payload }, userId });
  }

  async deliver(delivery: ClaimedDelivery): Promise<{ statusCode?: number }> {
    if (!this.transport || !this.templates) throw new DeliveryError('Mail is off on this instance (no SMTP_URL)');
    const payload = delivery.payload as MailPayload | null;
    if (payload?.template === 'security-notice') {
      const rendered = this.templates.render('security-notice', {
        link: this.appUrl,
        email: delivery.target,
        expiresIn: '',
        appUrl: this.appUrl,
        what: payload.what,
      });
      return this.transport.send({ ...rendered, to: delivery.target, link: this.appUrl, deliveryId: delivery.id });
    }
    if (!payload || !(payload.template in LINK_PAGES)) throw new DeliveryError('Not a mail this server knows', { permanent: true });
    const link = `${this.appUrl}/${LINK_PAGES[payload.template]}#token=${encodeURIComponent(payload.token)}`;
    const rendered = this.templates.render(payload.template, { link, email: delivery.target, expiresIn: payload.expiresIn, appUrl: this.appUrl, what: '' });
    return this.transport.send({ ...rendered, to: delivery.target, link, deliveryId: delivery.id });
  }
}
