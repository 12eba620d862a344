#!/usr/bin/env node
/**
 * Builds the web page into web/dist/: a static site (any static host serves it). The page
 * imports the package by its name, as any user's bundle does; the core's wasm, JeOS's
 * kernel and disk and the firmware are copied beside it. `--quiet` prints only errors.
 */
import { build } from 'esbuild';
import {
  copyFileSync, mkdirSync, rmSync, readFileSync, readdirSync, writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
const fromPackage = (spec) => fileURLToPath(import.meta.resolve(spec));

/**
 * The package's modules have no side effects at import (they declare and export), so the
 * page's main thread, which needs only the mode list, the cost model and the published
 * figures, leaves the machine, disks and appliances to the worker's bundle.
 */
const packageRoot = dirname(fromPackage('wasmvisor/package.json'));
const packageWithoutSideEffects = {
  name: 'package-without-side-effects',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'inner' || !args.importer.startsWith(join(packageRoot, 'dist'))
        && args.path !== 'wasmvisor') return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir,
        importer: args.importer, pluginData: 'inner' });
      if (r.errors.length || !r.path.startsWith(join(packageRoot, 'dist'))) return r;
      return { ...r, sideEffects: false };
    });
  },
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// Two builds: the page (its charts split off to load later) and the worker, so the page's
// main thread does not share, and load, the machine's modules.
const common = {
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  chunkNames: 'chunk-[name]-[hash]',
  logLevel: 'warning',
  legalComments: 'linked',
  plugins: [packageWithoutSideEffects],
};
await build({ ...common, entryPoints: { app: join(here, 'src/main.ts') }, splitting: true });
await build({ ...common, entryPoints: { worker: join(here, 'src/worker.ts') },
  splitting: true });
const copies = {
  'index.html': join(here, 'index.html'),
  'app.css': join(here, 'app.css'),
  'xterm.css': fromPackage('@xterm/xterm/css/xterm.css'),
  'core.wasm': fromPackage('wasmvisor/core.wasm'),
  'jeos.elf': fromPackage('wasmvisor/guests/jeos.elf'),
  'jeos-disk.img': fromPackage('wasmvisor/guests/jeos-disk.img'),
  'bios.bin': join(here, '..', 'guests/firmware/bios.bin'),
  'README.md': join(here, '..', 'README.md'),
};
for (const [name, src] of Object.entries(copies)) copyFileSync(src, join(out, name));

// The page's JavaScript and wasm, as served compressed (gzip -9), for the README.
// The charts' chunk loads after the page is up; everything else is needed to boot.
const sizes = {};
const total = { bytes: 0, gzip: 0 };
for (const f of readdirSync(out).filter((n) => /\.(js|wasm)$/.test(n)).sort()) {
  const b = readFileSync(join(out, f));
  sizes[f] = { bytes: b.length, gzip: gzipSync(b, { level: 9 }).length };
  total.bytes += b.length;
  total.gzip += sizes[f].gzip;
}
writeFileSync(join(out, 'sizes.json'), JSON.stringify({ files: sizes, total }, null, 2) + '\n');
if (!process.argv.includes('--quiet')) {
  for (const [f, s] of Object.entries({ ...sizes, total })) {
    console.log(`${f.padEnd(28)} ${String(s.bytes).padStart(8)} bytes, ` +
      `${String(s.gzip).padStart(7)} gzipped`);
  }
  console.log(`web page built in ${out}; serve it with \`npm run web\``);
}
