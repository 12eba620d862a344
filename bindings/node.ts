/**
 * wasmvisor's Node-only API (`wasmvisor/node`): what needs the host's files. The main
 * entry (`wasmvisor`) stays browser-safe; a browser gets the same guest files through the
 * package's exports (`wasmvisor/guests/jeos.elf`, `wasmvisor/guests/jeos-disk.img`).
 */
import { readFileSync } from 'node:fs';
import { packaged } from './cli/paths.js';
import { RawImage } from './disk/raw.js';
import { MemorySource } from './disk/source.js';
import type { BlockDevice } from './disk/types.js';

export { openImageFile } from './disk/node.js';
// Appliances on files: import, export and `ovf convert` (OVA, OVF, .vmx, VM folders).
export { importOva, inspectOvaFile, type ImportOptions } from './ovf/node/files.js';
export { exportOva, type ExportOptions } from './ovf/node/export.js';
export {
  convertAppliance, applianceForm, type ApplianceForm, type ConvertOptions, type ConvertResult,
} from './ovf/node/convert.js';

/** The bundled guest JeOS: its Multiboot kernel and its disk. */
export interface BundledJeos {
  /** guests/jeos/jeos.elf, for `Machine.create({ kernel })`. */
  kernel: Uint8Array;
  /** guests/jeos/disk.img as a raw disk in memory: a private copy (the disk workload
   *  writes to it), for `Machine.create({ disks: [disk] })`. */
  disk: BlockDevice;
}

/** Reads the JeOS kernel and disk shipped in the package. */
export function jeos(): BundledJeos {
  const kernel = new Uint8Array(readFileSync(packaged('guests/jeos/jeos.elf')));
  const image = new Uint8Array(readFileSync(packaged('guests/jeos/disk.img')));
  return { kernel, disk: new RawImage(new MemorySource(image)) };
}
/** Many VMs in worker threads under a credit scheduler, and their management API (Node). */
export { Host, type VmSpec, type VmInfo, type VmState, type EndReason, type HostOptions,
} from './host/host.js';
export { CreditScheduler, jainIndex, type SchedulerOptions, type SchedulerStats,
} from './host/scheduler.js';
export { serveControl } from './host/control.js';
/** The GDB remote-protocol stub (`wasmvisor run --gdb PORT`). */
export { GdbStub, type GdbStubEvents } from './gdb/stub.js';
