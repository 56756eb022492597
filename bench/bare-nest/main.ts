import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * Baseline 0 of the benchmark, the ceiling: a bare NestJS 12 + Fastify app with one GET
 * route, nothing else (no guards, hooks, logging or headers). What every request of the
 * project pays on top of this is what the other runs measure.
 */
@Controller()
class PingController {
  @Get('ping')
  ping() {
    return { ok: true };
  }
}

@Module({ controllers: [PingController] })
class BareModule {}

async function bootstrap() {
  const app = await NestFactory.create<NestFastifyApplication>(BareModule, new FastifyAdapter(), { logger: false });
  await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
  process.send?.({ ready: true });
}

bootstrap().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
