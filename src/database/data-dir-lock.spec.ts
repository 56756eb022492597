import { spawnSync } from 'node:child_process';
// The module object itself (not a namespace copy), so that a spy on it is seen by data-dir-lock.ts.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseLockedError, isAlive, LOCK_FILE, lockDataDir, type LockHolder } from './data-dir-lock';

describe('lockDataDir: one process per embedded database', () => {
  let dataDir: string;
  let lockPath: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(join(tmpdir(), 'data-dir-lock-'));
    lockPath = join(dataDir, LOCK_FILE);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const holder = (pid: number, name = 'server'): LockHolder => ({ pid, name, since: new Date().toISOString(), id: `other-${pid}` });
  const writeLock = (content: LockHolder | string) => fs.writeFileSync(lockPath, typeof content === 'string' ? content : JSON.stringify(content));
  const readLock = () => JSON.parse(fs.readFileSync(lockPath, 'utf8')) as LockHolder;
  /** A process that is certainly alive and not this one: the one that started jest's worker. */
  const liveOtherPid = process.ppid;
  /** The pid of a process that has exited. */
  const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid;
  /** lockDataDir, with the lock released after the test whatever its assertions did. */
  const taken: Array<() => void> = [];
  afterEach(() => taken.splice(0).forEach((release) => release()));
  const take = (...args: Parameters<typeof lockDataDir>) => {
    const lock = lockDataDir(...args);
    taken.push(() => lock.release());
    return lock;
  };

  it('creates the lock file naming this process and who opened the directory', () => {
    take(dataDir, { name: 'admin:create' });
    expect(readLock()).toMatchObject({ pid: process.pid, name: 'admin:create' });
  });

  it('refuses while a live process holds the directory, naming DATA_DIR and its pid, and leaves its lock alone', () => {
    expect(isAlive(liveOtherPid)).toBe(true);
    writeLock(holder(liveOtherPid));
    const before = fs.readFileSync(lockPath, 'utf8');

    const refused = () => take(dataDir);
    expect(refused).toThrow(DatabaseLockedError);
    expect(refused).toThrow(`The embedded database in ${dataDir} is in use by a running server (pid ${liveOtherPid})`);
    expect(refused).toThrow('this server does not start. Stop that process first');
    expect(fs.readFileSync(lockPath, 'utf8')).toBe(before);
  });

  it('tells a command to stop the server or use its alternative, and that PostgreSQL has no such rule', () => {
    writeLock(holder(liveOtherPid));
    const refused = () => take(dataDir, { name: 'admin:create', instead: 'use the admin API' });
    expect(refused).toThrow(`in use by a running server (pid ${liveOtherPid}).`);
    expect(refused).toThrow('so nothing was written. Stop the server first, or use the admin API.');
    expect(refused).toThrow('On a PostgreSQL server (DATABASE_URL), npm run admin:create can run beside running servers.');
  });

  it('takes over the lock of a process that is gone (SIGKILL, crash) at once', () => {
    const pid = deadPid();
    expect(isAlive(pid)).toBe(false);
    writeLock(holder(pid));
    take(dataDir);
    expect(readLock()).toMatchObject({ pid: process.pid });
  });

  it('takes over a lock that names our own pid (a container restarted with the same pid)', () => {
    writeLock(holder(process.pid));
    const lock = take(dataDir);
    expect(readLock()).toMatchObject({ pid: process.pid });
    expect(readLock().id).not.toBe(`other-${process.pid}`);
    lock.release();
    expect(fs.existsSync(lockPath)).toBe(false);
  });

  it('takes over a lock file that names no process', () => {
    writeLock('');
    take(dataDir);
    expect(readLock()).toMatchObject({ pid: process.pid });
  });

  it('on release removes the lock file only while it is still its own', () => {
    const lock = take(dataDir);
    const otherOwner = holder(liveOtherPid);
    writeLock(otherOwner); // taken over by someone else in the meantime
    lock.release();
    expect(readLock()).toEqual(otherOwner);

    fs.rmSync(lockPath);
    const second = take(dataDir);
    second.release();
    expect(fs.existsSync(lockPath)).toBe(false);
    second.release(); // twice: nothing to remove, no error
  });

  it('on a file system without hard links, takes a free lock and refuses a held one all the same', () => {
    jest.spyOn(fs, 'linkSync').mockImplementation(() => {
      throw Object.assign(new Error('operation not supported'), { code: 'ENOTSUP' });
    });
    take(dataDir).release();
    writeLock(holder(liveOtherPid));
    expect(() => take(dataDir)).toThrow(`in use by a running server (pid ${liveOtherPid})`);
    fs.rmSync(lockPath);
    take(dataDir);
    expect(readLock()).toMatchObject({ pid: process.pid });
    expect(fs.readdirSync(dataDir)).toEqual([LOCK_FILE]);
  });

  it('when two starters find the same stale lock, the slower one does not remove the lock the faster one just took', () => {
    writeLock(holder(deadPid()));
    const faster = holder(liveOtherPid);
    // Between the slower starter's reading of the stale lock and its removal of it, the
    // faster starter replaces it with its own lock.
    const rename = fs.renameSync;
    jest.spyOn(fs, 'renameSync').mockImplementationOnce((from, to) => {
      writeLock(faster);
      rename(from, to);
    });

    expect(() => take(dataDir)).toThrow(`in use by a running server (pid ${liveOtherPid})`);
    expect(readLock()).toEqual(faster);
    expect(fs.readdirSync(dataDir)).toEqual([LOCK_FILE]);
  });
});
