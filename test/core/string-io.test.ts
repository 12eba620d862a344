/**
 * String I/O exits (Core.setStringIo, KVM's KVM_EXIT_IO with a count): REP INS/OUTS exit
 * once per run of elements within a page instead of once per element. What the guest sees
 * must not change: each program runs twice, element by element and batched, against the
 * same port device, and the registers, the memory, every value the device was given and
 * the number of values it produced must be the same; only the exits differ.
 */
import { describe, it, expect } from 'vitest';
import type { Core } from '../../bindings/core/index.js';
import { flat32Core, realModeCore, HANDLERS } from './helpers.js';

const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const movEdi = (v: number) => [0xbf, ...le32(v)];
const movEsi = (v: number) => [0xbe, ...le32(v)];
const movEcx = (v: number) => [0xb9, ...le32(v)];
const movEdx = (v: number) => [0xba, ...le32(v)];

interface Outcome {
  regs: ReturnType<Core['getRegs']>;
  memory: number[];
  /** Values the guest wrote to the port, in order. */
  written: number[];
  /** Values the port produced. */
  produced: number;
  exits: number;
  /** Largest element count of one exit. */
  largest: number;
  /** Address where the run halted. */
  haltedAt: number;
}

/** Runs the core to its HLT, acting as a port whose reads give a fixed sequence. */
function drive(core: Core, stringIo: boolean, region: [number, number]): Outcome {
  core.setStringIo(stringIo);
  let produced = 0, exits = 0, largest = 0;
  const written: number[] = [];
  const next = (size: number) => {
    const v = (Math.imul(produced + 1, 0x9e3779b1) >>> 0) >>> (32 - 8 * size);
    produced++;
    return v;
  };
  for (let guard = 0; ; guard++) {
    if (guard > 1_000_000) throw new Error('no HLT');
    const e = core.run(1_000_000);
    if (e.reason === 'hlt') break;
    if (e.reason === 'budget') continue;
    if (e.reason !== 'io') throw new Error(`unexpected exit ${JSON.stringify(e)}`);
    exits++;
    const n = e.count ?? 1;
    largest = Math.max(largest, n);
    if (e.data) {
      expect(e.data.length).toBe(n * e.size);
      const dv = new DataView(e.data.buffer, e.data.byteOffset, e.data.byteLength);
      for (let i = 0; i < n; i++) {
        const at = i * e.size;
        if (e.write) written.push(e.size === 1 ? dv.getUint8(at) : e.size === 2 ? dv.getUint16(at, true) : dv.getUint32(at, true));
        else {
          const v = next(e.size);
          if (e.size === 1) dv.setUint8(at, v); else if (e.size === 2) dv.setUint16(at, v, true); else dv.setUint32(at, v, true);
        }
      }
      if (e.write) expect(e.value).toBe(written[written.length - n]);
    } else if (e.write) written.push(e.value);
    else core.completeIo(next(e.size));
  }
  const regs = core.getRegs();
  const cs = core.getSegment('cs').base;
  return {
    regs, memory: [...core.readPhys(region[0], region[1] - region[0])], written, produced, exits, largest,
    haltedAt: (cs + regs.eip - 1) >>> 0,
  };
}

async function both(make: () => Promise<Core>, region: [number, number]): Promise<[Outcome, Outcome]> {
  const one = drive(await make(), false, region);
  const batched = drive(await make(), true, region);
  return [one, batched];
}

/** Fills guest memory with a pattern so that OUTS has something to send. */
function pattern(core: Core, at: number, bytes: number): void {
  const b = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (i * 7 + 3) & 0xff;
  core.writePhys(at, b);
}

