import helmet from '@fastify/helmet';
import fastifyCookie from '@fastify/cookie';
import { BadRequestException, UnsupportedMediaTypeException, ValidationPipe } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppModuleOptions } from './app.module';
import { AllExceptionsFilter, clientErrorBody, INTERNAL_ERROR } from './common/http-exception.filter';
import { createRootLogger, logEveryRequest } from './common/logging';
import { refuseUnstorableText } from './common/storable-text';
import type { AppConfig } from './config/configuration';

/** Deeper JSON is refused before validation walks it (recursively: a stack overflow, a 500). */
export const MAX_JSON_DEPTH = 32;

/**
 * Builds the whole application, exactly as production runs it. `main.ts` listens on it;
 * the e2e tests do the same on a random port.
 */
export async function createApp(config: AppConfig, options: AppModuleOptions = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
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
  const logger = options.logger ?? createRootLogger(config, options.logDestination);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, { ...options, logger }), adapter, {
    bufferLogs: true,
    // Start-up failures (bad migrations, unreachable database) reject with their message.
    abortOnError: false,
    // Bodies are JSON only (API.md): see acceptJsonOnly below.
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();

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
  await app.register(fastifyCookie);
  const fastify = app.getHttpAdapter().getInstance();
  logEveryRequest(fastify, logger);
  // No response of an auth server belongs in a cache (API.md: every auth response). Set
  // first thing, so that errors carry it too; and on sending, for the replies that hooks
  // end before this one runs (CORS preflights).
  fastify.addHook('onRequest', (_request, reply, done) => {
    void reply.header('cache-control', 'no-store');
    done();
  });
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    done(null, payload);
  });
  acceptJsonOnly(fastify, MAX_JSON_DEPTH);
  refuseUnstorableText(fastify);
  // Only listed origins get CORS headers, credentials (the refresh cookie) included; any
  // other origin gets none at all, and its preflight is an ordinary 404.
  const corsOrigins = new Set(config.app.corsOrigins);
  app.enableCors({
    delegator: (request, callback) => {
      const origin = request.headers.origin;
      callback(
        null,
        typeof origin === 'string' && corsOrigins.has(origin)
          ? {
              origin: true,
              credentials: true,
              allowedHeaders: ['Content-Type', 'Authorization', 'X-Auth-Mode'],
              methods: ['GET', 'POST', 'PATCH', 'DELETE'],
              cacheControl: 'no-store',
            }
          : { origin: false },
      );
    },
  });
  // Every error in NestJS's shape, Fastify's own included; no stack, no echoed data.
  app.useGlobalFilters(new AllExceptionsFilter(app.get(HttpAdapterHost)));
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
    }),
  );

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Auth backend')
      .setDescription('Stateless-speed JWT checks with immediate server-side revocation. Contract: API.md.')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}

/**
 * The only body parser: `application/json` in UTF-8, parsed safely (`__proto__` and
 * `constructor.prototype` keys are refused), at most `maxDepth` levels deep. No form or
 * text parser: a cross-site HTML form or `text/plain` fetch, which a browser sends
 * without a CORS preflight, gets 415 instead of reaching a route. Bytes that are not
 * UTF-8 are a 400, not silently U+FFFD: otherwise `pass\xFEword` and `pass\xFFword`
 * would be one password.
 */
function acceptJsonOnly(fastify: FastifyInstance, maxDepth: number): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      done(new UnsupportedMediaTypeException('JSON must be sent in UTF-8'), undefined);
      return;
    }
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(new BadRequestException('JSON body is not valid UTF-8'), undefined);
      return;
    }
    parseJson(request, text, (error, value) => {
      if (error) done(error, undefined);
      else if (depthExceeds(value, maxDepth)) done(new BadRequestException('JSON body is nested too deeply'), undefined);
      else done(null, value);
    });
  });
}

/** Whether `value` nests objects/arrays deeper than `max` (iterative: no recursion to overflow). */
function depthExceeds(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}
