import helmet from '@fastify/helmet';
import fastifyCookie from '@fastify/cookie';
import { ValidationPipe } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule, type AppModuleOptions } from './app.module';
import { REFRESH_COOKIE } from './auth/transport/refresh-transport';
import { SECURITY } from './common/api-docs';
import { AllExceptionsFilter, clientErrorBody, INTERNAL_ERROR } from './common/http-exception.filter';
import { acceptJsonOnly } from './common/json-body';
import { createRootLogger, logEveryRequest, NestPinoLogger } from './common/logging';
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
  await secureHeaders(app);
  await app.register(fastifyCookie);
  const fastify = app.getHttpAdapter().getInstance();
  const metrics = app.get(MetricsService);
  logEveryRequest(fastify, logger, (method, route, status, seconds) => metrics.request(method, route, status, seconds));
  neverCached(fastify);
  acceptJsonOnly(fastify);
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

async function secureHeaders(app: NestFastifyApplication): Promise<void> {
  await app.register(helmet, {
    // Swagger UI at /docs ships inline scripts and styles.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", "'unsafe-inline'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        // Nothing of an API (Swagger UI included) is meant to be framed.
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
  });
}

/**
 * No response of an auth server belongs in a cache (API.md: every auth response). Set
 * first thing, so that errors carry it too; and on sending, for the replies that hooks
 * end before this one runs (CORS preflights).
 */
function neverCached(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (_request, reply, done) => {
    void reply.header('cache-control', 'no-store');
    done();
  });
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    done(null, payload);
  });
}

/**
 * Only listed origins get CORS headers, credentials (the refresh cookie) included; any
 * other origin gets none at all, and its preflight is answered as any OPTIONS request:
 * 405 with `Allow` on an existing path, 404 elsewhere.
 */
function corsForListedOrigins(app: NestFastifyApplication, origins: string[]): void {
  const allowed = new Set(origins);
  const policy = {
    origin: true,
    credentials: true,
    allowedHeaders: ['Content-Type', 'Authorization', 'X-Auth-Mode'],
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    cacheControl: 'no-store',
  };
  app.enableCors({
    delegator: (request, callback) => {
      const origin = request.headers.origin;
      callback(null, typeof origin === 'string' && allowed.has(origin) ? policy : { origin: false });
    },
  });
}

/**
 * The OpenAPI document at /docs-json (Swagger UI at /docs). Routes say who may call them
 * and how they fail with the decorators of common/api-docs.ts, which require the security
 * schemes declared here (and bring the ErrorResponse schema with them).
 */
function serveApiDocs(app: NestFastifyApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Auth backend')
      .setDescription('Stateless-speed JWT checks with immediate server-side revocation. Contract: API.md.')
      .setVersion('1')
      .addBearerAuth({ type: 'http', description: 'An access token from login, register or refresh' }, SECURITY.bearer)
      .addCookieAuth(
        REFRESH_COOKIE,
        { type: 'apiKey', description: 'The refresh token in cookie mode: only with the header X-Auth-Mode: cookie' },
        SECURITY.refreshCookie,
      )
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
