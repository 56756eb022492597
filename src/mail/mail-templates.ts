import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { findUp } from '../common/find-up';

/** The mails the server sends; each has a subject, a text and an HTML template. */
export const MAIL_TEMPLATES = ['password-reset', 'email-verification', 'email-change', 'invitation', 'security-notice'] as const;
export type MailTemplate = (typeof MAIL_TEMPLATES)[number];

/** The templates shipped with the server (mail-templates/ at the repository root; the same from src/, dist/ and an example's build). */
export const SHIPPED_TEMPLATES_DIR = findUp('mail-templates', __dirname);

export interface MailValues {
  link: string;
  email: string;
  expiresIn: string;
  appUrl: string;
  /** A security notice's sentence (what changed on the account); empty in a link mail. */
  what?: string;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

type Compiled = { subject: HandlebarsTemplateDelegate; text: HandlebarsTemplateDelegate; html: HandlebarsTemplateDelegate };

/**
 * The mail templates, read and compiled once at start: a missing or broken file stops the
 * start with its name. A file in MAIL_TEMPLATES_DIR replaces the shipped one of the same
 * name. Values are HTML-escaped in the HTML body (Handlebars' `{{value}}`); the subject
 * and the text body are plain text, where escaping would only garble them.
 */
export class MailTemplates {
  private readonly compiled = new Map<MailTemplate, Compiled>();

  constructor(overrideDir?: string) {
    const handlebars = Handlebars.create();
    for (const name of MAIL_TEMPLATES) {
      const load = (suffix: string, escape: boolean) => {
        const override = overrideDir && join(overrideDir, `${name}.${suffix}`);
        const file = override && existsSync(override) ? override : join(SHIPPED_TEMPLATES_DIR, `${name}.${suffix}`);
        try {
          const template = handlebars.compile(readFileSync(file, 'utf8'), { noEscape: !escape, strict: true });
          // Compile now (Handlebars compiles lazily): a syntax error is found at start, not at the first mail.
          template({ link: '', email: '', expiresIn: '', appUrl: '', what: '' } satisfies MailValues);
          return template;
        } catch (error) {
          throw new Error(`Mail template ${file}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
        }
      };
      this.compiled.set(name, { subject: load('subject.txt', false), text: load('txt', false), html: load('html', true) });
    }
  }

  render(name: MailTemplate, values: MailValues): RenderedMail {
    const template = this.compiled.get(name);
    if (!template) throw new Error(`No mail template ${name}`);
    return { subject: template.subject(values).trim().replace(/\s+/g, ' '), text: template.text(values), html: template.html(values) };
  }
}
