import type { Server, ServerResponse } from 'node:http';
import type { INestApplication } from '@nestjs/common';

/** The signals a process manager (systemd, Docker, Kubernetes) or a terminal stops us with. */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Graceful stop on SIGTERM/SIGINT, for main.ts and every server built on createApp (a
 * server of your own, as examples/notes/main.ts): the requests in flight are answered,
 * then the process exits 0. Nest's shutdown hooks (enabled in createApp) do the closing;
 * two things around them are ours:
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
export function stopGracefullyOnSignals(app: INestApplication): void {
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
