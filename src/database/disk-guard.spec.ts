import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { DatabaseStoppedError, DiskFullError, DiskGuard } from './disk-guard';

/** PGlite's DatabaseError, as it throws it (severity, SQLSTATE, PostgreSQL's message). */
const pgliteError = (severity: string, code: string, message: string) => Object.assign(new Error(message), { name: 'error', severity, code });
/** The same, as the Prisma adapter rethrows it. */
const adapterError = (severity: string, code: string, message: string) =>
  Object.assign(new Error(message), {
    name: 'DriverAdapterError',
    cause: { kind: 'postgres', severity, code, message, originalCode: code, originalMessage: message },
  });

describe('DiskGuard', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'disk-guard-'));
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  /** What `run` did with `sql`: ran it, or the error it was refused with. */
  const attempt = async (guard: DiskGuard, sql: string) => {
    let ran = false;
    const outcome = await guard
      .run(sql, async () => void (ran = true))
      .then(
        () => 'ran',
        (error: Error) => error,
      );
    return ran ? outcome : outcome instanceof Error ? outcome.constructor.name : 'not run';
  };

  describe('with less free space than its reserve', () => {
    /** A reserve no disk has. */
    const full = () => new DiskGuard(dir, Number.MAX_SAFE_INTEGER);

    it.each([
      'INSERT INTO users (email) VALUES ($1)',
      '  update sessions SET last_used_at = now()',
      'DELETE FROM sessions WHERE id = $1',
      'WITH rotated AS (UPDATE sessions s SET generation = generation + 1 RETURNING s.id) SELECT * FROM rotated',
      'CREATE TABLE t (id int)',
    ])('refuses the write %j without running it', async (sql) => {
      expect(await attempt(full(), sql)).toBe('DiskFullError');
    });

    it.each(['SELECT 1', 'select id from users for update', 'BEGIN', 'COMMIT', 'ROLLBACK', 'SELECT pg_notify($1, $2)', 'LISTEN outbox', 'UNLISTEN outbox'])(
      'runs %j, which takes no new space',
      async (sql) => {
        expect(await attempt(full(), sql)).toBe('ran');
      },
    );

    it('says so for /health, with the free space in its message', async () => {
      const refusal = await full().refusal();
      expect(refusal).toBeInstanceOf(DiskFullError);
      expect(refusal).toMatchObject({ code: '53100', message: expect.stringMatching(/^the database cannot write: disk full \(.+ MiB free in /) });
    });
  });

  it('runs writes, and refuses none for /health, while the disk keeps its reserve', async () => {
    const guard = new DiskGuard(dir, 0);
    expect(await attempt(guard, 'INSERT INTO t VALUES (1)')).toBe('ran');
    expect(await guard.refusal()).toBeUndefined();
  });

  it.each([
    ['PGlite', pgliteError],
    ['the Prisma adapter', adapterError],
  ])('stops at a PANIC (as %s throws it): every later statement refused without running, close told to leave PGlite alone', async (_, make) => {
    const guard = new DiskGuard(dir, 0);
    const panic = make('PANIC', '53100', 'could not write to file "pg_wal/xlogtemp.42": No space left on device');
    await expect(guard.run('INSERT INTO t VALUES (1)', () => Promise.reject(panic))).rejects.toBe(panic);
    expect(guard.isStopped).toBe(true);
    for (const sql of ['SELECT 1', 'ROLLBACK', 'INSERT INTO t VALUES (2)']) expect(await attempt(guard, sql)).toBe('DatabaseStoppedError');
    const refusal = await guard.refusal();
    expect(refusal).toBeInstanceOf(DatabaseStoppedError);
    expect(refusal).toMatchObject({
      code: '53100',
      message: expect.stringContaining('until the server restarts (could not write to file "pg_wal/xlogtemp.42"'),
    });
  });

  it('keeps going after an ordinary error, a table that could not grow included (PGlite recovers from it)', async () => {
    const guard = new DiskGuard(dir, 0);
    const error = adapterError('ERROR', '53100', 'could not extend file "base/5/16385": No space left on device');
    await expect(guard.run('INSERT INTO t VALUES (1)', () => Promise.reject(error))).rejects.toBe(error);
    expect(guard.isStopped).toBe(false);
    expect(await attempt(guard, 'INSERT INTO t VALUES (1)')).toBe('ran');
  });
});