describe('string I/O exits (setStringIo)', () => {
  it('REP INSW up a page boundary: same memory and registers, one exit per page run', async () => {
    const code = [...movEdi(0x20f00), ...movEcx(300), ...movEdx(0x1f0), 0xfc, 0x66, 0xf3, 0x6d, 0xf4];
    const [one, batched] = await both(() => flat32Core(code), [0x20e00, 0x21400]);
    expect(batched.regs).toEqual(one.regs);
    expect(batched.memory).toEqual(one.memory);
    expect(batched.produced).toBe(300);
    expect(one.produced).toBe(300);
    expect(one.exits).toBe(300);
    // 128 words fit before 0x21000; the page's first element goes alone (it fills the TLB),
    // then the rest of the page in one exit; likewise after the boundary.
    expect(batched.exits).toBeLessThanOrEqual(4);
    expect(batched.largest).toBeGreaterThanOrEqual(127);
    expect(batched.regs.ecx).toBe(0);
    expect(batched.regs.edi).toBe(0x20f00 + 600);
  });

  it('REP OUTSD over several pages: the device gets the same values in the same order', async () => {
    const code = [...movEsi(0x21000), ...movEcx(3000), ...movEdx(0x3f8), 0xfc, 0xf3, 0x6f, 0xf4];
    const make = async () => { const c = await flat32Core(code); pattern(c, 0x21000, 12000); return c; };
    const [one, batched] = await both(make, [0x21000, 0x24000]);
    expect(batched.written).toEqual(one.written);
    expect(one.written.length).toBe(3000);
    expect(batched.regs).toEqual(one.regs);
    expect(one.exits).toBe(3000);
    expect(batched.exits).toBeLessThan(10);
    expect(batched.largest).toBe(1023); // a page of dwords after its first element
  });

  it('REP INSB running down (DF = 1) across pages', async () => {
    const code = [...movEdi(0x30fff), ...movEcx(5000), ...movEdx(0x60), 0xfd, 0xf3, 0x6c, 0xfc, 0xf4];
    const [one, batched] = await both(() => flat32Core(code), [0x2e000, 0x31000]);
    expect(batched.memory).toEqual(one.memory);
    expect(batched.regs).toEqual(one.regs);
    expect(batched.regs.edi).toBe(0x30fff - 5000);
    expect(batched.exits).toBeLessThan(10);
  });

  it('stops at the element a segment limit faults on, having read no element past it', async () => {
    // ES ends at 0x20FFF: the 257th word at 0x21000 raises #GP(0).
    const code = [...movEdi(0x20e00), ...movEcx(1000), ...movEdx(0x1f0), 0xfc, 0x66, 0xf3, 0x6d, 0xf4];
    const make = async () => {
      const c = await flat32Core(code);
      c.setSegment('es', { selector: 0x10, base: 0, limit: 0x20fff, access: 0x4093 });
      return c;
    };
    const [one, batched] = await both(make, [0x20e00, 0x21000]);
    expect(one.haltedAt).toBe(HANDLERS + 4 * 13);
    expect(batched.haltedAt).toBe(HANDLERS + 4 * 13);
    expect(one.produced).toBe(256);
    expect(batched.produced).toBe(256);
    expect(batched.memory).toEqual(one.memory);
    expect(batched.regs.ecx).toBe(1000 - 256);
    expect(batched.regs.edi).toBe(0x21000);
    expect({ ...batched.regs, esp: 0 }).toEqual({ ...one.regs, esp: 0 });
  });

  it('real mode: 16-bit DI wraps inside the segment, so a run never crosses the wrap', async () => {
    // mov di, 0xfff0; mov cx, 40; mov dx, 0x1f0; cld; rep insw; hlt (ES = 0x2000)
    const code = [0xbf, 0xf0, 0xff, 0xb9, 40, 0, 0xba, 0xf0, 0x01, 0xfc, 0xf3, 0x6d, 0xf4];
    const make = async () => {
      const c = await realModeCore(code);
      c.setSegment('es', { selector: 0x2000, base: 0x20000, limit: 0xffff, access: 0x93 });
      return c;
    };
    const [one, batched] = await both(make, [0x20000, 0x30000]);
    expect(batched.memory).toEqual(one.memory);
    expect(batched.regs).toEqual(one.regs);
    expect(batched.regs.edi & 0xffff).toBe((0xfff0 + 80) & 0xffff);
    expect(batched.exits).toBeLessThan(one.exits);
  });

  it('is off by default: one exit per element, no count', async () => {
    const code = [...movEdi(0x20000), ...movEcx(16), ...movEdx(0x1f0), 0xfc, 0x66, 0xf3, 0x6d, 0xf4];
    const core = await flat32Core(code);
    let exits = 0;
    for (;;) {
      const e = core.run(1000);
      if (e.reason === 'hlt') break;
      if (e.reason !== 'io') throw new Error(e.reason);
      expect(e.count).toBeUndefined();
      exits++;
      core.completeIo(exits);
    }
    expect(exits).toBe(16);
  });
});
