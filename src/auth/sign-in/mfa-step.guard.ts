import { ExecutionContext, Injectable, type CanActivate } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { LoginMfaDto } from '../mfa/mfa.dto';
import { SIGN_IN_ACCOUNT } from '../throttling/auth-throttling';
import { PendingSignIns } from './pending-sign-ins';

/**
 * Before the rate limits of POST /auth/login/mfa: names the account the mfaToken signs in
 * to, for the per-account limit, so that second-factor attempts count against the same
 * login budget as passwords (and a device cookie keeps its own budget there too). An
 * unknown or expired token names no account; the route answers it with the one 401. A body
 * that is not a valid step names none either: it is answered as on every route, after the
 * limits, by the validation pipe (400, one message per field), and while the database is
 * away the limits answer 503 first, as on /auth/login.
 */
@Injectable()
export class MfaStepGuard implements CanActivate {
  constructor(private readonly pending: PendingSignIns) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<{ body: unknown; [SIGN_IN_ACCOUNT]?: string }>();
    const dto = plainToInstance(LoginMfaDto, request.body ?? {});
    const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
    if (errors.length === 0) request[SIGN_IN_ACCOUNT] = await this.pending.emailOf(dto.mfaToken);
    return true;
  }
}
