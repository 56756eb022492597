#!/usr/bin/env node
// Run by the Dockerfile after `npm prune --omit=dev`: removes from node_modules the packages
// that only optional peer dependencies reach. npm installs an optional peer that is in the
// tree anyway (a devDependency here), and `npm prune --omit=dev --omit=peer` keeps it:
// @prisma/client's optional peer `prisma` brings the Prisma CLI and its studio (~150 MB),
// @nestjs/core's brings Express. The server loads none of them.
//
// What stays: every package reached from package.json's dependencies and the workspace
// packages, through dependencies, optionalDependencies and peers that are not optional,
// resolved as Node resolves them, from the lockfile npm ci installed.
'use strict';
const { existsSync, readFileSync, rmSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')).packages;

/** The lockfile path `name` resolves to from the package at `from`, as Node's lookup walks up. */
function resolve(from, name) {
  for (let dir = from; ;) {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (candidate in lock) return candidate;
    if (!dir) return undefined;
    const parent = dir.lastIndexOf('/node_modules/');
    dir = parent < 0 ? '' : dir.slice(0, parent);
  }
}

const root = lock[''];
const reached = new Set(['']);
const todo = [''];
const visit = (p) => {
  if (p !== undefined && !reached.has(p)) reached.add(p) && todo.push(p);
};
for (const workspace of Object.keys(lock).filter((p) => lock[p].link)) visit(workspace);
while (todo.length > 0) {
  const at = todo.pop();
  const pkg = lock[at];
  if (pkg.link) visit(pkg.resolved);
  const names = at === '' ? Object.keys(root.dependencies ?? {}) : [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})];
  for (const [name] of Object.entries(pkg.peerDependencies ?? {})) if (!pkg.peerDependenciesMeta?.[name]?.optional) names.push(name);
  for (const name of names) visit(resolve(at, name));
}

let removed = 0;
for (const p of Object.keys(lock)) {
  if (!p.includes('node_modules/') || reached.has(p) || lock[p].dev) continue;
  const dir = path.join(ROOT, p);
  if (!existsSync(dir)) continue;
  rmSync(dir, { recursive: true, force: true });
  removed++;
}
console.log(`prune-optional-peers: removed ${removed} packages that only optional peers reach`);
