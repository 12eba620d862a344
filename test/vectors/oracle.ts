/**
 * A stand-in `Core` that answers each vector with what the CPU recorded (optionally
 * damaged), used to check that the replay harness accepts right answers and names wrong
 * ones. It executes nothing.
 */
import type { Exit, Regs, Segment, TableReg } from '../../bindings/core/types.js';
import { MACHINE, ReplayCore } from './replay.js';
import { bytesOf, Layout, outputs, regionOut, Vector } from './fixtures.js';

export type Damage = (v: Vector, regs: Regs, mem: Uint8Array) => void;

export class OracleCore implements ReplayCore {
  private mem = new Uint8Array(MACHINE.ramBytes);
  private regs: Regs = {
    eax: 0, ecx: 0, edx: 0, ebx: 0, esp: 0, ebp: 0, esi: 0, edi: 0, eip: 0, eflags: 2,
    cr0: 0, cr2: 0, cr3: 0, cr4: 0, dr0: 0, dr1: 0, dr2: 0, dr3: 0, dr6: 0, dr7: 0,
  };
  private next?: Vector;
  constructor(private layout: Layout, private damage?: Damage) {}

  /** The vector whose recorded result the next run() reproduces. */
  expect(v: Vector): void { this.next = v; }

  run(): Exit {
    const v = this.next;
    if (!v) return { reason: 'invalid', why: 'no vector' };
    const o = outputs(v);
    Object.assign(this.regs, { eax: o[0], ecx: o[1], edx: o[2], ebx: o[3], esp: o[4], ebp: o[5], esi: o[6], edi: o[7], eflags: o[8] });
    for (const m of v.m) this.mem.set(bytesOf(regionOut(m)), m[0]);
    if (v.x) {
      const push = (x: number) => { this.regs.esp = (this.regs.esp - 4) >>> 0; new DataView(this.mem.buffer).setUint32(this.regs.esp, x, true); };
      push(o[8] | 0x10000);
      push(v.c ? 0x20 : 0x08);
      push((v.c ? 0 : this.layout.code) + v.x[2]);
      if ([8, 10, 11, 12, 13, 14, 17, 21].includes(v.x[0])) push(v.x[1]);
      this.regs.eip = MACHINE.handlers + 4 * v.x[0] + 1;
    } else {
      this.regs.eip = (v.c ? 0 : this.layout.code) + (v.e ?? v.b.length / 2) + 1;
    }
    this.damage?.(v, this.regs, this.mem);
    return { reason: 'hlt' };
  }

  getRegs(): Regs { return { ...this.regs }; }
  setRegs(r: Partial<Regs>): void { Object.assign(this.regs, r); }
  readPhys(addr: number, length: number): Uint8Array { return this.mem.slice(addr, addr + length); }
  writePhys(addr: number, data: Uint8Array): void { this.mem.set(data, addr); }
  setSegment(_s: string, _v: Segment): void {}
  setTable(_w: string, _t: TableReg): void {}
}
