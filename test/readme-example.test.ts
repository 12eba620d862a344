/**
 * The README's library example runs as it is written: its code block, taken from the
 * README, is run by Node against the package as a user installs it (node_modules/wasmvisor
 * pointing at this folder, so the package's exports decide what resolves). JeOS's own
 * output says whether its checks and workloads passed (guests/jeos/README.md, "Output").
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import {
  mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

/** The README's fenced code blocks of a language, in order. */
function codeBlocks(lang: string): string[] {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```', 'gm');
  return [...text.matchAll(block)].map((m) => m[1]);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wv-readme-'));
  mkdirSync(join(dir, 'node_modules'));
  // A user's project of ES modules (the example awaits at top level).
  const pkg = { name: 'example', type: 'module', private: true };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
  symlinkSync(ROOT, join(dir, 'node_modules', 'wasmvisor'), 'dir');
  symlinkSync(join(ROOT, 'node_modules', 'tsx'), join(dir, 'node_modules', 'tsx'), 'dir');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a README example as a user's ES module. */
function runExample(code: string) {
  writeFileSync(join(dir, 'example.ts'), code);
  return spawnSync(process.execPath, ['--import', 'tsx', 'example.ts'],
    { cwd: dir, encoding: 'utf8', timeout: 120_000 });
}

describe('the README', () => {
  it('has a library example that runs as written', () => {
    const built = existsSync(join(ROOT, 'dist/bindings/node.js'));
    expect(built, 'dist/ is built by npm install (npm run build:ts)').toBe(true);
    const examples = codeBlocks('ts').filter((b) => /from 'wasmvisor'/.test(b));
    expect(examples).toHaveLength(2);
    const r = runExample(examples[0]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^wl syscall iters=1000 /m);
    expect(r.stdout).toMatch(/^wl disk iters=\d+ .*verify=ok/m);
    expect(r.stdout).toContain('jeos exit code=0');
    expect(r.stdout).toContain("{ kind: 'poweroff' }");
  });

  it('has a hypervisor example (Hypervisor, Vm) that runs as written', () => {
    const example = codeBlocks('ts').filter((b) => /from 'wasmvisor'/.test(b))[1];
    expect(example).toMatch(/new Hypervisor\(\)/);
    const r = runExample(example);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^wl syscall iters=1000 /m);
    expect(r.stdout).toContain('jeos exit code=0');
    expect(r.stdout).toContain("jeos { kind: 'poweroff' } native");
  });

  it('names files a browser build resolves through the package\'s exports', () => {
    const require = createRequire(join(dir, 'x.js'));
    const same = (spec: string, file: string) =>
      readFileSync(require.resolve(spec)).equals(readFileSync(join(ROOT, file)));
    expect(same('wasmvisor/guests/jeos.elf', 'guests/jeos/jeos.elf')).toBe(true);
    expect(same('wasmvisor/guests/jeos-disk.img', 'guests/jeos/disk.img')).toBe(true);
  });
});
