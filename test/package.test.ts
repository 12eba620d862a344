/**
 * What `npm pack` puts in the package (npm's own file list, scripts not run): the licence,
 * every file the library and CLI read at run time, every module the shipped code imports,
 * and none of the test guests or debug builds.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_GUESTS, countFilePath, loopImagePath } from '../bindings/bench/loops.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const hasDist = existsSync(join(ROOT, 'dist/bindings/index.js'));
if (!hasDist) console.warn('dist/ is not built (npm run build:ts): the checks of the compiled files in the package are skipped');

function packList(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return (JSON.parse(out) as { files: { path: string }[] }[])[0].files.map((f) => f.path).sort();
}

/** Every file under `dir` (repo-relative), for listing what exists beside what is shipped. */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = posix.join(dir, d.name);
    if (d.isDirectory()) out.push(...walk(rel));
    else out.push(rel);
  }
  return out;
}

describe('npm package contents', () => {
  const files = packList();

  it('has the MIT licence', () => {
    expect(files).toContain('LICENSE');
    const text = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(text).toMatch(/^MIT License\n\nCopyright \(c\) 2026 wasmvisor authors\n/);
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).license).toBe('MIT');
  });

  it('ships every guest file the CLI and library read through packaged()', () => {
    const wanted = new Set<string>();
    for (const f of walk('bindings').filter((f) => f.endsWith('.ts') && !f.startsWith('bindings/testing/'))) {
      for (const m of readFileSync(join(ROOT, f), 'utf8').matchAll(/packaged\('([^']+)'\)/g)) wanted.add(m[1]);
    }
    for (const w of BENCH_GUESTS) wanted.add(loopImagePath(w.name));
    wanted.add(countFilePath('sieve'));
    expect([...wanted].sort()).toEqual(expect.arrayContaining(['guests/firmware/bios.bin', 'guests/jeos/disk.img', 'guests/jeos/jeos.elf']));
    for (const f of wanted) expect(files, f).toContain(f);
    expect(files).toContain('build/core.wasm');
  });

  it('leaves out test guests, firmware tests and the debug build', () => {
    const guests = files.filter((f) => f.startsWith('guests/'));
    expect(guests.filter((f) => f.startsWith('guests/systests/') || f.startsWith('guests/firmware/tests/'))).toEqual([]);
    expect(guests.every((f) => /^guests\/(bench\/[^/]+\.(bin|count)|host\/[a-z]+\.bin|firmware\/bios\.bin|jeos\/(disk\.img|jeos\.elf))$/.test(f))).toBe(true);
    expect(files.filter((f) => f.startsWith('build/'))).toEqual(['build/core.wasm']);
  });

  it.skipIf(!hasDist)('ships every module the shipped code imports, and only the testing modules it imports', () => {
    const shipped = new Set(files);
    const js = files.filter((f) => f.startsWith('dist/') && f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(50);
    const missing: string[] = [];
    const imported = new Set<string>();
    for (const f of [...js, 'bin/wasmvisor.js']) {
      const src = readFileSync(join(ROOT, f), 'utf8');
      for (const m of src.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*)'(\.{1,2}\/[^']+\.js)'/g)) {
        const target = posix.normalize(posix.join(posix.dirname(f), m[1]));
        imported.add(target);
        if (!shipped.has(target)) missing.push(`${f} -> ${target}`);
      }
    }
    expect(missing).toEqual([]);
    // Test-only modules ship only when shipped code imports them (bench uses v86, v86 uses harness).
    const testing = js.filter((f) => f.startsWith('dist/bindings/testing/'));
    expect(testing.filter((f) => !imported.has(f))).toEqual([]);
    expect(testing.length).toBeGreaterThan(0);
  });

  it.skipIf(!hasDist)('ships the sources its source maps point at, and no other sources', () => {
    const shipped = new Set(files);
    const maps = files.filter((f) => f.endsWith('.map'));
    // A map for every compiled module and every declaration file (tsconfig sourceMap and
    // declarationMap), each beside its file and named by it.
    const compiled = files.filter((f) => f.startsWith('dist/') && /\.(?:d\.ts|js)$/.test(f));
    expect(compiled.length).toBeGreaterThan(100);
    const unresolved: string[] = [];
    for (const f of compiled) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      const url = /\n\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
      const target = url && posix.join(posix.dirname(f), url);
      if (!target || !shipped.has(target)) unresolved.push(`${f} -> ${target ?? '(no map)'}`);
    }
    for (const m of maps) {
      const map = JSON.parse(readFileSync(join(ROOT, m), 'utf8')) as {
        sourceRoot?: string; sources: string[];
      };
      expect(map.sources.length, m).toBeGreaterThan(0);
      for (const s of map.sources) {
        const target = posix.normalize(posix.join(posix.dirname(m), map.sourceRoot ?? '', s));
        if (!shipped.has(target)) unresolved.push(`${m} -> ${target}`);
      }
    }
    expect(unresolved).toEqual([]);
    // The map of the CLI's entry names the TypeScript file that the package carries.
    const cliMap = readFileSync(join(ROOT, 'dist/bindings/cli/main.js.map'), 'utf8');
    const cli = JSON.parse(cliMap) as { sources: string[] };
    expect(cli.sources).toEqual(['../../../bindings/cli/main.ts']);
    expect(files).toContain('bindings/cli/main.ts');
    // No source ships without its compiled module (the test-only ones stay out alike).
    const sources = files.filter((f) => f.startsWith('bindings/') && f.endsWith('.ts'));
    expect(sources.filter((f) => !shipped.has(`dist/${f.replace(/\.ts$/, '.js')}`))).toEqual([]);
  });
});
