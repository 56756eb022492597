import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The direction of the core inside src/auth (docs/how-it-works.md, "Where things are"):
 * the server secret at the bottom, the signing keys above it, and keys and revocation
 * meeting on the event bus, never importing each other. Read from the sources' imports.
 */
const AUTH = __dirname;

function importsOf(folder: string): Array<{ file: string; target: string }> {
  return readdirSync(join(AUTH, folder))
    .filter((name) => name.endsWith('.ts'))
    .flatMap((name) =>
      [...readFileSync(join(AUTH, folder, name), 'utf8').matchAll(/from '\.\.\/([a-z-]+)\//g)].map((match) => ({
        file: `${folder}/${name}`,
        target: match[1],
      })),
    );
}

describe('the one-way core of src/auth', () => {
  it.each([
    ['secret', [] as string[]],
    ['keys', ['secret', 'decorators']],
    ['revocation', ['sessions']],
  ])('%s/ imports from no folder of auth/ but %j', (folder, allowed) => {
    const upward = importsOf(folder).filter(({ target }) => !allowed.includes(target));
    expect(upward).toEqual([]);
  });

  it('revocation/ reads only the sessions table from sessions/, not its services', () => {
    const files = readdirSync(join(AUTH, 'revocation')).filter((name) => name.endsWith('.ts'));
    const fromSessions = files.flatMap((name) =>
      [...readFileSync(join(AUTH, 'revocation', name), 'utf8').matchAll(/from '\.\.\/sessions\/([a-z.-]+)'/g)].map((m) => m[1]),
    );
    expect(new Set(fromSessions)).toEqual(new Set(['sessions.repository', 'sessions-repository.module']));
  });
});
