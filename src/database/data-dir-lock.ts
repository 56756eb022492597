import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { privateDir, writePrivateFile } from '../common/private-files';

/**
 * One process per embedded database. PGlite is PostgreSQL inside one process, with its
 * own buffers and WAL position: a second process that opens the same directory works on
 * a copy of its own, reports success, and what it wrote is invisible to the first one and
 * lost when the first one writes its files back. So DATA_DIR gets an exclusive lock,
 * taken before PGlite opens the directory and released after it closes.
 *
 * The lock is a pid file, as PostgreSQL's `postmaster.pid`: the file names the process
 * that holds the directory, and a file whose process no longer runs is stale and taken
 * over at once. That is what a crash needs: a server killed with SIGKILL (or a power cut)
 * cannot remove its lock, and its restart must not wait or fail. A lock judged by age
 * (mtime refreshed by a timer, as in proper-lockfile) would do either: wait out the
 * staleness period after every crash, or be stolen from a live process whose timer was
 * late (event loop blocked by a long migration, a suspended VM). The kernel's own locks
 * (flock, fcntl), which die with their process, are out of reach: Node has no API for them.
 */

/** Inside DATA_DIR, beside PGlite's own directory rather than in it. */
export const LOCK_FILE = 'pglite.lock';

/** Who opens the database: the lock file records it, and a refusal is worded for it. */
export interface Opener {
  /** 'server', or the npm script of a command: 'admin:create', 'db:migrate'. */
  name: string;
  /** A command's alternative to stopping the server, completing "Stop the server first, or …". */
  instead?: string;
}

export const SERVER: Opener = { name: 'server' };

/** The content of a lock file. */
export interface LockHolder {
  pid: number;
  /** The Opener's name: 'server', 'admin:create'… */
  name: string;
  /** ISO time the lock was taken. */
  since: string;
  /** Tells two opens by one process apart, so that each releases only its own lock. */
  id: string;
}

export interface DataDirLock {
  readonly path: string;
  /** Removes the lock file if it is still this lock's. Idempotent. */
  release(): void;
}

/**
 * A refusal to open a DATA_DIR that another live process holds. The message is the one
 * place that says what to do instead, for the server and for every command that writes
 * (admin:create, db:migrate, and any future one): each passes its Opener.
 */
export class DatabaseLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly lockPath: string,
    readonly holder: LockHolder,
    opener: Opener,
  ) {
    super(refusal(dataDir, lockPath, holder, opener));
    this.name = 'DatabaseLockedError';
  }
}

function refusal(dataDir: string, lockPath: string, holder: LockHolder, opener: Opener): string {
  const byServer = holder.name === SERVER.name;
  const who = byServer ? 'a running server' : `npm run ${holder.name}`;
  const inUse = `The embedded database in ${dataDir} is in use by ${who} (pid ${holder.pid})`;
  // Pid reuse: after a crash, an unrelated process may have got the holder's pid.
  const leftOver = `If pid ${holder.pid} is not ${who}, the lock file ${lockPath} is left over from a crash: delete it.`;
  if (opener.name === SERVER.name) {
    return (
      `${inUse}, and two processes must never open one DATA_DIR: this server does not start. Stop that process first, ` +
      `or give this server a DATA_DIR of its own, or DATABASE_URL (a PostgreSQL server that several servers can share). ${leftOver}`
    );
  }
  const command = `npm run ${opener.name}`;
  return (
    `${inUse}. Two processes must never open one DATA_DIR (what ${command} wrote would be lost), so nothing was written. ` +
    (byServer ? `Stop the server first${opener.instead ? `, or ${opener.instead}` : ''}. ` : 'Let it finish first. ') +
    `On a PostgreSQL server (DATABASE_URL), ${command} can run beside running servers. ${leftOver}`
  );
}

/**
 * Takes the lock of `dataDir` for this process, or throws DatabaseLockedError naming the
 * live process that holds it. A stale lock (its process is gone, or it is our own pid: a
 * container restarted with the same pid, the only kind of pid reuse that is likely; or
 * this process opening the directory again) is taken over once; losing the race for it
 * to another starter is a refusal like any other.
 */
export function lockDataDir(dataDir: string, opener: Opener = SERVER): DataDirLock {
  const dir = resolve(dataDir);
  privateDir(dir);
  const path = join(dir, LOCK_FILE);
  const mine: LockHolder = { pid: process.pid, name: opener.name, since: new Date().toISOString(), id: randomUUID() };
  const content = JSON.stringify(mine);
  for (let attempt = 0; attempt < 2; attempt++) {
    if (createExclusive(path, content)) return held(path, content);
    const found = readLock(path);
    if (found === undefined) continue; // released in the meantime
    if (found.holder !== undefined && isAlive(found.holder.pid) && found.holder.pid !== process.pid) {
      throw new DatabaseLockedError(dir, path, found.holder, opener);
    }
    removeStale(path, found.raw);
  }
  const winner = readLock(path)?.holder;
  if (winner) throw new DatabaseLockedError(dir, path, winner, opener);
  throw new Error(`Could not take the lock ${path} of the embedded database in ${dir}`);
}

/**
 * Creates the lock file with its content in one step: the content goes to a file of our
 * own, then a hard link gives it the lock's name. Like open(O_CREAT | O_EXCL), link fails
 * if the name exists; unlike it, no other process can ever read a lock file that is
 * created but not yet written, and mistake it for a stale one.
 */
function createExclusive(path: string, content: string): boolean {
  const draft = `${path}.${process.pid}.${randomUUID()}`;
  writePrivateFile(draft, content, 'wx');
  try {
    linkSync(draft, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw error;
    // A file system without hard links (some network and FUSE mounts): O_EXCL, with a
    // window of microseconds in which the file exists but is still empty.
    return writeExclusive(path, content);
  } finally {
    unlinkSync(draft);
  }
}

function writeExclusive(path: string, content: string): boolean {
  try {
    writePrivateFile(path, content, 'wx');
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Removes a stale lock file, unless another starter replaced it since we read it. Two
 * starters can both find the same stale file; a plain unlink by the slower one would
 * delete the lock the faster one has just created. A rename is atomic: we move the file
 * aside, check it is the one we judged stale, and put it back if it is not (the next
 * attempt then finds it live). Three starters at the very same moment could still get
 * past this, as they can with PostgreSQL's own pid file.
 */
function removeStale(path: string, staleContent: string): void {
  const aside = `${path}.${process.pid}.${randomUUID()}.stale`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // another starter removed it
    throw error;
  }
  try {
    if (readFileSync(aside, 'utf8') !== staleContent) linkSync(aside, path);
  } finally {
    unlinkSync(aside);
  }
}

/** The lock file's raw content and holder (undefined holder: unreadable, i.e. not a live lock of ours). */
function readLock(path: string): { raw: string; holder?: LockHolder } | undefined {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const holder = JSON.parse(raw) as LockHolder;
    return { raw, holder: Number.isSafeInteger(holder.pid) && holder.pid > 0 ? holder : undefined };
  } catch {
    return { raw };
  }
}

/** Signal 0 checks that the process exists without touching it; EPERM: it exists, as another user's. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The lock, released on close and, failing that, when the process exits (a command that
 * fails, process.exit). A SIGKILL or a crash skips both: the next opener finds the file
 * stale and takes it over.
 */
function held(path: string, content: string): DataDirLock {
  const release = () => {
    process.off('exit', release);
    try {
      if (readFileSync(path, 'utf8') === content) unlinkSync(path);
    } catch {
      // Already gone: nothing of ours to remove.
    }
  };
  process.on('exit', release);
  return { path, release };
}
