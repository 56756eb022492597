import { BadRequestException } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';

/**
 * Text this server can store and compare faithfully: no NUL (PostgreSQL's text cannot
 * hold it, so it used to surface as a 500, Prisma P2039) and no unpaired UTF-16
 * surrogate (UTF-8 has no encoding for one: on its way to argon2 or the database it
 * becomes U+FFFD, so `pass\ud800word`, `pass\udc00word` and `pass\ufffdword` would be
 * one password).
 */
// With the `u` flag, \p{Cs} matches exactly the surrogates that are not half of a pair.
// eslint-disable-next-line no-control-regex -- NUL is exactly what PostgreSQL text cannot store
const UNSTORABLE = /[\u0000\p{Cs}]/u;
export const isStorableText = (text: string): boolean => !UNSTORABLE.test(text);

export const unstorableMessage = (field: string): string => `${field} must not contain NUL characters or unpaired surrogates`;

/**
 * A message for each field of `value` (strings at any depth, and object keys) that is
 * not storable, the field named as class-validator names it (`email`, `items.0.name`).
 * Iterative: depth is bounded by the JSON parser, but no recursion is left to overflow.
 */
export function unstorableTextProblems(value: unknown): string[] {
  const bad: string[] = [];
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    if (typeof node === 'string') {
      if (!isStorableText(node)) bad.push(path || 'value');
      continue;
    }
    if (typeof node !== 'object' || node === null) continue;
    for (const [key, child] of Object.entries(node)) {
      // A bad key is named by where it is, never echoed.
      if (!isStorableText(key)) bad.push(path ? `keys of ${path}` : 'keys');
      else stack.push([child, path ? `${path}.${key}` : key]);
    }
  }
  return [...new Set(bad)].map(unstorableMessage);
}

function holdsSomething(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return value !== undefined && value !== null;
  for (const _ in value) return true;
  return false;
}

/**
 * Refuses, with a 400 naming each field, a request whose route parameters, query string
 * or JSON body holds unstorable text: once, before any guard, pipe or handler (the login
 * throttler included) sees it. Fastify has parsed all three by `preValidation`.
 */
export function refuseUnstorableText(fastify: FastifyInstance): void {
  fastify.addHook('preValidation', (request, _reply, done) => {
    const { params, query, body } = request;
    // Most requests (a GET without a query) have nothing to look at: no allocation for them.
    if (!holdsSomething(params) && !holdsSomething(query) && !holdsSomething(body)) return done();
    const problems = [params, query, body].filter(holdsSomething).flatMap(unstorableTextProblems);
    done(problems.length > 0 ? new BadRequestException(problems) : undefined);
  });
}
