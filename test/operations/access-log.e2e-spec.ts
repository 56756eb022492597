import { newUser } from '../support/factories';
import { useApp } from '../support/test-app';

/** One access-log line per request, with what an operator needs and no secret. */
describe('access log', () => {
  const t = useApp({ TRUST_PROXY: 'true' });

  const accessLines = () =>
    t.server
      .logs()
      .split('\n')
      .filter((line) => line.includes('"msg":"request completed"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it('writes one line at info per request, for a normal route, with method, route, status, time, request id and client IP', async () => {
    const user = await newUser(t.http);
    const before = accessLines().length;
    const res = await t.http.get('/auth/me?access_token=secret-in-query', { token: user.accessToken, headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(res.status).toBe(200);
    const lines = accessLines().slice(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      method: 'GET',
      route: '/auth/me',
      path: '/auth/me',
      status: 200,
      ip: '203.0.113.7',
      reqId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      ms: expect.any(Number),
    });
    const text = JSON.stringify(lines[0]);
    expect(text).not.toContain(user.accessToken);
    expect(text).not.toContain('secret-in-query');
  });

  it('logs refusals and unknown routes too, each once, with the route pattern for parameterised routes', async () => {
    const before = accessLines().length;
    expect((await t.http.post('/auth/login', { email: 'nobody@example.com', password: 'not the password' })).status).toBe(401);
    expect((await t.http.get('/no/such/route')).status).toBe(404);
    expect((await t.http.delete('/auth/sessions/7d4c5a5e-0000-4000-8000-000000000000')).status).toBe(401);
    const lines = accessLines().slice(before);
    expect(lines.map((l) => [l.method, l.route, l.status])).toEqual([
      ['POST', '/auth/login', 401],
      ['GET', null, 404],
      ['DELETE', '/auth/sessions/:id', 401],
    ]);
    expect(JSON.stringify(lines)).not.toContain('not the password');
  });
});
