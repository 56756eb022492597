import { ExecutionContext, Injectable, type CanActivate } from '@nestjs/common';
import { SIGN_IN_ACCOUNT } from '../throttling/auth-throttling';
import { credentialIdOf } from './passkey-assertions';
import { PasskeysRepository } from './passkeys.repository';

/**
 * Before the rate limits of POST /auth/passkeys/authentication: names the account whose
 * credential the assertion names, for the per-account login limit, so that passkey
 * attempts spend the same budget as passwords and second steps (a device cookie keeps its
 * own budget there too). An unknown credential names no account; the route answers it with
 * the one 401. A malformed body names none either, and is answered by the validation pipe.
 */
@Injectable()
export class PasskeySignInGuard implements CanActivate {
  constructor(private readonly passkeys: PasskeysRepository) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<{ body?: { response?: unknown }; [SIGN_IN_ACCOUNT]?: string }>();
    const response = request.body?.response;
    const credentialId = typeof response === 'object' && response !== null ? credentialIdOf(response as Record<string, unknown>) : undefined;
    if (credentialId && credentialId.length <= 1024) request[SIGN_IN_ACCOUNT] = await this.passkeys.ownerEmailOf(credentialId);
    return true;
  }
}
