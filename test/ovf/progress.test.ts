/**
 * Progress of long work. `img convert -p` prints qemu-img's meter, compared with what
 * qemu-img itself prints for the same conversion; `ovf export` and `ovf import` redraw a
 * one-line meter on stderr when it is a terminal (simulated here by marking the captured
 * stderr as a TTY, as Node marks a real one) and print nothing extra in a pipe.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCliInProcess } from '../helpers/cli.js';
import { terminalProgress } from '../../bindings/cli/progress.js';
import { hasQemuImg, run, tempDir } from './helpers.js';

const withQemu = hasQemuImg || process.env.CI === 'true';

/** The values of qemu-img's meter lines, "    (NN.NN/100%)\r", and what follows the last. */
function meter(out: string): { values: number[]; rest: string } {
  const values: number[] = [];
  const re = / {4}\((\d+\.\d\d)\/100%\)\r/y;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = re.exec(out))) {
    values.push(Number(m[1]));
    at = re.lastIndex;
  }
  return { values, rest: out.slice(at) };
}

/** Runs the CLI in-process with stderr marked as a terminal (or not). */
async function withTty<T>(tty: boolean, f: () => Promise<T>): Promise<T> {
  const prev = process.stderr.isTTY;
  (process.stderr as { isTTY?: boolean }).isTTY = tty;
  try {
    return await f();
  } finally {
    (process.stderr as { isTTY?: boolean }).isTTY = prev;
  }
}

describe.skipIf(!withQemu)('img convert -p', () => {
  it('prints the meter qemu-img prints: same line format, ' +
      '0 first, 100 twice last, then a newline', async () => {
    const dir = tempDir();
    run('qemu-img', ['create', '-q', '-f', 'raw', join(dir, 'src.raw'), '16M']);
    run('qemu-io', ['-f', 'raw', '-c', 'write -P 7 0 12M', join(dir, 'src.raw')]);
    const theirs = spawnSync(
      'qemu-img',
      ['convert', '-p', '-O', 'qcow2', 'src.raw', 'theirs.qcow2'],
      { cwd: dir, encoding: 'utf8' },
    ).stdout;
    const ours = await runCliInProcess(
      ['img', 'convert', '-p', '-O', 'qcow2', 'src.raw', 'ours.qcow2'],
      dir,
    );
    expect(ours.status).toBe(0);
    const t = meter(theirs);
    const o = meter(ours.out);
    expect(t.values.length).toBeGreaterThan(3);
    expect(o.rest).toBe(t.rest);
    expect(o.rest).toBe('\n');
    expect(o.values[0]).toBe(t.values[0]);
    expect(o.values.slice(-2)).toEqual(t.values.slice(-2));
    expect(o.values.slice(-2)).toEqual([100, 100]);
    // qemu-progress.c prints a value only when it moved by more than 1 point (or is 0 or 100).
    for (let i = 1; i < o.values.length; i++)
      if (o.values[i] !== 100) expect(o.values[i] - o.values[i - 1]).toBeGreaterThan(1);
    expect(o.values).toEqual([...o.values].sort((a, b) => a - b));
    // And the result is the same image, as qemu-img compare sees it.
    expect(
      run('qemu-img', ['compare', join(dir, 'theirs.qcow2'), join(dir, 'ours.qcow2')]),
    ).toMatch(/Images are identical/);
  });

  it('prints nothing with -q, as qemu-img does', async () => {
    const dir = tempDir();
    run('qemu-img', ['create', '-q', '-f', 'raw', join(dir, 'src.raw'), '1M']);
    const theirs = spawnSync(
      'qemu-img',
      ['convert', '-q', '-p', '-O', 'qcow2', 'src.raw', 't.qcow2'],
      { cwd: dir, encoding: 'utf8' },
    ).stdout;
    const ours = await runCliInProcess(
      ['img', 'convert', '-q', '-p', '-O', 'qcow2', 'src.raw', 'o.qcow2'],
      dir,
    );
    expect(ours.out).toBe(theirs);
    expect(ours.out).toBe('');
  });
});

