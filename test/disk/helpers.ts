/** Shared helpers of the disk-image tests: fixtures, hashing, and the qemu tools when present. */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { expect } from 'vitest';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'fflate';
import { MemorySource } from '../../bindings/disk/source.js';
import type { DiskImage } from '../../bindings/disk/types.js';
import { hasTool } from '../helpers/tools.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'disk');

export interface MapEntry {
  start: number;
  length: number;
  data: boolean;
  zero: boolean;
  depth: number;
}
export interface ManifestEntry { sha256: string; info: Record<string, any>; map: MapEntry[] }
export const manifest: Record<string, ManifestEntry> = JSON.parse(
  readFileSync(join(FIXTURES, 'manifest.json'), 'utf8'),
);

/** The bytes of a fixture image (stored gzip-compressed unless it is a copied sample). */
export function fixtureBytes(name: string): Uint8Array {
  if (name.startsWith('cot-')) return new Uint8Array(readFileSync(join(FIXTURES, name)));
  return gunzipSync(new Uint8Array(readFileSync(join(FIXTURES, name + '.gz'))));
}

export function fixtureSource(name: string, writable = false): MemorySource {
  return new MemorySource(fixtureBytes(name).slice(), writable);
}

/** SHA-256 of the whole virtual disk as the image reads it. */
export function sha256Of(img: DiskImage, chunk = 1 << 20): string {
  const h = createHash('sha256');
  const buf = new Uint8Array(chunk);
  for (let pos = 0; pos < img.size; pos += chunk) {
    const b = buf.subarray(0, Math.min(chunk, img.size - pos));
    img.read(pos, b);
    h.update(b);
  }
  return h.digest('hex');
}

export function sha256Bytes(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export const hasQemuImg = hasTool('qemu-img');
export const hasQemuIo = hasTool('qemu-io');

export function qemuImg(
  args: string[],
  cwd?: string,
): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('qemu-img', args, { encoding: 'utf8', cwd });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function qemuIo(fmt: string, file: string, cmds: string[]): void {
  execFileSync('qemu-io', ['-f', fmt, ...cmds.flatMap((c) => ['-c', c]), file], {
    stdio: 'ignore',
  });
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-disk-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A deterministic byte pattern (xorshift), for data that compresses badly. */
export function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** qemu-img's major version (the expected outputs were taken from 7.2). */
export const qemuMajor: number | undefined = (() => {
  if (!hasQemuImg) return undefined;
  const m = /version (\d+)\./.exec(
    spawnSync('qemu-img', ['--version'], { encoding: 'utf8' }).stdout,
  );
  return m ? Number(m[1]) : undefined;
})();
// (test/helpers/tools-setup.ts says once per run when qemu-img is not 7.x.)

/** `theirs` reduced to the keys `ours` has, recursively (arrays element by element). */
function pick(theirs: unknown, ours: unknown): unknown {
  if (Array.isArray(theirs) && Array.isArray(ours)) return theirs.map((t, i) => pick(t, ours[i]));
  if (
    theirs &&
    ours &&
    typeof theirs === 'object' &&
    typeof ours === 'object' &&
    !Array.isArray(theirs)
  ) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(ours as object))
      if (k in (theirs as object))
        out[k] = pick((theirs as Record<string, unknown>)[k], (ours as Record<string, unknown>)[k]);
    return out;
  }
  return theirs;
}

/**
 * Expects this code's output to be qemu-img's: byte for byte on qemu 7.x (the version the
 * formats were taken from); on other versions, without what newer versions add (JSON keys
 * this code does not print; the "Child node" sections of the text output).
 */
export function expectQemuOutput(ours: string, theirs: string): void {
  // DISK_QEMU_TOLERANT=1 takes the other-version path on 7.x too (to test it).
  if ((qemuMajor === 7 || qemuMajor === undefined) && process.env.DISK_QEMU_TOLERANT !== '1') {
    expect(ours).toBe(theirs);
    return;
  }
  const t = theirs.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) {
    const o = JSON.parse(ours);
    expect(o).toEqual(pick(JSON.parse(theirs), o));
    return;
  }
  const cut = theirs.search(/^Child node /m);
  expect(ours).toBe(cut >= 0 ? theirs.slice(0, cut) : theirs);
}
