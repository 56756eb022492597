import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `mount -t tmpfs` on a new directory; the reason when it is refused (not root), undefined when mounted. */
function mount(dir: string, sizeKiB: number): string | undefined {
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', dir], { encoding: 'utf8' });
  if (result.status === 0) return undefined;
  return (result.error?.message ?? result.stderr.trim()) || `mount exited with ${result.status}`;
}

/** Why this machine cannot mount a tmpfs (mounting needs root), or undefined when it can: tried once, at load. */
function probe(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'tmpfs-probe-'));
  const refusal = mount(dir, 64);
  if (!refusal) spawnSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
  return refusal;
}

export const tmpfsRefusal = probe();

/**
 * `base` (describe, or a `describe` of one database kind) when a tmpfs can be mounted;
 * otherwise `describe.skip`, and `spec` says why it is skipped.
 */
export function describeWithTmpfs(spec: string, base: jest.Describe = describe): jest.Describe {
  if (!tmpfsRefusal) return base;
  if (base !== describe.skip)
    console.warn(`${spec} is SKIPPED: it needs a small filesystem to fill up, and mount -t tmpfs was refused (${tmpfsRefusal}): run it as root, as CI does`);
  return describe.skip;
}

/**
 * A filesystem of its own (tmpfs, `sizeMiB` of memory at most) that a spec fills up: a
 * disk that is full for real, for the process that writes to it. Unmount it in afterAll,
 * whatever happened.
 */
export class Tmpfs {
  private readonly filler: string;

  private constructor(readonly dir: string) {
    this.filler = join(dir, 'filler');
  }

  static mount(sizeMiB: number): Tmpfs {
    const dir = mkdtempSync(join(tmpdir(), 'tmpfs-'));
    const refusal = mount(dir, sizeMiB * 1024);
    if (refusal) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mount -t tmpfs ${dir}: ${refusal}`);
    }
    return new Tmpfs(dir);
  }

  /** Bytes an unprivileged writer can still write. */
  freeBytes(): number {
    const { bavail, bsize } = statfsSync(this.dir);
    return bavail * bsize;
  }

  /** Writes a file until the filesystem refuses (ENOSPC): from then on it is full. */
  fill(): void {
    const fd = openSync(this.filler, 'a');
    try {
      for (const chunk of [1 << 20, 4096, 1]) {
        const buffer = Buffer.alloc(chunk);
        try {
          for (;;) writeSync(fd, buffer);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Deletes what `fill` wrote: the space is back. */
  free(): void {
    rmSync(this.filler, { force: true });
  }

  /** Unmounts (lazily if something still has a file open there) and removes the mount point. */
  unmount(): void {
    if (spawnSync('umount', [this.dir]).status !== 0) spawnSync('umount', ['-l', this.dir]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
