import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { waitFor } from './wait';

/**
 * A real SMTP server in the test process (smtp-server, loopback only) that keeps every mail
 * it receives, parsed by a real parser (mailparser). It can be stopped and started again on
 * the same port, to play an SMTP outage.
 */
export class MailCatcher {
  readonly mails: ParsedMail[] = [];
  private server?: SMTPServer;
  port = 0;

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      // A mailbox that does not exist, for the specs of permanent failures.
      onRcptTo: (address, _session, callback) => {
        if (address.address.startsWith('no-such-mailbox')) return callback(Object.assign(new Error('No such user here'), { responseCode: 550 }));
        callback();
      },
      onData: (stream, _session, callback) => {
        simpleParser(stream)
          .then((mail) => {
            this.mails.push(mail);
            callback();
          })
          .catch((error: Error) => callback(error));
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The mails sent to `to` so far (those that link to `page` only, if given). */
  to(to: string, page?: LinkPage): ParsedMail[] {
    return this.mails.filter((mail) => addressesOf(mail).includes(to) && (!page || (mail.text ?? '').includes(`/${page}#token=`)));
  }

  /** Waits for the `n`th mail to `to` that links to `page`, and returns it. */
  async nth(to: string, page: LinkPage, n = 1): Promise<ParsedMail> {
    await waitFor(`${page} mail #${n} to ${to}`, () => this.to(to, page).length >= n);
    return this.to(to, page)[n - 1];
  }
}

export function addressesOf(mail: ParsedMail): string[] {
  const to = Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : [];
  return to.flatMap((group) => group.value.map((address) => address.address ?? ''));
}

/** The token of the link in a mail's text (APP_URL/<page>#token=…), and the link itself. */
export type LinkPage = 'reset-password' | 'verify-email' | 'confirm-email' | 'accept-invite';

export function linkIn(mail: ParsedMail, page: LinkPage): { link: string; token: string } {
  const match = new RegExp(`(\\S+/${page}#token=([A-Za-z0-9_-]+))`).exec(mail.text ?? '');
  if (!match) throw new Error(`no ${page} link in the mail: ${mail.text}`);
  return { link: match[1], token: match[2] };
}

/**
 * A MailCatcher started before the app of `useApp` (declare this first): `env.SMTP_URL`
 * is filled in once it listens, so pass the same `env` object to useApp.
 */
export function useMailCatcher(env: Record<string, string>): MailCatcher {
  const catcher = new MailCatcher();
  beforeAll(async () => {
    await catcher.start();
    env.SMTP_URL = catcher.url;
  });
  afterAll(() => catcher.stop());
  return catcher;
}
