import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * `relative` in the nearest enclosing directory of `from` that has it: the project's own
 * files (prisma/migrations, mail-templates/) found from src/, from dist/, and from the
 * build of a server of your own (examples/notes/dist/src/…), at whatever depth the build
 * put this file. Nowhere: where it would be from src/ or dist/ (the error names that path).
 */
export function findUp(relative: string, from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, relative))) return join(dir, relative);
    if (dirname(dir) === dir) return resolve(from, '..', '..', relative);
  }
}
