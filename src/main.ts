import type { Server, ServerResponse } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from './app.factory';
import { ConfigValidationError, validateEnv } from './config/configuration';

/** The signals a process manager (systemd, Docker, Kubernetes) or a terminal stops us with. */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

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
  const app = await createApp(config);
  stopGracefullyOnSignals(app);
  await app.listen({ port: config.app.port, host: config.app.host });
}

/**
 * Graceful stop on SIGTERM/SIGINT: the requests in flight are answered, then the process
 * exits 0. Nest's shutdown hooks (enabled in createApp) do the closing; two things
 * around them are ours:
 * - Nest re-raises the signal once its hooks are done, so the process would die of it
 *   (exit status 143, a failure to npm, Docker and most supervisors). This listener stays
 *   registered, swallows the re-raised signal, and exits 0 once the shutdown completed
 *   (1 if it failed).
 * - Closing the HTTP server drops only the connections idle at that moment; a keep-alive
 *   connection whose response is still in flight would stay open after it, and hold the
 *   process for the whole keep-alive timeout (72 s) while the client keeps it. Every
 *   response from the signal on says `Connection: close`, so each connection closes
 *   right after its last answer.
 */
function stopGracefullyOnSignals(app: NestFastifyApplication): void {
  const server = app.getHttpServer() as Server;
  const inFlight = new Set<ServerResponse>();
  let stopping = false;
  // Before Fastify's own listener, so that even an answer Fastify sends synchronously is covered.
  server.prependListener('request', (_request, response: ServerResponse) => {
    if (stopping) response.shouldKeepAlive = false;
    inFlight.add(response);
    response.once('close', () => inFlight.delete(response));
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const response of inFlight) if (!response.headersSent) response.shouldKeepAlive = false;
    app.close().then(
      () => process.exit(0),
      (error: Error) => {
        console.error(`Shutdown failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  for (const signal of STOP_SIGNALS) process.on(signal, stop);
}

bootstrap().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
