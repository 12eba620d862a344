/**
 * Snapshots of a running VM (docs/snapshots.md): the core's state block, guest RAM, every
 * device, the vCPU loop and its counters, the firmware, and each disk's contents, in one
 * versioned file with a SHA-256. Restored, the VM continues as the saved one would have:
 * the same instructions, the same bytes on its console, the same counters (time is
 * virtual). The same file restores in Node and in a browser.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import * as L from '../generated/layout.js';
import { Machine, type MachineConfig, type PlatformState } from '../machine/machine.js';
import type { IoAccess } from '../vmm/vcpu.js';
import type { BlockDevice } from '../disk/types.js';
import { RawImage } from '../disk/raw.js';
import { MemorySource } from '../disk/source.js';
import type { ResolvedVmmOptions } from '../vmm/options.js';
import {
  SnapshotError, decodeContainer, decodeSparse, encodeContainer, encodeSparse, peekVersion,
  FORMAT_VERSION, type Section,
} from './format.js';

export { SnapshotError, FORMAT_VERSION } from './format.js';

/** A disk larger than this is not embedded (the snapshot would not fit in memory). */
export const MAX_EMBEDDED_DISK = 2 ** 31;

/** What the META section says (JSON). */
export interface SnapshotMeta {
  format: 'wasmvisor-snapshot';
  /** The core's state layout (a hash of scripts/layout.mjs's output): a snapshot restores
   *  only into a core with the same layout. */
  layout: string;
  ramBytes: number;
  instructionsPerSecond: number;
  startTime?: number;
  stringIo: boolean;
  cpu: { vmx?: boolean; svm?: boolean };
  vmm: ResolvedVmmOptions;
  cmdline?: string;
  /** One entry per IDE position: null when empty. */
  disks: ({ size: number; readOnly: boolean } | null)[];
  /** Guest instructions retired when it was taken, and its virtual time. */
  instructions: number;
  virtualNs: number;
  /** A free-form label (the CLI puts the command line there). */
  label?: string;
}

/** What a restored machine is given by its new host: where its output goes. */
export interface RestoreOptions {
  /** The core's wasm (a browser must give it; Node finds the packaged one). */
  wasm?: BufferSource | URL;
  serialOut?: (byte: number) => void;
  debugcon?: (byte: number) => void;
  ioLog?: (access: IoAccess) => void;
  /** Disks to use instead of the embedded copies (same sizes), by IDE position. */
  disks?: (BlockDevice | undefined)[];
}

