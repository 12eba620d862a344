import { describe, it, expect } from 'vitest';
import { main } from '../bindings/cli/main.js';

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
});
