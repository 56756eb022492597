import { ADMIN_ENV, newUser } from '../support/factories';
import { Http } from '../support/http';
import { ServerProcess, useServerBuild } from '../support/server-process';
import { describeOnPostgres } from '../support/test-database';
import { sleep } from '../support/wait';

/**
 * A login checks the password against the hash it read, waits in the argon2 queue, and
 * only then opens its session. A password change committed on another instance in
 * between must not be outlived by that login: every session the old password opened is
 * ended with the change, whatever the order in which the two finished.
 */
describeOnPostgres('a login checked against the old password never outlives a password change (two instances)', () => {
  const ctx = useServerBuild();
  let httpA: Http;
  let httpB: Http;

  beforeAll(async () => {
    httpA = new Http((await ServerProcess.start(ctx.build, ctx.db, ADMIN_ENV)).baseUrl);
    httpB = new Http((await ServerProcess.start(ctx.build, ctx.db)).baseUrl);
  }, 180_000);

  it('ends or refuses every login with the old password that raced the change, and the new password works', async () => {
    const user = await newUser(httpA);
    const newPassword = `${user.password}-changed`;

    // Eight logins with the old password on A; the change on B while they wait for argon2.
    const logins = Array.from({ length: 8 }, () => httpA.post('/auth/login', { email: user.email, password: user.password }));
    await sleep(50);
    const changed = await httpB.post('/auth/password', { currentPassword: user.password, newPassword }, { token: user.accessToken });
    expect(changed.status).toBe(204);
    const answers = await Promise.all(logins);
    expect(answers.map((a) => a.status).every((s) => s === 200 || s === 401)).toBe(true);
    const opened = answers.filter((a) => a.status === 200);

    // No session opened with the old password survives: neither its refresh token nor its access token.
    const survivors: string[] = [];
    for (const login of opened) {
      const refreshed = await httpB.post('/auth/refresh', { refreshToken: login.body.refreshToken });
      const me = await httpA.get('/auth/me', { token: login.body.accessToken });
      if (refreshed.status !== 401 || me.status !== 401) survivors.push(`${login.body.sessionId}: refresh ${refreshed.status}, me ${me.status}`);
    }
    console.log(
      `login race: ${opened.length} of 8 logins with the old password answered 200, ${answers.length - opened.length} were refused; survivors: ${survivors.length}`,
    );
    expect(survivors).toEqual([]);

    // The caller's own session goes on; the old password is refused, the new one works.
    expect((await httpA.get('/auth/me', { token: user.accessToken })).status).toBe(200);
    expect((await httpA.post('/auth/login', { email: user.email, password: user.password })).status).toBe(401);
    expect((await httpB.post('/auth/login', { email: user.email, password: newPassword })).status).toBe(200);
  });
});
