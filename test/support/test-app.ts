import { PassThrough } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.factory';
import { validateEnv, type AppConfig } from '../../src/config/configuration';
import { PrismaService } from '../../src/database/prisma.service';
import type { TestDatabase } from './test-database';

export const TEST_SECRET = 'test-secret-that-is-at-least-32-bytes-long!!';

/** A running instance of the real application on a random loopback port. */
export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  baseUrl: string;
  prisma: PrismaService;
  /** Every log line the app wrote so far. */
  logs(): string;
  close(): Promise<void>;
}

export async function startApp(db: TestDatabase, env: Record<string, string> = {}): Promise<TestApp> {
  const config = validateEnv({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    JWT_ACCESS_SECRET: TEST_SECRET,
    COOKIE_SECURE: 'false',
    RATE_LIMIT_LOGIN: '0',
    ...db.env,
    ...env,
  });
  const chunks: string[] = [];
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const app = await createApp(config, { logDestination: logStream });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  let closed = false;
  return {
    app,
    config,
    baseUrl: `http://127.0.0.1:${address.port}`,
    prisma: app.get(PrismaService),
    logs: () => chunks.join(''),
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}
