import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { AdminBootstrap } from './admin/first-admin/admin-bootstrap';
import { createApp } from './app.factory';
import { stopGracefullyOnSignals } from './common/graceful-stop';
import { createRootLogger } from './common/logging';
import { ConfigValidationError, validateEnv, type AppConfig } from './config/configuration';
import type { Database } from './database/database';
import { DATABASE } from './database/database.constants';

async function bootstrap(): Promise<void> {
  try {
    process.loadEnvFile?.();
  } catch {
    // No .env file: the environment alone configures the server.
  }
  let config;
  try {
    config = validateEnv(process.env);
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createRootLogger(config);
  let app: NestFastifyApplication | undefined;
  try {
    app = await createApp(config, { logger });
    await app.init();
  } catch (error) {
    // Its message says what went wrong and what to do (an unreachable database, a
    // migration refused, DATA_DIR in use, a weak ADMIN_PASSWORD…); Nest's report of
    // it, with the stack, is at LOG_LEVEL=debug.
    await app?.close().catch(() => undefined);
    return exitWith(logger, error instanceof Error ? error.message : String(error));
  }
  stopGracefullyOnSignals(app);
  const { host, port } = config.app;
  try {
    await app.listen({ port, host });
  } catch (error) {
    await app.close().catch(() => undefined);
    return exitWith(logger, cannotListen(error as NodeJS.ErrnoException, host, port));
  }
  logger.info(startedLine(app, config));
}

/**
 * The one line a person starting the server wants: where it answers, the API docs, the console, which
 * database (DATABASE_URL's host, port and name, never its credentials), and the admin
 * that ADMIN_EMAIL created at this start.
 */
function startedLine(app: NestFastifyApplication, config: AppConfig): string {
  const { port } = app.getHttpServer().address() as AddressInfo;
  // Every interface: localhost is one of them, and a URL a browser opens.
  const host = ['0.0.0.0', '::'].includes(config.app.host) ? 'localhost' : config.app.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const parts = [`Listening on ${url}`, `docs ${url}/docs`];
  if (config.app.consoleEnabled) parts.push(`console ${url}/console`);
  parts.push(`database: ${app.get<Database>(DATABASE).description}`);
  const admin = app.get(AdminBootstrap).created;
  if (admin) parts.push(`admin created: ${admin}`);
  return parts.join(' — ');
}

/** A failed listen in one line, with what to change. */
function cannotListen(error: NodeJS.ErrnoException, host: string, port: number): string {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const reasons: Record<string, string> = {
    EADDRINUSE: 'the port is in use (EADDRINUSE). Stop the other process or set PORT.',
    EACCES: 'permission denied (EACCES): ports below 1024 need privileges. Set PORT to 1024 or above.',
    EADDRNOTAVAIL: 'no interface of this machine has that address (EADDRNOTAVAIL). Set HOST to one of its addresses, or 0.0.0.0 for all.',
    ENOTFOUND: 'HOST is not a name this machine can resolve (ENOTFOUND). Set HOST to one of its addresses, or 0.0.0.0 for all.',
    EAI_AGAIN: 'HOST could not be resolved (EAI_AGAIN). Set HOST to one of its addresses, or 0.0.0.0 for all.',
  };
  return `Cannot listen on ${where}: ${reasons[error.code ?? ''] ?? error.message}`;
}

/** One line through the logger (JSON, or readable on a terminal), then exit 1. */
function exitWith(logger: Logger, message: string): never {
  logger.fatal(message);
  process.exit(1);
}

bootstrap().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
