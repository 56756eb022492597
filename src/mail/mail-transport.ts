import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import nodemailer, { type Transporter } from 'nodemailer';
import { privateDir, privateTree, writePrivateFile } from '../common/private-files';
import type { AppConfig } from '../config/configuration';
import { DeliveryError } from '../outbox/delivery-handler';
import type { RenderedMail } from './mail-templates';

export interface OutgoingMail extends RenderedMail {
  to: string;
  /** Written into the development log line only (files mode). */
  link: string;
  /** The outbox row: the file name of a development mail. */
  deliveryId: bigint;
}

/** How a mail leaves: SMTP (SMTP_URL), or a file in DATA_DIR/mail (development). */
export interface MailTransport {
  send(mail: OutgoingMail): Promise<{ statusCode?: number }>;
  close(): void;
}

/**
 * SMTP_URL through nodemailer: `smtps://` is TLS from the first byte (port 465 by
 * default), `smtp://` upgrades with STARTTLS when the server offers it (nodemailer's
 * default; `?requireTLS=true` refuses a server that does not). Timeouts bound an attempt
 * well inside the outbox lease.
 */
class SmtpTransport implements MailTransport {
  private readonly transporter: Transporter;

  constructor(
    url: string,
    private readonly from: string,
  ) {
    this.transporter = nodemailer.createTransport({ url, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 });
  }

  async send(mail: OutgoingMail): Promise<{ statusCode?: number }> {
    try {
      const info = await this.transporter.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html });
      const code = Number(/^(\d{3})/.exec(String(info.response ?? ''))?.[1]);
      return { statusCode: Number.isFinite(code) ? code : undefined };
    } catch (error) {
      const e = error as { message?: string; responseCode?: number; code?: string };
      const statusCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
      // 5xx: the server refused this mail for good (no such mailbox, policy); 4xx and no answer: try again later.
      throw new DeliveryError(`SMTP: ${String(e.message ?? error).split('\n')[0]}`, { statusCode, permanent: statusCode !== undefined && statusCode >= 500 });
    }
  }

  close(): void {
    this.transporter.close();
  }
}

/**
 * Development without SMTP_URL: each mail is written as an RFC 822 message (`.eml`, opens
 * in any mail client) under DATA_DIR/mail, and its link is logged: the one log line that
 * holds a token, and only in development. The files hold those links too: owner-only,
 * and so are the mails an earlier version left readable, from the start.
 */
class FileTransport implements MailTransport {
  private readonly logger = new Logger('Mail');
  private readonly transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  private readonly dir: string;

  constructor(
    dataDir: string,
    private readonly from: string,
  ) {
    this.dir = join(dataDir, 'mail');
    privateDir(dataDir);
    privateTree(this.dir);
  }

  async send(mail: OutgoingMail): Promise<{ statusCode?: number }> {
    const info = await this.transporter.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html });
    privateDir(this.dir);
    const file = join(this.dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${mail.deliveryId}.eml`);
    writePrivateFile(file, info.message as Buffer);
    this.logger.log(`Mail to ${mail.to} (${mail.subject}) written to ${file} — link: ${mail.link}`);
    return {};
  }

  close(): void {
    this.transporter.close();
  }
}

/** The transport of the configured mode; undefined when mail is off. */
export function createMailTransport({ mode, smtpUrl, from }: AppConfig['mail'], dataDir: string): MailTransport | undefined {
  if (mode === 'smtp') return new SmtpTransport(smtpUrl!, from);
  if (mode === 'files') return new FileTransport(resolve(dataDir), from);
  return undefined;
}
