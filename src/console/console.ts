import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppConfig } from '../config/configuration';

/**
 * The web console (API.md, "Console"): a static single-page app at /console, built from
 * console/ by `npm run build` (scripts/build-console.js) into this directory. It talks to
 * the API of this same server with the cookie transport, like any browser client.
 */
export const CONSOLE_BUILD_DIR = join(__dirname, '..', '..', 'dist', 'console-ui');

/**
 * The console's own Content-Security-Policy, stricter than the API's (whose Swagger UI
 * needs inline scripts and styles): scripts, styles and requests of this origin only, no
 * inline code of any kind, no plugins, no framing, no <base>, forms post nowhere else.
 * `data:` images are Pico CSS's icons (check marks, chevrons), drawn from its stylesheet.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** The pages mail links name (src/mail/mail.service.ts). */
const MAIL_LINK_PAGES = ['reset-password', 'verify-email', 'confirm-email', 'accept-invite'];

/** Settings the page must know before its first request, as <meta> tags (no inline script). */
const REGISTRATION_META = '%REGISTRATION%';

const NOT_BUILT = {
  statusCode: 503,
  message: 'The console is not built: run npm run build (npm start builds it when its sources changed)',
  error: 'Service Unavailable',
};

/**
 * Mounts the console at /console (nothing at all when CONSOLE_ENABLED=false: 404). Its
 * assets have content-hashed names, so they are cached for good; the page itself, which
 * carries the settings, is never cached (`no-store`, as every other answer).
 */
export async function serveConsole(app: NestFastifyApplication, config: AppConfig, dir = CONSOLE_BUILD_DIR): Promise<void> {
  if (!config.app.consoleEnabled) return;
  const registration = config.auth.registrationEnabled ? 'enabled' : 'disabled';
  await app.register(async (scope: FastifyInstance) => {
    scope.addHook('onSend', (_request, reply, payload, done) => {
      void reply.header('content-security-policy', CONSOLE_CSP);
      // No console address (a mail link's page included) leaves in a Referer; the link's
      // token is in the fragment, which a Referer never carries anyway.
      void reply.header('referrer-policy', 'no-referrer');
      done(null, payload);
    });
    await scope.register(fastifyStatic, {
      root: join(dir, 'assets'),
      prefix: '/console/assets/',
      decorateReply: false,
      index: false,
      immutable: true,
      maxAge: '365d',
    });
    // The page at /console and at every path under it (the app routes on the client:
    // /console/admin/users, the mail links /console/reset-password, /console/verify-email).
    const page = async (reply: FastifyReply) => {
      let html: string;
      try {
        html = await readFile(join(dir, 'index.html'), 'utf8');
      } catch {
        return reply.code(503).send(NOT_BUILT);
      }
      return reply.type('text/html; charset=utf-8').send(html.replaceAll(REGISTRATION_META, registration));
    };
    scope.get('/console', (_request, reply) => page(reply));
    scope.get('/console/*', (_request, reply) => page(reply));
    // Mails link to APP_URL/reset-password and APP_URL/verify-email (API.md). With APP_URL
    // the server's own origin (the default), those paths lead to the console's pages; the
    // browser keeps the #token fragment across the redirect, and it never reaches a server.
    for (const path of MAIL_LINK_PAGES) scope.get(`/${path}`, (_request, reply) => reply.redirect(`/console/${path}`, 302));
  });
}
