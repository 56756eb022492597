// A service of its own (not this auth server) that accepts the auth server's access
// tokens through @nest-auth-backend/client. How to build and run it: examples/README.md.
import 'reflect-metadata';
import { ConsoleLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ProtectedServiceModule } from './protected-service.module';

/**
 * Nest's console logger, less its report of a failed start-up: with `abortOnError: false`
 * Nest logs that error with its stack and then rethrows it to `main`, which says it once,
 * in one line (a missing setting is not a bug to debug from a stack trace).
 */
class ServiceLogger extends ConsoleLogger {
  override error(message: unknown, ...rest: unknown[]): void {
    if (rest.at(-1) !== 'ExceptionHandler') super.error(message, ...rest);
  }
}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(ProtectedServiceModule, new FastifyAdapter(), {
    logger: new ServiceLogger({ logLevels: ['error', 'warn'] }),
    abortOnError: false,
  });
  app.enableShutdownHooks();
  await app.listen({ port: Number(process.env.PORT ?? 4000), host: process.env.HOST ?? '127.0.0.1' });
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
