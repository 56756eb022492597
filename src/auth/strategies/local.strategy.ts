import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-local';
import { clientMetaOf } from '../../common/client-meta';
import type { AuthUser } from '../auth-user';
import { AuthService } from '../auth.service';

/** POST /auth/login: email and password, checked by AuthService.validateCredentials. */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy, 'local') {
  constructor(private readonly auth: AuthService) {
    super({ usernameField: 'email', passwordField: 'password', passReqToCallback: true });
  }

  validate(request: FastifyRequest, email: string, password: string): Promise<AuthUser> {
    return this.auth.validateCredentials(email, password, clientMetaOf(request));
  }
}
