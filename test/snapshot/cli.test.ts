/**
 * `wasmvisor run --snapshot-at N --snapshot-file F`, `wasmvisor restore F` and
 * `wasmvisor snapshot info F`: the restored run prints exactly the rest of the bundled
 * JeOS run's console (the uninterrupted run is the reference) and exits as it did.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

describe('snapshots on the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wv-snap-'));
  const file = join(dir, 'jeos.snap');

  it('run --snapshot-at, then restore: the same console bytes and exit status', () => {
    const full = runCli(['run', '--snapshot-at', '23456789', '--snapshot-file', file]);
    expect(full.status).toBe(0);
    expect(full.stderr).toContain(`snapshot at 23456789 instructions written to ${file}`);
    // The console's part of the bundled run: everything before the table.
    const consoleText = full.stdout.slice(0, full.stdout.indexOf('\nworkload  iterations'));
    const rest = runCli(['restore', file]);
    expect(rest.status).toBe(0);
    expect(rest.stdout.length).toBeGreaterThan(100);
    expect(consoleText.endsWith(rest.stdout)).toBe(true);
    expect(rest.stdout).toContain('jeos exit code=0');
  }, 120_000);

  it('snapshot info, as text and JSON', () => {
    const text = runCli(['snapshot', 'info', file]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('format version 1');
    expect(text.stdout).toContain('taken after 23456789 instructions');
    const json = JSON.parse(runCli(['snapshot', 'info', '--json', file]).stdout);
    expect(json).toMatchObject({ version: 1, instructions: 23456789, disks: [{ size: 524288 }] });
  });

  it('a damaged file: exit status 2 and a clear message', () => {
    const bad = readFileSync(file);
    bad[bad.length >> 1] ^= 1;
    writeFileSync(join(dir, 'bad.snap'), bad);
    const r = runCli(['restore', join(dir, 'bad.snap')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/checksum \(SHA-256\) does not match/);
    const u = runCli(['run', '--snapshot-at', '5']);
    expect(u.status).toBe(2);
    expect(u.stderr).toContain('--snapshot-at and --snapshot-file go together');
  });
});
