import { statfs } from 'node:fs/promises';
import { Logger } from '@nestjs/common';
import { DISK_FULL_SQLSTATE } from '../common/http-exception.filter';

/**
 * The free space DATA_DIR keeps for the embedded database: a write is refused below it.
 * When PGlite's WAL segment is used up, the next write creates a new one and fills it
 * with 16 MiB of zeros; a checkpoint (at shutdown) writes files of its own. Either
 * failing for lack of space is a PANIC (see DiskGuard), so they must always find room.
 */
export const EMBEDDED_MIN_FREE_BYTES = 32 * 1024 * 1024;

/** Statements that take no new space: reads (and their row locks), transaction control, LISTEN. */
const NEEDS_NO_SPACE = /^\s*(SELECT|SHOW|BEGIN|START|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|LISTEN|UNLISTEN)\b/i;

/** A write not given to the embedded database: DATA_DIR has less free space than its reserve. */
export class DiskFullError extends Error {
  /** As PostgreSQL's own: the exception filter answers it with 503 "the database cannot write: disk full". */
  readonly code = DISK_FULL_SQLSTATE;
  override readonly name = 'DiskFullError';
}

/** Any statement, once PGlite stopped at a PANIC: only a new process can use the database again. */
export class DatabaseStoppedError extends Error {
  readonly severity = 'PANIC';
  override readonly name = 'DatabaseStoppedError';

  /** `code`: the PANIC's SQLSTATE (53100 when a write found the disk full). */
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/**
 * What the embedded database does about its disk. PGlite on a full disk (measured, 0.4):
 * - a table or an index that cannot grow (`could not extend file "base/…": No space left
 *   on device`, 53100) fails its statement and nothing else: the transaction rolls back,
 *   and writes work again once there is space;
 * - but a write that fits in a page already on disk still succeeds, so on a full disk
 *   some writes pass and some fail, by chance;
 * - and a write it cannot fail cleanly (a new WAL segment, a checkpoint) is PostgreSQL's
 *   PANIC, after which a server restarts. PGlite cannot: its next statement returns wrong
 *   results (a table reads as empty) or spins forever, and with it the whole process, since
 *   the WebAssembly runs on the event loop. Space freed later does not bring it back.
 *
 * So every write (`run`) first checks that DATA_DIR keeps EMBEDDED_MIN_FREE_BYTES free,
 * and is refused with DiskFullError otherwise: all writes fail alike, and the PANICs
 * never come from a full disk. Every answer of PGlite passes through `run` too: after a
 * PANIC all the same (whatever its cause), no statement reaches PGlite again, each fails
 * at once with DatabaseStoppedError, and `close` leaves it alone. A restart replays the
 * WAL up to the last commit.
 */
export class DiskGuard {
  private readonly logger = new Logger('Database');
  private stopped?: DatabaseStoppedError;
  private full = false;

  /** `dir`: where PGlite's files are (undefined for an in-memory database: no disk to watch). */
  constructor(
    private readonly dir: string | undefined,
    private readonly minFreeBytes = EMBEDDED_MIN_FREE_BYTES,
  ) {}

  /** Whether PGlite stopped at a PANIC: then nothing may touch it, not even `close`. */
  get isStopped(): boolean {
    return this.stopped !== undefined;
  }

  /** Runs `fn`, which sends `sql` to PGlite, if it may: see the class comment. */
  async run<T>(sql: string, fn: () => Promise<T>): Promise<T> {
    if (this.stopped) throw this.stopped;
    if (!NEEDS_NO_SPACE.test(sql)) await this.checkSpace();
    try {
      return await fn();
    } catch (error) {
      this.observe(error);
      throw error;
    }
  }

  /** Why a write would be refused now (for /health), or undefined. */
  async refusal(): Promise<DiskFullError | DatabaseStoppedError | undefined> {
    if (this.stopped) return this.stopped;
    return this.checkSpace().then(
      () => undefined,
      (error: DiskFullError) => error,
    );
  }

  /** Throws DiskFullError when DATA_DIR has less free space than the reserve; logs the changes. */
  private async checkSpace(): Promise<void> {
    if (this.dir === undefined) return;
    // A directory that cannot be looked at refuses nothing: PGlite then says what is wrong.
    const space = await statfs(this.dir).catch(() => undefined);
    if (!space) return;
    const free = space.bavail * space.bsize;
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
    if (free >= this.minFreeBytes) {
      if (this.full) this.logger.log(`Space is back in ${this.dir} (${mib(free)} free): the embedded database accepts writes again`);
      this.full = false;
      return;
    }
    if (!this.full) {
      this.logger.error(
        `DATA_DIR's disk is full: ${mib(free)} free in ${this.dir}, under the ${mib(this.minFreeBytes)} the embedded database keeps ` +
          'for its WAL. Writes are refused (503 "the database cannot write: disk full", /health down) until space is freed ' +
          'on that disk; reads go on. Writes resume by themselves once there is space: no restart is needed.',
      );
    }
    this.full = true;
    throw new DiskFullError(`the database cannot write: disk full (${mib(free)} free in ${this.dir}, ${mib(this.minFreeBytes)} kept in reserve)`);
  }

  /** Trips on a PANIC in an error of PGlite (its own DatabaseError, or the Prisma adapter's DriverAdapterError around it). */
  private observe(error: unknown): void {
    if (this.stopped) return;
    const panic = [error, (error as { cause?: unknown } | null)?.cause].find(
      (e): e is Record<string, unknown> => typeof e === 'object' && e !== null && (e as { severity?: unknown }).severity === 'PANIC',
    );
    if (!panic) return;
    const code = [panic.originalCode, panic.code].find((c): c is string => typeof c === 'string' && c !== '');
    const what = String(panic.originalMessage ?? panic.message);
    this.stopped = new DatabaseStoppedError(
      code,
      `${code === DISK_FULL_SQLSTATE ? 'the database cannot write: disk full; ' : ''}` +
        `the embedded database stopped at a PANIC and runs no statement until the server restarts (${what})`,
    );
    this.logger.error(
      `The embedded database stopped at a PANIC (${code}: ${what}). PGlite cannot recover from it in this process: ` +
        'every request that needs the database answers 503 and /health reports it down until the server restarts. ' +
        `${code === DISK_FULL_SQLSTATE ? `Free space on the disk of ${this.dir}, then restart` : 'Restart'} the server: ` +
        'the restart replays the WAL up to the last commit.',
    );
  }
}
