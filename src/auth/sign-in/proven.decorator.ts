import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { SignInFacts } from './sign-in-facts';

/** `@Proven() facts: SignInFacts`: what a sign-in method's passport strategy proved (its `request.user`). */
export const Proven = createParamDecorator((_: unknown, ctx: ExecutionContext): SignInFacts => ctx.switchToHttp().getRequest<{ user: SignInFacts }>().user);
