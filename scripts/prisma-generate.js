#!/usr/bin/env node
// Generates the Prisma client (src/generated/prisma) on `npm install`.
//
// Every Prisma 7 CLI command first makes sure the native schema engine is present and
// downloads it if not, although `prisma generate` never runs it (the client uses the
// WebAssembly query compiler). On machines that cannot reach Prisma's binary host that
// download fails, so unless the operator chose an engine, we point
// PRISMA_SCHEMA_ENGINE_BINARY at a file that exists: generate then skips the download.
// `prisma migrate` is unaffected: it is not run through this script.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE ??= '1';
const cli = path.join(__dirname, '..', 'node_modules', 'prisma', 'build', 'index.js');
const result = spawnSync(process.execPath, [cli, 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
