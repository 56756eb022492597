import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Who is calling, as far as sessions and the audit log care. */
export interface ClientMeta {
  ip: string | null;
  userAgent: string | null;
}

/** Longest user agent kept; the rest of a long header is dropped. */
const MAX_USER_AGENT = 512;

export function clientMetaOf(request: FastifyRequest): ClientMeta {
  const userAgent = request.headers['user-agent'];
  return { ip: request.ip ?? null, userAgent: userAgent ? userAgent.slice(0, MAX_USER_AGENT) : null };
}

/** `@Client() client: ClientMeta`: the caller's IP and user agent. */
export const Client = createParamDecorator((_: unknown, ctx: ExecutionContext) => clientMetaOf(ctx.switchToHttp().getRequest<FastifyRequest>()));
