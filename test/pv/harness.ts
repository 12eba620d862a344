/** A PV domain built on a bare core, for calling hypercalls directly from tests. */
import { readFileSync } from 'node:fs';
import { createCore, type Core } from '../../bindings/core/index.js';
import { buildPvDomain, type BuiltDomain } from '../../bindings/vmm/pv/builder.js';

export const KERNEL = readFileSync(new URL('../../guests/pv/pvtest.elf', import.meta.url));
/** A scratch area of the guest (identity-mapped, writable, no page table). */
export const SCRATCH = 0x300000;

export interface Harness extends BuiltDomain {
  core: Core;
  console: string[];
  hc(nr: number, ...args: number[]): number;
  put32(va: number, ...words: number[]): void;
  get32(va: number): number;
  /** The frame table and every live page-table frame, for "changed nothing". */
  snapshot(): string;
}

export async function harness(ramBytes = 8 << 20): Promise<Harness> {
  const core = await createCore({ ramBytes });
  const console: string[] = [];
  const b = buildPvDomain(core, KERNEL, '', (x) => console.push(new TextDecoder().decode(x)),
    () => 0);
  const h: Harness = {
    ...b, core, console,
    hc: (nr, ...args) => b.domain.hypercall(nr, [...args, 0, 0, 0, 0, 0, 0].slice(0, 6)),
    put32(va, ...words) {
      const u = new Uint8Array(words.length * 4);
      const dv = new DataView(u.buffer);
      words.forEach((w, i) => dv.setUint32(i * 4, w >>> 0, true));
      core.writePhys(va, u);
    },
    get32: (va) => new DataView(core.readPhys(va, 4).buffer).getUint32(0, true),
    snapshot() {
      const f = b.frames;
      const parts = [f.owner, f.type, f.typeCount, f.refCount, f.pinned]
        .map((a) => Buffer.from(a.buffer).toString('base64'));
      for (let m = 0; m < f.nrFrames; m++) {
        if (f.typeCount[m] > 0 && f.type[m] >= 2) {
          parts.push(Buffer.from(core.readPhys(m * 4096, 4096)).toString('base64'));
        }
      }
      parts.push(String(core.getRegs().cr3));
      return parts.join('|');
    },
  };
  return h;
}
