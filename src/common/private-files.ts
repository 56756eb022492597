import { chmodSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';

/**
 * What the server keeps on disk, all of it in DATA_DIR, is for the server's user alone:
 * the embedded database (password hashes, in its tables and in its WAL), development
 * mails (password reset links), the development server secret. Directories 0700 and
 * files 0600, whatever umask the process was started with: the usual 022 would make
 * them 0755 and 0644, readable by every user of the machine.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * `dir` and its missing parents, created owner-only; an existing `dir` is made
 * owner-only. One that is not ours (a volume mounted root-owned and group-writable, as
 * Kubernetes' fsGroup does) cannot be: that is logged, not fatal, since what we put in
 * it is owner-only itself.
 */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const mode = lstatSync(dir).mode & 0o777;
  if (mode === PRIVATE_DIR_MODE) return;
  try {
    chmodSync(dir, PRIVATE_DIR_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
    new Logger('DataDir').warn(`${dir} belongs to another user: its mode stays ${mode.toString(8)} (what this server writes in it is owner-only)`);
  }
}

/**
 * `root` (created if missing) and everything under it made owner-only, as `chmod -R`
 * would: for what an earlier version, a copy or a restored backup left readable to
 * others. Symbolic links are neither followed nor changed.
 */
export function privateTree(root: string): void {
  privateDir(root);
  const dirs = [root];
  while (dirs.length > 0) {
    const dir = dirs.pop()!;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) dirs.push(path);
      const wanted = entry.isDirectory() ? PRIVATE_DIR_MODE : entry.isFile() ? PRIVATE_FILE_MODE : undefined;
      if (wanted !== undefined && (lstatSync(path).mode & 0o777) !== wanted) chmodSync(path, wanted);
    }
  }
}

/** Writes a file that is created owner-only (`flag` as for writeFileSync: 'wx' refuses an existing file). */
export function writePrivateFile(path: string, data: string | Buffer, flag = 'w'): void {
  writeFileSync(path, data, { mode: PRIVATE_FILE_MODE, flag });
}

/**
 * Every file and directory this process creates from now on is owner-only (umask 077).
 * For the embedded database: PGlite creates its files itself, through Node's fs, for as
 * long as it runs (WAL segments, the files of new tables and indexes), with modes that
 * only the umask narrows, out of reach of a chmod done once. PostgreSQL's postmaster
 * sets the same umask at start, for the same reason. Process-wide, and meant so: a
 * server writes nothing else to disk (its logs go to stdout), and nothing it writes is
 * for other users.
 */
export function ownerOnlyUmask(): void {
  process.umask(0o077);
}
