import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { REFRESH_COOKIE } from './auth/transport/refresh-transport';
import { SECURITY } from './common/api-docs';
import { validateEnv } from './config/configuration';

/**
 * The OpenAPI document of an application (served at /docs-json). Routes say who may call
 * them and how they fail with the decorators of common/api-docs.ts, which require the
 * security schemes declared here (and bring the ErrorResponse schema with them).
 */
export function apiDocument(app: INestApplication): OpenAPIObject {
  return SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Auth backend')
      .setDescription('Stateless-speed JWT checks with immediate server-side revocation. Contract: API.md.')
      .setVersion('1')
      .addBearerAuth({ type: 'http', description: 'An access token from login, register or refresh' }, SECURITY.bearer)
      .addBasicAuth({ type: 'http', description: 'A client (service) id and secret from POST /admin/clients' }, SECURITY.client)
      .addCookieAuth(
        REFRESH_COOKIE,
        { type: 'apiKey', description: 'The refresh token in cookie mode: only with the header X-Auth-Mode: cookie' },
        SECURITY.refreshCookie,
      )
      .build(),
  );
}

/**
 * The same document without running the application: Nest's preview mode resolves the
 * modules and reads the controllers' metadata but instantiates nothing, so no database,
 * secret or port is needed (scripts/api-types.js generates the console's types from it).
 */
export async function previewApiDocument(): Promise<OpenAPIObject> {
  const app = await NestFactory.create(AppModule.forRoot(validateEnv({ NODE_ENV: 'test' })), new FastifyAdapter(), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  try {
    return apiDocument(app);
  } finally {
    await app.close();
  }
}
