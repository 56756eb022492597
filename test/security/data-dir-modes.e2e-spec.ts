import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { newUser } from '../support/factories';
import { Http } from '../support/http';
import { PRODUCTION_ARGON2, startApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { waitFor } from '../support/wait';

interface Entry {
  /** Relative to DATA_DIR ('.' for itself). */
  path: string;
  kind: 'dir' | 'file';
  mode: number;
}

/** DATA_DIR and everything under it, as `ls -lR` would list it (an entry removed while walking is skipped). */
function walk(root: string): Entry[] {
  const entries: Entry[] = [];
  const visit = (path: string) => {
    let stat;
    try {
      stat = lstatSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const kind = stat.isDirectory() ? 'dir' : 'file';
    entries.push({ path: relative(root, path) || '.', kind, mode: stat.mode & 0o777 });
    if (kind === 'dir') for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(root);
  return entries;
}

/** What is not owner-only: a directory not 0700, a file not 0600, as "path mode" lines. */
const notPrivate = (entries: Entry[]) => entries.filter((e) => e.mode !== (e.kind === 'dir' ? 0o700 : 0o600)).map((e) => `${e.path} ${e.mode.toString(8)}`);

/**
 * DATA_DIR holds the embedded database (password hashes, in its tables and in its WAL),
 * development mails (password reset links) and the development server secret: nobody but
 * the server's user may read any of it, whatever umask the process was started with (the
 * usual 022 makes new files 0644). On PostgreSQL it holds the mails and the secret only.
 */
describe('DATA_DIR is private: directories 0700, files 0600, under a umask of 022', () => {
  // Development: mails are written to DATA_DIR/mail, and without AUTH_SECRET the secret is created there.
  const env = { NODE_ENV: 'development', ...PRODUCTION_ARGON2, RATE_LIMIT_MAIL: '0', AUTH_SECRET: '' };
  let db: TestDatabase;
  let dataDir: string;
  let server: TestApp | undefined;
  let umask: number;

  beforeAll(async () => {
    umask = process.umask(0o022);
    db = await createTestDatabase();
    // A path that does not exist yet: the server creates it.
    dataDir = join(db.env.DATA_DIR, 'data');
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
    process.umask(umask);
  });

  const start = async (): Promise<Http> => {
    await server?.close();
    server = await startApp(db, { ...env, DATA_DIR: dataDir });
    return new Http(server.baseUrl);
  };
  const mails = () => walk(dataDir).filter((e) => e.path.startsWith('mail/') && e.path.endsWith('.eml'));

  it('a new DATA_DIR: the database, its WAL, the secret and the mails of a registration and a reset are owner-only, while running and after', async () => {
    const http = await start();
    const user = await newUser(http);
    expect((await http.post('/auth/password/forgot', { email: user.email })).status).toBe(202);
    await waitFor('the verification and reset mails', () => mails().length === 2);

    const running = walk(dataDir);
    const paths = running.map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['.', 'mail', 'jwt-access-secret']));
    if (db.kind === 'pglite') {
      expect(paths).toEqual(expect.arrayContaining(['pglite', 'pglite/pg_wal', 'pglite.lock']));
      expect(paths.filter((p) => p.startsWith('pglite/pg_wal/')).length).toBeGreaterThan(0);
    } else {
      expect(paths.filter((p) => p.startsWith('pglite'))).toEqual([]);
    }
    expect(notPrivate(running)).toEqual([]);

    await server!.close();
    expect(notPrivate(walk(dataDir))).toEqual([]);
  });

  it('an existing DATA_DIR with loose modes (an earlier version, a copy) is made owner-only at start', async () => {
    for (const entry of walk(dataDir)) chmodSync(join(dataDir, entry.path), entry.kind === 'dir' ? 0o755 : 0o644);
    expect(notPrivate(walk(dataDir)).length).toBeGreaterThan(3);

    const http = await start();
    expect(notPrivate(walk(dataDir))).toEqual([]);
    // And it keeps working: a new user, a new mail.
    await newUser(http);
    await waitFor('the third mail', () => mails().length === 3);
    expect(notPrivate(walk(dataDir))).toEqual([]);
  });
});