describe('ovf export and import progress', () => {
  function disk(dir: string): string {
    const p = join(dir, 'disk.img');
    const b = new Uint8Array(4 << 20);
    for (let i = 0; i < b.length; i += 4096) b[i] = i >>> 12;
    writeFileSync(p, b);
    return p;
  }

  it('redraws a meter on a terminal and erases it before the result', async () => {
    const dir = tempDir();
    const img = disk(dir);
    const ex = await withTty(true, () =>
      runCliInProcess(['ovf', 'export', join(dir, 'p.ova'), '--no-vmdk', '--disk', img]),
    );
    expect(ex.status).toBe(0);
    // Both passes over the 4 MiB disk (digest, then archive).
    expect(ex.err).toMatch(/^\rexporting p\.ova: \d+% \([\d.]+ MiB of 8\.0 MiB\)\x1b\[K/);
    expect(ex.err).toContain('\rexporting p.ova: 50% (4.0 MiB of 8.0 MiB)\x1b[K');
    expect(ex.err).toContain('\rexporting p.ova: 100% (8.0 MiB of 8.0 MiB)\x1b[K');
    expect(ex.err.endsWith('\r\x1b[K')).toBe(true);
    const percents = [...ex.err.matchAll(/exporting p\.ova: (\d+)%/g)].map((m) => Number(m[1]));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(new Set(percents).size).toBe(percents.length);

    const im = await withTty(true, () =>
      runCliInProcess(['ovf', 'import', join(dir, 'p.ova'), join(dir, 'out')]),
    );
    expect(im.status).toBe(0);
    expect(im.err).toMatch(/\rimporting p\.ova: 100% \(4\.0 MiB of 4\.0 MiB\)\x1b\[K\r\x1b\[K$/);
  });

  it('prints no meter in a pipe', async () => {
    const dir = tempDir();
    const img = disk(dir);
    const ex = await withTty(false, () =>
      runCliInProcess(['ovf', 'export', join(dir, 'p.ova'), '--no-vmdk', '--disk', img]),
    );
    expect(ex.status).toBe(0);
    expect(ex.err).toBe('');
    const im = await withTty(false, () =>
      runCliInProcess(['ovf', 'import', join(dir, 'p.ova'), join(dir, 'out')]),
    );
    expect(im.err).toBe('');
  });

  it('shows the conversion of a streamOptimized disk on import, ' +
      "and an OVF folder's size", async () => {
    const dir = tempDir();
    const img = disk(dir);
    const exported = await runCliInProcess([
      'ovf', 'export', '--vmdk', join(dir, 'v.ova'), '--disk', img,
    ]);
    expect(exported.status).toBe(0);
    mkdirSync(join(dir, 'unpacked'));
    run('tar', ['-xf', join(dir, 'v.ova'), '-C', join(dir, 'unpacked')]);
    const im = await withTty(true, () =>
      runCliInProcess([
        'ovf', 'import', join(dir, 'unpacked', 'wasmvisor-vm.ovf'), join(dir, 'out'),
      ]),
    );
    expect(im.status).toBe(0);
    expect(im.err).toMatch(/\rimporting wasmvisor-vm\.ovf: 100% /);
    expect(im.err).toContain('\rconverting disk.vmdk to qcow2: 100% (4.0 MiB of 4.0 MiB)\x1b[K');
  });

  it('draws nothing for a stream that is not a terminal', () => {
    const written: string[] = [];
    expect(terminalProgress({ write: (s: string) => written.push(s) })).toBeUndefined();
    const p = terminalProgress({ isTTY: true, write: (s: string) => written.push(s) })!;
    p.update('x', 1, 3);
    p.update('x', 1, 3);
    p.update('x', 3, 3);
    p.end();
    expect(written).toEqual([
      '\rx: 33% (1 B of 3 B)\x1b[K',
      '\rx: 100% (3 B of 3 B)\x1b[K',
      '\r\x1b[K',
    ]);
  });
});
