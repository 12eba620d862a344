/**
 * The physical address space: RAM, ROM mapped over it, MMIO exits, unclaimed addresses,
 * and the A20 gate (bit 20 of every physical address forced to 0 when the gate is off, as
 * on the PC/AT).
 */
import { describe, it, expect } from 'vitest';
import { realModeCore, runToHlt } from './helpers.js';

describe('physical memory', () => {
  it('wraps at 1 MiB with A20 off and not with A20 on', async () => {
    // mov ax, 0xffff ; mov ds, ax ; mov byte [0x10], 0x5a ; hlt    (FFFF:0010 = 0x100000)
    const code = [0xb8, 0xff, 0xff, 0x8e, 0xd8, 0xc6, 0x06, 0x10, 0x00, 0x5a, 0xf4];
    const off = await realModeCore(code, 2 << 20);
    off.setA20(false);
    runToHlt(off);
    expect(off.readPhys(0, 1)[0]).toBe(0x5a);
    expect(off.readPhys(0x100000, 1)[0]).toBe(0);
    const on = await realModeCore(code, 2 << 20);
    runToHlt(on);
    expect(on.readPhys(0x100000, 1)[0]).toBe(0x5a);
  });

  it('reads a ROM over RAM and ignores writes to it', async () => {
    // mov ax, 0xf000 ; mov ds, ax ; mov al, [0] ; mov byte [0], 0x11 ; mov bl, [0] ; hlt
    const core = await realModeCore([0xb8, 0x00, 0xf0, 0x8e, 0xd8, 0xa0, 0x00, 0x00, 0xc6, 0x06, 0x00, 0x00, 0x11,
      0x8a, 0x1e, 0x00, 0x00, 0xf4]);
    core.mapRom(0xf0000, new Uint8Array(0x10000).fill(0xea));
    runToHlt(core);
    const r = core.getRegs();
    expect(r.eax & 0xff).toBe(0xea);
    expect(r.ebx & 0xff).toBe(0xea);
  });

  it('reads all ones where nothing answers', async () => {
    // mov eax, [0x300000] in a 1 MiB machine through a 4 GiB DS (unreal mode)
    const core = await realModeCore([0x66, 0x67, 0xa1, 0x00, 0x00, 0x30, 0x00, 0xf4]);
    core.setSegment('ds', { selector: 0, base: 0, limit: 0xffffffff, access: 0x93 });
    runToHlt(core);
    expect(core.getRegs().eax >>> 0).toBe(0xffffffff);
  });

  it('exits for an MMIO write with the value, and the instruction completes', async () => {
    // mov ax, 0xb800 ; mov es, ax ; mov word [es:4], 0x0741 ; inc cx ; hlt
    const core = await realModeCore([0xb8, 0x00, 0xb8, 0x8e, 0xc0, 0x26, 0xc7, 0x06, 0x04, 0x00, 0x41, 0x07, 0x41, 0xf4]);
    core.addMmio(0xb8000, 0x8000);
    expect(core.run(100)).toEqual({ reason: 'mmio', address: 0xb8004, size: 2, write: true, value: 0x0741 });
    expect(core.run(100)).toEqual({ reason: 'hlt' });
    expect(core.getRegs().ecx & 0xffff).toBe(1);
    expect(core.counters().mmioExits).toBe(1);
  });

  it('rejects host accesses outside guest RAM with a RangeError', async () => {
    const core = await realModeCore([0xf4]);
    expect(() => core.readPhys(0xfffff, 2)).toThrow(RangeError);
    expect(() => core.writePhys(-1, new Uint8Array(1))).toThrow(RangeError);
  });
});

describe('time stamp counter', () => {
  it('counts retired instructions times the ticks per instruction (the virtual clock)', async () => {
    // rdtsc ; mov ebx, eax ; nop x3 ; rdtsc ; hlt   -> the second read is 5 instructions later
    const core = await realModeCore([0x0f, 0x31, 0x66, 0x89, 0xc3, 0x90, 0x90, 0x90, 0x0f, 0x31, 0xf4]);
    runToHlt(core);
    const r = core.getRegs();
    expect((r.eax - r.ebx) >>> 0).toBe(5);
    expect(core.tsc()).toBe(7n); // 7 instructions retired, HLT included
  });
});
