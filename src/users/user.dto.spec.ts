import Fastify from 'fastify';
import { USER_JSON_SCHEMA, UserDto } from './user.dto';

const users = [
  { id: '0eaa6665-df13-4368-bd41-2552c198e178', email: 'ada@example.com', emailVerified: true, name: 'Ada "the first" \u2028', role: 'ADMIN' as const },
  { id: '1eaa6665-df13-4368-bd41-2552c198e178', email: 'bob@example.com', emailVerified: false, name: null, role: 'USER' as const },
].map((u) => UserDto.from({ ...u, disabled: false, createdAt: new Date('2026-12-06T12:39:34.113Z') }));

describe('USER_JSON_SCHEMA (the serializer of GET /auth/me)', () => {
  it('has exactly the fields of UserDto, all required', () => {
    expect(Object.keys(USER_JSON_SCHEMA.properties).sort()).toEqual(Object.keys(users[0]).sort());
    expect([...USER_JSON_SCHEMA.required].sort()).toEqual(Object.keys(users[0]).sort());
  });

  it("answers, as a route's response schema, exactly what JSON.stringify writes", async () => {
    const fastify = Fastify();
    fastify.get('/:i', { schema: { response: { 200: USER_JSON_SCHEMA } } }, (request) => users[Number((request.params as { i: string }).i)]);
    for (const [i, user] of users.entries()) expect((await fastify.inject(`/${i}`)).body).toBe(JSON.stringify(user));
    await fastify.close();
  });
});
