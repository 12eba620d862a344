/** Shared helpers of the core tests: a fresh core with code at a real-mode or flat
 *  protected-mode address. */
import { createCore, type Core } from '../../bindings/core/index.js';

export const CODE = 0x1000;

/** A core in real mode with `code` at 0000:1000 and SP = 0x8000. */
export async function realModeCore(code: number[], ramBytes = 1 << 20): Promise<Core> {
  const core = await createCore({ ramBytes });
  core.writePhys(CODE, new Uint8Array(code));
  core.setSegment('cs', { selector: 0, base: 0, limit: 0xffff, access: 0x9b });
  core.setRegs({ eip: CODE, esp: 0x8000 });
  return core;
}

/** A core in flat 32-bit protected mode (no GDT needed: the caches are set directly) with
 *  `code` at 0x1000 and ESP = 0x80000. */
export async function flat32Core(code: number[], ramBytes = 1 << 21): Promise<Core> {
  const core = await createCore({ ramBytes });
  core.writePhys(CODE, new Uint8Array(code));
  core.setRegs({ cr0: 0x60000011 });
  core.setSegment('cs', { selector: 0x08, base: 0, limit: 0xffffffff, access: 0xc09b });
  for (const s of ['ds', 'es', 'ss', 'fs', 'gs'] as const) {
    core.setSegment(s, { selector: 0x10, base: 0, limit: 0xffffffff, access: 0xc093 });
  }
  core.setRegs({ eip: CODE, esp: 0x80000 });
  return core;
}
