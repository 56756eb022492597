import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Controller, Get, Injectable, Module, Request, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { sign } from 'jsonwebtoken';
import { ExtractJwt, Strategy } from 'passport-jwt';

/**
 * Run P of the benchmark, the stateless peer: what a typical NestJS service that checks
 * its own access tokens does, on this project's stack (NestJS 12 + Fastify), with the
 * same kind of token (ES256, verified with a `KeyObject`, `iss`/`aud` checked) and no
 * revocation at all: passport-jwt's strategy and `AuthGuard('jwt')`, `req.user` from the
 * claims, no database, no cache, no headers, no access log. It mints its own token when
 * it starts and hands it to the harness over the IPC channel.
 */
const ISSUER = 'http://bench.test';
const AUDIENCE = 'http://bench.test';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

@Injectable()
class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // jsonwebtoken takes a KeyObject as it is (a PEM string would be parsed on every
      // request); passport-jwt's types only know strings and Buffers.
      secretOrKey: publicKey as unknown as string,
      algorithms: ['ES256'],
      issuer: ISSUER,
      audience: AUDIENCE,
    });
  }

  validate(payload: { sub: string; email: string; name: string; role: string }) {
    return { id: payload.sub, email: payload.email, name: payload.name, role: payload.role };
  }
}

@Controller('auth')
class MeController {
  @UseGuards(AuthGuard('jwt'))
  @Get('me')
  me(@Request() req: { user: unknown }) {
    return req.user;
  }
}

@Module({ imports: [PassportModule], controllers: [MeController], providers: [JwtStrategy] })
class PeerModule {}

async function bootstrap() {
  const app = await NestFactory.create<NestFastifyApplication>(PeerModule, new FastifyAdapter(), { logger: false });
  await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
  const accessToken = sign({ email: 'ada@example.com', name: 'Ada', role: 'USER' }, privateKey, {
    algorithm: 'ES256',
    subject: randomUUID(),
    jwtid: randomUUID(),
    issuer: ISSUER,
    audience: AUDIENCE,
    expiresIn: '1h',
  });
  process.send?.({ ready: true, accessToken });
}

bootstrap().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