let layoutId: string | undefined;
/** A short hash of the core's layout constants (names and values). */
export function coreLayoutId(): string {
  if (!layoutId) {
    const entries = Object.entries(L).filter(([, v]) => typeof v === 'number').sort();
    const h = sha256(new TextEncoder().encode(JSON.stringify(entries)));
    layoutId = [...h.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
  }
  return layoutId;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Saves `machine` (between two runs) as a snapshot file. Disks are embedded whole (their
 * zero pages left out, then compressed): the snapshot needs no other file to restore.
 */
export function saveSnapshot(machine: Machine, opts: { label?: string } = {}): Uint8Array {
  const img = machine.image();
  const c = img.config;
  const disks = c.disks ?? [];
  const meta: SnapshotMeta = {
    format: 'wasmvisor-snapshot', layout: coreLayoutId(), ramBytes: c.ramBytes,
    instructionsPerSecond: machine.clock.instructionsPerSecond,
    ...(c.startTime !== undefined ? { startTime: c.startTime } : {}),
    stringIo: c.stringIo ?? true, cpu: { ...c.cpu }, vmm: machine.vmmOptions,
    ...(c.cmdline !== undefined ? { cmdline: c.cmdline } : {}),
    disks: disks.map((d) => (d ? { size: d.size, readOnly: d.readOnly } : null)),
    instructions: machine.core.instructions(), virtualNs: machine.clock.now,
    ...(opts.label !== undefined ? { label: opts.label } : {}),
  };
  const sections: Section[] = [
    { tag: 'META', data: enc.encode(JSON.stringify(meta)), compress: false },
    { tag: 'CPU ', data: img.cpu },
    { tag: 'RAM ', data: encodeSparse(img.ram) },
    { tag: 'PLAT', data: enc.encode(JSON.stringify(img.platform)) },
  ];
  if (c.firmware) sections.push({ tag: 'FIRM', data: c.firmware });
  if (img.virt) sections.push({ tag: 'VIRT', data: img.virt });
  if (img.vmm !== undefined) {
    sections.push({ tag: 'VMMS', data: enc.encode(JSON.stringify(img.vmm)) });
  }
  disks.forEach((d, i) => {
    if (!d) return;
    if (d.size > MAX_EMBEDDED_DISK) {
      throw new RangeError(`disk ${i}: ${d.size} bytes is too large to embed in a snapshot`);
    }
    const padded = new Uint8Array(Math.ceil(d.size / 4096) * 4096);
    d.read(0, padded.subarray(0, d.size));
    sections.push({ tag: `DSK${i}`, data: encodeSparse(padded) });
  });
  return encodeContainer(sections);
}

/** A snapshot's contents, checked, before any machine is built. */
export interface SnapshotContents {
  meta: SnapshotMeta;
  cpu: Uint8Array;
  ram: Uint8Array;
  platform: PlatformState;
  firmware?: Uint8Array;
  disks: (Uint8Array | undefined)[];
  virt?: Uint8Array;
  vmm?: unknown;
}

function json(bytes: Uint8Array | undefined, what: string): unknown {
  if (!bytes) throw new SnapshotError(`snapshot has no ${what} section`);
  try {
    return JSON.parse(dec.decode(bytes));
  } catch {
    throw new SnapshotError(`snapshot ${what} section is not JSON`);
  }
}

/** Reads and checks a snapshot file (container, checksum, version, layout, sizes). */
export function readSnapshot(file: Uint8Array): SnapshotContents {
  const s = decodeContainer(file);
  const meta = json(s.get('META'), 'META') as SnapshotMeta;
  if (typeof meta !== 'object' || meta === null || meta.format !== 'wasmvisor-snapshot') {
    throw new SnapshotError('snapshot META is not a wasmvisor snapshot description');
  }
  if (meta.layout !== coreLayoutId()) {
    throw new SnapshotError(`snapshot was made by a core with state layout ${meta.layout}; ` +
      `this core's is ${coreLayoutId()} (another wasmvisor version)`);
  }
  const ram = meta.ramBytes;
  if (!Number.isInteger(ram) || ram < 2 ** 21 || ram > 3 * 2 ** 30 || ram % 4096) {
    throw new SnapshotError(`snapshot META: bad ramBytes ${ram}`);
  }
  const cpu = s.get('CPU ');
  if (!cpu || cpu.length !== L.STATE_SIZE) {
    throw new SnapshotError(`snapshot CPU section must be ${L.STATE_SIZE} bytes`);
  }
  const ramEnc = s.get('RAM ');
  if (!ramEnc) throw new SnapshotError('snapshot has no RAM section');
  if (!Array.isArray(meta.disks) || meta.disks.length > 4) {
    throw new SnapshotError('snapshot META: bad disks');
  }
  const disks = meta.disks.map((d, i) => {
    const data = s.get(`DSK${i}`);
    if (d === null) {
      if (data) throw new SnapshotError(`snapshot has DSK${i} but no disk ${i}`);
      return undefined;
    }
    if (typeof d !== 'object' || !Number.isInteger(d.size) || d.size < 0 ||
        d.size > MAX_EMBEDDED_DISK || !data) {
      throw new SnapshotError(`snapshot disk ${i}: bad size or no DSK${i} section`);
    }
    return decodeSparse(data, Math.ceil(d.size / 4096) * 4096, `disk ${i}`)
      .subarray(0, d.size);
  });
  return {
    meta, cpu, ram: decodeSparse(ramEnc, ram, 'RAM'),
    platform: json(s.get('PLAT'), 'PLAT') as PlatformState,
    firmware: s.get('FIRM'), disks, virt: s.get('VIRT'),
    ...(s.has('VMMS') ? { vmm: json(s.get('VMMS'), 'VMMS') } : {}),
  };
}

/** The snapshot's description without building anything (the CLI's `snapshot info`). */
export function snapshotInfo(file: Uint8Array): SnapshotMeta & { version: number } {
  const version = peekVersion(file);
  return { version: version ?? FORMAT_VERSION, ...readSnapshot(file).meta };
}

/**
 * A machine restored from a snapshot file: it continues where the saved one stood. The
 * disks are in-memory copies of the embedded ones unless `opts.disks` gives others.
 * Throws SnapshotError (or a DeviceStateError naming the field) and builds nothing on a
 * bad file.
 */
export async function restoreSnapshot(file: Uint8Array, opts: RestoreOptions = {}):
  Promise<Machine> {
  const c = readSnapshot(file);
  const m = c.meta;
  const disks: (BlockDevice | undefined)[] = c.disks.map((d, i) => {
    const given = opts.disks?.[i];
    if (given) {
      if (given.size !== d?.length) {
        throw new SnapshotError(`disk ${i}: ${given.size} bytes, the snapshot's is ` +
          `${d?.length ?? 'absent'}`);
      }
      return given;
    }
    return d ? new RawImage(new MemorySource(d)) : undefined;
  });
  const config: MachineConfig = {
    ramBytes: m.ramBytes, instructionsPerSecond: m.instructionsPerSecond,
    ...(m.startTime !== undefined ? { startTime: m.startTime } : {}),
    stringIo: m.stringIo, cpu: m.cpu, mode: m.vmm.mode,
    ...(m.vmm.mode !== 'native' ? {
      paging: m.vmm.paging, tags: m.vmm.tags, pwc: m.vmm.pwc, ntlb: m.vmm.ntlb,
    } : {}),
    ...(m.cmdline !== undefined ? { cmdline: m.cmdline } : {}),
    firmware: c.firmware, disks, wasm: opts.wasm, serialOut: opts.serialOut,
    debugcon: opts.debugcon, ioLog: opts.ioLog,
  };
  try {
    return await Machine.restore({ config, cpu: c.cpu, ram: c.ram, platform: c.platform,
      ...(c.virt ? { virt: c.virt } : {}), ...(c.vmm !== undefined ? { vmm: c.vmm } : {}) });
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    throw new SnapshotError(`snapshot does not restore: ${(e as Error).message}`);
  }
}
