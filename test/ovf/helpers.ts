/**
 * Shared test helpers for the OVF/OVA tests: where the real samples are (a verbatim copy
 * of the shared samples, with their licence notes, in test/fixtures/ovf/samples), temp
 * folders, and the reference tools on this machine (GNU tar, coreutils digests).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { OvfError } from '../../bindings/ovf/errors.js';
import type { DiskConfig, VmConfig } from '../../bindings/config/types.js';
import { hasTool } from '../helpers/tools.js';
import { FileSource } from '../../bindings/disk/node-file.js';
import { createImage } from '../../bindings/disk/convert.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SAMPLES = join(REPO, 'test/fixtures/ovf/samples');

/** Every sample descriptor: [relative name, absolute path]. */
export function sampleDescriptors(): [string, string][] {
  const out: [string, string][] = [];
  for (const d of readdirSync(SAMPLES, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    for (const f of readdirSync(join(SAMPLES, d.name))) {
      if (f.endsWith('.ovf')) out.push([`${d.name}/${f}`, join(SAMPLES, d.name, f)]);
    }
  }
  return out.sort();
}

export function sample(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(join(SAMPLES, rel)));
}

/** Every folder tempDir() made in this test file; all removed once the file's tests are done. */
const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A fresh folder in the OS temp dir, removed after the importing test file has run (this
 * module is loaded once per test file, so the hook above belongs to that file's root suite).
 */
export function tempDir(prefix = 'wasmvisor-ovf-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export const hasGnuTar = hasTool('GNU tar');
export const hasSha256sum = hasTool('sha256sum');
export const hasQemuImg = hasTool('qemu-img');

export function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Collects an async byte stream. */
export async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of it) { parts.push(c); n += c.length; }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export async function* chunks(b: Uint8Array, size = 4096): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < b.length; o += size) yield b.subarray(o, o + size);
}

/**
 * Runs `f` and returns the OvfError it throws (failing
 * the test if it throws anything else or nothing).
 */
export async function ovfError(f: () => unknown): Promise<OvfError> {
  try {
    await f();
  } catch (e) {
    if (e instanceof OvfError) return e;
    throw new Error(`expected an OvfError, got ${String(e)}`);
  }
  throw new Error('expected an OvfError, nothing was thrown');
}

/** A small VM (1 CPU, 16 MiB, BIOS, no NIC or serial port) with `disks`. */
export function vmConfig(name: string, disks: DiskConfig[]): VmConfig {
  return {
    version: 1, name, cpus: 1, memoryMiB: 16, boot: { firmware: 'bios' },
    disks, nics: [], serial: [],
  };
}

/** A raw disk image `path` as IDE primary master, with its capacity when given. */
export function rawIdeDisk(path: string, capacityBytes?: number): DiskConfig {
  return {
    controller: { type: 'ide', channel: 0, unit: 0 }, media: 'disk', path, format: 'raw',
    ...(capacityBytes === undefined ? {} : { capacityBytes }),
  };
}

/** Runs `wasmvisor ovf ARGS...` in this process, capturing its output and exit status. */
export async function cli(...args: string[]): Promise<{ status: number; out: string; err: string }> {
  const { main } = await import('../../bindings/cli/main.js');
  const out: string[] = [];
  const err: string[] = [];
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  (process.stdout as any).write = (s: string) => { out.push(String(s)); return true; };
  (process.stderr as any).write = (s: string) => { err.push(String(s)); return true; };
  try {
    const status = await main(['ovf', ...args]);
    return { status, out: out.join(''), err: err.join('') };
  } finally {
    (process.stdout as any).write = o;
    (process.stderr as any).write = e;
  }
}

/** A streamOptimized VMDK of `bytes` at `path`, written by the disk image code. */
export function vmdk(path: string, bytes = 2 ** 20): void {
  const f = new FileSource(path, 'w');
  try {
    createImage(f, bytes, { format: 'vmdk', vmdk: { subformat: 'streamOptimized' } });
  } finally {
    f.close();
  }
}

/** A descriptor in VMware's shape with `items` in its VirtualHardwareSection. */
export function vmware(
  items: string,
  opts: { refs?: string; disks?: string; head?: string; inVs?: string } = {},
): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"
  xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
  xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
  xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData">
  <References>${opts.refs ?? ''}</References>
  <DiskSection><Info>Virtual disk information</Info>${opts.disks ?? ''}</DiskSection>
  ${opts.head ?? ''}
  <VirtualSystem ovf:id="vm">
    <Info>A virtual machine</Info>
    ${opts.inVs ?? ''}
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      ${items}
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>`;
}

export const cpu = (n: number, attrs = '', id = 'InstanceID') => `<Item ${attrs}>
  <rasd:ElementName>${n} virtual CPU(s)</rasd:ElementName>
  <rasd:${id}>1</rasd:${id}><rasd:ResourceType>3</rasd:ResourceType>
  <rasd:VirtualQuantity>${n}</rasd:VirtualQuantity></Item>`;
export const mem = (body: string, attrs = '') => `<Item ${attrs}>
  <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
  <rasd:ElementName>memory</rasd:ElementName><rasd:InstanceID>2</rasd:InstanceID>
  <rasd:ResourceType>4</rasd:ResourceType>${body}</Item>`;

