#!/usr/bin/env node
// Builds dist/ (`nest build`, then the web console) only when it is stale: run by
// `npm start`, `npm run db:migrate` and `npm run admin:create` before they run the build,
// so that a start on unchanged sources does not spend ~9 s type-checking and compiling
// them again.
//
// Stale means: no dist/main.js, or a fingerprint of the build's inputs (path, size and
// modification time of every file under src/, prisma/, console/ (the web console's
// sources) and the workspace packages' src/, of scripts/build-console.js, package.json,
// package-lock.json, nest-cli.json and tsconfig*.json) differs from the one written in
// dist/.build-stamp by the last build this script made. Any edit, added, removed or
// renamed file, `git checkout` or `npm install` changes it; a build made another way
// (`npm run build`, `npm run start:dev`) wipes dist/ and the stamp with it, so the next
// start rebuilds once. `--force` builds whatever the fingerprint says.
'use strict';
const { spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { existsSync, readdirSync, readFileSync, statSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const STAMP = path.join(ROOT, 'dist', '.build-stamp');
const TREES = ['src', 'prisma', 'console', 'packages/token-contract/src', 'packages/revocation-window/src', 'packages/nest-auth-client/src'];
/** The workspace packages dist/main.js requires (as installed packages, from their dist/): built first. */
const PACKAGES = ['packages/token-contract', 'packages/revocation-window', 'packages/nest-auth-client'];
const FILES = ['package.json', 'package-lock.json', 'nest-cli.json', 'scripts/build-console.js'];

function fingerprint() {
  const hash = createHash('sha256');
  const add = (rel) => {
    const stat = statSync(path.join(ROOT, rel));
    hash.update(`${rel}\0${stat.size}\0${stat.mtimeMs}\n`);
  };
  const walk = (rel) => {
    for (const entry of readdirSync(path.join(ROOT, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) walk(child);
      // Unit specs are not part of the build (tsconfig.build.json excludes them).
      else if (!entry.name.endsWith('.spec.ts')) add(child);
    }
  };
  for (const tree of TREES) if (existsSync(path.join(ROOT, tree))) walk(tree);
  const tsconfigs = readdirSync(ROOT)
    .filter((name) => /^tsconfig.*\.json$/.test(name))
    .sort();
  for (const file of [...FILES, ...tsconfigs]) if (existsSync(path.join(ROOT, file))) add(file);
  return hash.digest('hex');
}

function stamped() {
  try {
    return readFileSync(STAMP, 'utf8').trim();
  } catch {
    return undefined;
  }
}

const before = fingerprint();
const built = existsSync(path.join(ROOT, 'dist', 'main.js'));
if (built && stamped() === before && !process.argv.includes('--force')) process.exit(0);

console.log(built ? 'Building dist/ again (nest build, the console): its sources changed' : 'Building dist/ (nest build, the console)');
const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
const packages = spawnSync(process.execPath, [tsc, '-b', ...PACKAGES], { cwd: ROOT, stdio: 'inherit' });
if (packages.status !== 0) process.exit(packages.status ?? 1);
const nest = require.resolve('@nestjs/cli/bin/nest.js', { paths: [ROOT] });
const result = spawnSync(process.execPath, [nest, 'build'], { cwd: ROOT, stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
const ui = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build-console.js')], { cwd: ROOT, stdio: 'inherit' });
if (ui.status !== 0) process.exit(ui.status ?? 1);
// The fingerprint taken before the build: an edit made while it ran makes the next start build again.
writeFileSync(STAMP, `${before}\n`);
