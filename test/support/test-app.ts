import { PassThrough } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.factory';
import type { AppModuleOptions } from '../../src/app.module';
import { validateEnv, type AppConfig } from '../../src/config/configuration';
import { PrismaService } from '../../src/database/prisma.service';
import { Http } from './http';
import { createTestDatabase, type TestDatabase } from './test-database';

export const TEST_SECRET = 'test-secret-that-is-at-least-32-bytes-long!!';
export const TEST_ARGON2 = { ARGON2_MEMORY_COST: '256', ARGON2_TIME_COST: '1' };
/** The production default, for the specs about hashing itself. */
export const PRODUCTION_ARGON2 = { ARGON2_MEMORY_COST: '19456', ARGON2_TIME_COST: '2' };

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

/** What a spec may add to the app besides settings: modules to mount, as a user's main.ts would. */
export type StartOptions = Pick<AppModuleOptions, 'extraImports' | 'consoleDir'>;

export async function startApp(db: TestDatabase, env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestApp> {
  const config = validateEnv({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    AUTH_SECRET: TEST_SECRET,
    COOKIE_SECURE: 'false',
    RATE_LIMIT_LOGIN: '0',
    RATE_LIMIT_REGISTER: '0',
    // Cheap hashing: a registration costs microseconds, not 40 ms (allowed only with
    // NODE_ENV=test; test/auth/password-hashing.e2e-spec.ts runs the production cost).
    ...TEST_ARGON2,
    ...db.env,
    ...env,
  });
  const chunks: string[] = [];
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const app = await createApp(config, { logDestination: logStream, extraImports: options.extraImports, consoleDir: options.consoleDir });
  try {
    // Start-up hooks run here: one that fails must not leave the database (or a LISTEN loop) open behind it.
    await app.listen({ port: 0, host: '127.0.0.1' });
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
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

/** The app of one spec file (or `describe`): a fresh database, the app on it, an HTTP client. */
export interface AppUnderTest {
  db: TestDatabase;
  server: TestApp;
  http: Http;
  /** Restarts the app on the same database (optionally with other settings). */
  restart(env?: Record<string, string>): Promise<void>;
}

/**
 * Registers beforeAll/afterAll that start the real app on a database of its own and stop
 * both; the returned object's fields are set once beforeAll has run.
 */
export function useApp(env: Record<string, string> = {}, options: StartOptions = {}): AppUnderTest {
  const ctx = {
    restart: async (newEnv = env) => {
      await ctx.server.close();
      ctx.server = await startApp(ctx.db, newEnv, options);
      ctx.http = new Http(ctx.server.baseUrl);
    },
  } as AppUnderTest;
  beforeAll(async () => {
    ctx.db = await createTestDatabase();
    ctx.server = await startApp(ctx.db, env, options);
    ctx.http = new Http(ctx.server.baseUrl);
  });
  afterAll(async () => {
    await ctx.server?.close();
    await ctx.db?.drop();
  });
  return ctx;
}
