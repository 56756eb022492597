import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-local';
import { clientMetaOf } from '../../common/client-meta';
import { PasswordMethod } from '../sign-in/password/password.method';
import type { SignInFacts } from '../sign-in/sign-in-facts';

/**
 * POST /auth/login: passport-local is the password method's transport. It checks email
 * and password (PasswordMethod) and leaves what they proved, the sign-in's facts, on
 * `request.user`; the sign-in pipeline decides what follows (src/auth/sign-in).
 */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy, 'local') {
  constructor(private readonly password: PasswordMethod) {
    super({ usernameField: 'email', passwordField: 'password', passReqToCallback: true });
  }

  validate(request: FastifyRequest, email: string, password: string): Promise<SignInFacts> {
    return this.password.prove(email, password, clientMetaOf(request));
  }
}
