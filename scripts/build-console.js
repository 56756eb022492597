#!/usr/bin/env node
// Builds the web console (console/: Preact + Pico CSS) into dist/console-ui with esbuild:
// one script and one stylesheet with content-hashed names under assets/, and index.html
// naming them. No CDN and nothing inline: the page's Content-Security-Policy
// (src/console/console.ts) allows scripts and styles of its own origin only.
// Run by `npm run build` and scripts/build-if-stale.js, after `nest build` (which empties
// dist/); the browser spec builds into a directory of its own with buildConsole(dir).
'use strict';
const { mkdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { gzipSync } = require('node:zlib');

const ROOT = path.join(__dirname, '..');
const SOURCE = path.join(ROOT, 'console');
const OUT = path.join(ROOT, 'dist', 'console-ui');

/** Builds into `outdir` (emptied first); returns the size of each file written, raw and gzipped. */
async function buildConsole(outdir = OUT) {
  const esbuild = require('esbuild');
  rmSync(outdir, { recursive: true, force: true });
  const assets = path.join(outdir, 'assets');
  const result = await esbuild.build({
    entryPoints: [path.join(SOURCE, 'src', 'main.tsx')],
    outdir: assets,
    entryNames: 'console-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(SOURCE, 'tsconfig.json'),
    // Preact's and Pico's MIT notices, in one file beside the bundle.
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => path.relative(assets, path.resolve(ROOT, file)));
  const script = outputs.find((file) => file.endsWith('.js'));
  const style = outputs.find((file) => file.endsWith('.css'));
  if (!script || !style) throw new Error(`esbuild wrote no script or no stylesheet: ${outputs.join(', ')}`);
  const html = readFileSync(path.join(SOURCE, 'index.html'), 'utf8')
    .replace('%SCRIPT%', `/console/assets/${script}`)
    .replace('%STYLE%', `/console/assets/${style}`);
  mkdirSync(outdir, { recursive: true });
  writeFileSync(path.join(outdir, 'index.html'), html);
  return [...outputs.map((file) => path.join('assets', file)), 'index.html'].map((file) => {
    const bytes = readFileSync(path.join(outdir, file));
    return { file, bytes: bytes.length, gzip: gzipSync(bytes).length };
  });
}

module.exports = { buildConsole, CONSOLE_OUT: OUT };

if (require.main === module) {
  buildConsole().then(
    (files) => {
      const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
      const shown = files.filter((f) => !f.file.endsWith('.LEGAL.txt'));
      const total = shown.reduce((sum, f) => ({ bytes: sum.bytes + f.bytes, gzip: sum.gzip + f.gzip }), { bytes: 0, gzip: 0 });
      console.log(
        `Console built in dist/console-ui: ${shown.map((f) => `${f.file} ${kb(f.bytes)} (${kb(f.gzip)} gzip)`).join(', ')}; total ${kb(total.bytes)} (${kb(total.gzip)} gzip)`,
      );
    },
    (error) => {
      console.error(`The console did not build: ${error.message}`);
      process.exit(1);
    },
  );
}
