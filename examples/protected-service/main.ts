// A service of its own (not this auth server) that accepts the auth server's access
// tokens through @nest-auth-backend/client. Build and run from the project root:
//   npx tsc -b packages/nest-auth-client && npx tsc -p examples/protected-service
//   AUTH_ISSUER=http://localhost:3000 AUTH_CLIENT_ID=… AUTH_CLIENT_SECRET=… node examples/protected-service/dist/main.js
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ProtectedServiceModule } from './protected-service.module';

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(ProtectedServiceModule, new FastifyAdapter(), { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen({ port: Number(process.env.PORT ?? 4000), host: process.env.HOST ?? '127.0.0.1' });
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
