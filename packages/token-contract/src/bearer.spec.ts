import { bearerTokenOf, MAX_TOKEN_LENGTH } from './bearer';

const JWS = 'eyJh.eyJz.c2ln';
const fastify = (...values: string[]) => ({
  headers: { authorization: values[0] },
  raw: { rawHeaders: values.flatMap((value) => ['Authorization', value]) },
});
const express = (...values: string[]) => ({ headers: { authorization: values[0] }, rawHeaders: values.flatMap((value) => ['authorization', value]) });

describe('bearerTokenOf', () => {
  it('reads `Bearer <JWS>`, the scheme in any case, from Fastify and Express requests', () => {
    expect(bearerTokenOf(fastify(`Bearer ${JWS}`))).toBe(JWS);
    expect(bearerTokenOf(express(`bearer  ${JWS}`))).toBe(JWS);
    expect(bearerTokenOf({ headers: { authorization: `BEARER ${JWS}` } })).toBe(JWS);
  });

  it.each([
    ['another scheme', `Basic ${JWS}`],
    ['two tokens', `Bearer ${JWS} ${JWS}`],
    ['a tab', `Bearer\t${JWS}`],
    ['trailing text', `Bearer ${JWS},`],
    ['two segments', 'Bearer eyJh.eyJz'],
    ['an empty segment', 'Bearer eyJh..c2ln'],
    ['a padded segment', 'Bearer eyJh.eyJz.c2ln='],
    ['no token', 'Bearer '],
  ])('refuses %s', (_, header) => {
    expect(bearerTokenOf(fastify(header))).toBeNull();
  });

  it('refuses the header sent twice, whatever the framework kept', () => {
    expect(bearerTokenOf(fastify(`Bearer ${JWS}`, `Bearer ${JWS}`))).toBeNull();
    expect(bearerTokenOf(express(`Bearer ${JWS}`, 'Bearer other.other.other'))).toBeNull();
  });

  it('refuses an over-long header unread, and reads nothing but the header', () => {
    const long = `Bearer ${'a'.repeat(MAX_TOKEN_LENGTH)}.b.c`;
    expect(bearerTokenOf(fastify(long))).toBeNull();
    expect(bearerTokenOf({ headers: {}, raw: { rawHeaders: [] } })).toBeNull();
    expect(bearerTokenOf({ headers: { authorization: [`Bearer ${JWS}`] } })).toBeNull();
  });
});
