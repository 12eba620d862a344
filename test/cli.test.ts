import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { main } from '../bindings/cli/main.js';
import { VERSION } from '../bindings/index.js';
import { runCliInProcess } from './helpers/cli.js';

const run = (args: string[]) => runCliInProcess(args);

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describe('wasmvisor command line', () => {
  it('answers an unknown subcommand with exit status 2', async () => {
    const errs: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    (process.stderr as any).write = (s: string) => { errs.push(String(s)); return true; };
    try {
      expect(await main(['no-such-command'])).toBe(2);
    } finally {
      (process.stderr as any).write = orig;
    }
    expect(errs.join('')).toMatch(/unknown command/);
  });

  for (const flag of ['--version', '-V']) {
    it(`${flag} prints the version in package.json and exits 0`, async () => {
      const r = await run([flag]);
      expect(r.status).toBe(0);
      expect(r.out).toBe(`${pkg.version}\n`);
      expect(r.err).toBe('');
    });
  }

  it('the library\'s VERSION is the version in package.json', () => {
    expect(VERSION).toBe(pkg.version);
  });
});
