import fastifyCookie from '@fastify/cookie';
import { ValidationPipe } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { apiDocument } from './api-document';
import { AppModule, type AppModuleOptions } from './app.module';
import { AllExceptionsFilter, clientErrorBody, INTERNAL_ERROR } from './common/http-exception.filter';
import { acceptFormOn, acceptJsonOnly } from './common/json-body';
import { createRootLogger, logEveryRequest, NestPinoLogger } from './common/logging';
import { secureEveryResponse } from './common/security-headers';
import { refuseUnstorableText } from './common/storable-text';
import type { AppConfig } from './config/configuration';
import { serveConsole } from './console/console';
import { MetricsService } from './metrics/metrics.service';

/**
 * Builds the whole application, exactly as production runs it. `main.ts` listens on it;
 * the e2e tests do the same on a random port. Each step below is one concern of the
 * HTTP layer, in the order a request meets them.
 */
export async function createApp(config: AppConfig, options: AppModuleOptions = {}): Promise<NestFastifyApplication> {
  const logger = options.logger ?? createRootLogger(config, options.logDestination);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, { ...options, logger }), fastifyAdapter(config), {
    // Nest's lines go through our logger from the first one (nothing buffered, nothing
    // printed by Nest's own console logger, even when the start-up fails).
    logger: new NestPinoLogger(logger),
    // Start-up failures (bad migrations, unreachable database) reject with their message.
    abortOnError: false,
    // Bodies are JSON only (API.md): see acceptJsonOnly.
    bodyParser: false,
  });
  app.enableShutdownHooks();
  const fastify = app.getHttpAdapter().getInstance();
  secureEveryResponse(fastify);
  await app.register(fastifyCookie);
  const metrics = app.get(MetricsService);
  logEveryRequest(fastify, logger, (method, route, status, seconds) => metrics.request(method, route, status, seconds));
  acceptJsonOnly(fastify);
  // RFC 7662 introspection and RFC 7009 revocation requests are form-encoded: the routes that read a form.
  acceptFormOn(fastify, ['/auth/introspect', '/auth/revoke']);
  refuseUnstorableText(fastify);
  corsForListedOrigins(app, config.app.corsOrigins);
  // Every error in NestJS's shape, Fastify's own included; no stack, no echoed data.
  app.useGlobalFilters(new AllExceptionsFilter(app.get(HttpAdapterHost)));
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false }));
  serveApiDocs(app);
  await serveConsole(app, config, options.consoleDir);
  return app;
}

function fastifyAdapter(config: AppConfig): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: config.app.bodyLimit,
    // Fastify accepts a hop count too; its types do not say so.
    trustProxy: config.app.trustProxy as boolean | string | string[],
    // Request ids for the logs; never trust a client-supplied one.
    genReqId: () => crypto.randomUUID(),
    // Errors of Fastify's router (malformed percent-encoding, an over-long path parameter)
    // are answered before any hook or Nest filter runs: give them the same shape and headers.
    frameworkErrors: (error: Error, _request: FastifyRequest, reply: FastifyReply) => {
      const body = clientErrorBody(error) ?? INTERNAL_ERROR;
      void reply.code(body.statusCode).header('cache-control', 'no-store').header('x-content-type-options', 'nosniff').send(body);
    },
  });
}

/**
 * Only listed origins get CORS headers, credentials (the refresh cookie) included; any
 * other origin gets none at all, and its preflight is answered as any OPTIONS request:
 * 405 with `Allow` on an existing path, 404 elsewhere. Without CORS_ORIGINS (API and
 * mobile clients, services) no request can get CORS headers, so the plugin is not even
 * registered: a request pays nothing for it. The policy is one object, built once; only
 * the origin is decided per request.
 */
function corsForListedOrigins(app: NestFastifyApplication, origins: string[]): void {
  if (origins.length === 0) return;
  const allowed = new Set(origins);
  app.enableCors({
    origin: (origin: string | undefined, callback: (error: Error | null, allow: boolean) => void) =>
      callback(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    allowedHeaders: ['Content-Type', 'Authorization', 'X-Auth-Mode'],
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    cacheControl: 'no-store',
  });
}

/** The OpenAPI document (api-document.ts) at /docs-json, Swagger UI at /docs. */
function serveApiDocs(app: NestFastifyApplication): void {
  SwaggerModule.setup('docs', app, apiDocument(app), { jsonDocumentUrl: 'docs-json' });
}
