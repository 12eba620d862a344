/**
 * `wasmvisor img` errors name the file the user gave (never the temporary file a new
 * image is written to), say when a path is a folder, and bad options are refused before
 * anything is printed. Where qemu-img is present, it must refuse the same commands.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureBytes, hasQemuImg, manifest, qemuImg, tempDir } from './helpers.js';
import { runCliInProcess } from '../helpers/cli.js';

const t = tempDir();
afterAll(() => t.cleanup());

const run = (args: string[]) => runCliInProcess(args);

/** A qcow2 fixture written by qemu-img, copied into the temp folder. */
function source(): string {
  const name = Object.keys(manifest).find((n) => manifest[n].info.format === 'qcow2')!;
  const p = join(t.dir, 'src.qcow2');
  writeFileSync(p, fixtureBytes(name));
  return p;
}

describe('wasmvisor img errors', () => {
  it('convert into a missing folder names the target, not the temporary file', async () => {
    const src = source();
    const target = join(t.dir, 'missing', 'x.qcow2');
    const r = await run(['img', 'convert', '-O', 'qcow2', src, target]);
    expect(r.status).toBe(2);
    expect(r.err).toBe(`wasmvisor: cannot create ${target}: no such file or directory\n`);
    expect(r.err).not.toMatch(/\.tmp-/);
    if (hasQemuImg) {
      const q = qemuImg(['convert', '-O', 'qcow2', src, target]);
      expect(q.status).not.toBe(0);
      expect(q.stderr).toContain(target);
    }
  });

  it('convert onto a folder says so and leaves nothing in it', async () => {
    const src = source();
    const dir = join(t.dir, 'a-folder');
    mkdirSync(dir, { recursive: true });
    const r = await run(['img', 'convert', '-O', 'qcow2', src, dir]);
    expect(r.status).toBe(2);
    expect(r.err).toBe(`wasmvisor: ${dir}: is a directory\n`);
    expect(readdirSync(dir)).toEqual([]);
    expect(readdirSync(t.dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('info on a folder names it', async () => {
    const dir = join(t.dir, 'info-folder');
    mkdirSync(dir, { recursive: true });
    const r = await run(['img', 'info', dir]);
    expect(r.status).toBe(2);
    expect(r.err).toBe(`wasmvisor: ${dir}: is a directory\n`);
    expect(r.err).not.toMatch(/EISDIR/);
    if (hasQemuImg) expect(qemuImg(['info', dir]).status).not.toBe(0);
  });

  it('info on a missing file names it once, without Node\'s error code', async () => {
    const p = join(t.dir, 'nope.qcow2');
    const r = await run(['img', 'info', p]);
    expect(r.status).toBe(2);
    expect(r.err).toBe(`wasmvisor: cannot open ${p}: no such file or directory\n`);
  });

  it('create refuses a bad cluster_size before printing anything', async () => {
    const p = join(t.dir, 'c.qcow2');
    const r = await run(['img', 'create', '-f', 'qcow2', '-o', 'cluster_size=3k', p, '1M']);
    expect(r.status).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(
      /cluster size must be a power of two between 512 and 2097152 bytes, not 3072/,
    );
    expect(existsSync(p)).toBe(false);
    // qemu-img refuses the same options (qcow2 spec: cluster_bits 9..21).
    if (hasQemuImg) {
      const q = join(t.dir, 'q.qcow2');
      expect(qemuImg(['create', '-f', 'qcow2', '-o', 'cluster_size=3k', q, '1M']).status).not.toBe(
        0,
      );
      expect(existsSync(q)).toBe(false);
    }
  });

  it('create refuses refcount_bits=8 with compat=0.10 ' +
      'before printing, as qemu-img refuses it', async () => {
    const p = join(t.dir, 'v2.qcow2');
    const r = await run([
      'img', 'create', '-f', 'qcow2', '-o', 'compat=0.10,refcount_bits=8', p, '1M',
    ]);
    expect(r.status).toBe(2);
    expect(r.out).toBe('');
    expect(existsSync(p)).toBe(false);
    if (hasQemuImg)
      expect(
        qemuImg([
          'create', '-f', 'qcow2', '-o', 'compat=0.10,refcount_bits=8', join(t.dir, 'q2.qcow2'),
          '1M',
        ]).status,
      ).not.toBe(0);
  });

  it('create with good options still prints the Formatting line and makes the image', async () => {
    const p = join(t.dir, 'ok.qcow2');
    const r = await run(['img', 'create', '-f', 'qcow2', '-o', 'cluster_size=4k', p, '1M']);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/^Formatting '.*ok\.qcow2', fmt=qcow2 cluster_size=4096 /);
    expect(existsSync(p)).toBe(true);
  });
});
