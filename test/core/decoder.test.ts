/**
 * The decoder on literal bytes (the disassembly in each comment). Expected results follow
 * the Intel SDM vol. 2 (encodings, tables 2-1 to 2-3; prefixes 2.1.1; length limit 2.3.11;
 * LOCK; NOP; UD2) and vol. 3A table 2-2 (x87 escapes under CR0.EM/TS/MP).
 */
import { describe, it, expect } from 'vitest';
import { realModeCore, flat32Core, runToHlt, dword, le32, CODE } from './helpers.js';

const UD = 6, NM = 7, GP = 13;

describe('prefixes', () => {
  it('decode the same in any order (66 2E / 2E 66)', async () => {
    for (const code of [
      [0x66, 0x2e, 0x8b, 0x07, 0xf4], // mov ax, cs:[edi]
      [0x2e, 0x66, 0x8b, 0x07, 0xf4], // the same with the prefixes swapped
    ]) {
      const core = await flat32Core(code);
      core.setSegment('cs', { selector: 0x08, base: 0x10000, limit: 0xfffff, access: 0xc09b });
      core.setRegs({ eip: CODE - 0x10000 + 0x10000, edi: 0x20, eax: 0xaaaaaaaa });
      core.writePhys(0x10000 + CODE, Uint8Array.from(code));
      core.setRegs({ eip: CODE });
      core.writePhys(0x10020, Uint8Array.from([0x34, 0x12, 0x78, 0x56]));
      expect(runToHlt(core)).toBe(null);
      expect(core.getRegs().eax >>> 0).toBe(0xaaaa1234); // 16-bit load from CS base + EDI
    }
  });

  it('67 selects 16-bit addressing in 32-bit code', async () => {
    // 67 8b 07   mov eax, [bx]   (ModRM rm=7 with 16-bit addressing is [BX])
    const core = await flat32Core([0x67, 0x8b, 0x07, 0xf4]);
    core.setRegs({ ebx: 0x12340040 });
    core.writePhys(0x40, Uint8Array.from(le32(0xcafef00d)));
    runToHlt(core);
    expect(core.getRegs().eax >>> 0).toBe(0xcafef00d);
  });

  it('an instruction longer than 15 bytes raises #GP(0)', async () => {
    // 15 x 66 then 90: 16 bytes
    const core = await flat32Core([...new Array(15).fill(0x66), 0x90, 0xf4]);
    expect(runToHlt(core)).toBe(GP);
    expect(dword(core, 0x80000 - 16)).toBe(0);        // error code 0
    expect(dword(core, 0x80000 - 12)).toBe(CODE);     // saved EIP: the instruction (a fault)
  });

  it('14 prefixes and an opcode (15 bytes) still execute', async () => {
    const core = await flat32Core([...new Array(14).fill(0x3e), 0x40, 0xf4]); // ds: x14; inc eax
    expect(runToHlt(core)).toBe(null);
    expect(core.getRegs().eax).toBe(1);
  });
});

describe('ModRM and SIB', () => {
  it('base + index * scale + disp8', async () => {
    // 8b 44 8b 10   mov eax, [ebx + ecx*4 + 0x10]
    const core = await flat32Core([0x8b, 0x44, 0x8b, 0x10, 0xf4]);
    core.setRegs({ ebx: 0x2000, ecx: 3 });
    core.writePhys(0x2000 + 12 + 0x10, Uint8Array.from(le32(0x11223344)));
    runToHlt(core);
    expect(core.getRegs().eax).toBe(0x11223344);
  });

  it('SIB with base 101 and mod 00 means disp32 without a base', async () => {
    // 8b 04 25 00 30 00 00   mov eax, [0x3000]   (index 100 = none)
    const core = await flat32Core([0x8b, 0x04, 0x25, 0x00, 0x30, 0x00, 0x00, 0xf4]);
    core.setRegs({ ebp: 0x99999999 });
    core.writePhys(0x3000, Uint8Array.from(le32(0xdeadbeef)));
    runToHlt(core);
    expect(core.getRegs().eax >>> 0).toBe(0xdeadbeef);
  });

  it('16-bit [bp+disp8] defaults to SS', async () => {
    // 8b 46 02   mov ax, [bp+2]   with SS base 0x2000 and DS base 0
    const core = await realModeCore([0x8b, 0x46, 0x02, 0xf4]);
    core.setSegment('ss', { selector: 0x200, base: 0x2000, limit: 0xffff, access: 0x93 });
    core.setRegs({ ebp: 0x10 });
    core.writePhys(0x2012, Uint8Array.from([0xcd, 0xab]));
    runToHlt(core);
    expect(core.getRegs().eax & 0xffff).toBe(0xabcd);
  });
});

describe('undefined and restricted encodings', () => {
  it('UD2 (0f 0b) raises #UD', async () => {
    const core = await realModeCore([0x0f, 0x0b]);
    expect(runToHlt(core)).toBe(UD);
  });

  it('LOCK is #UD on a non-RMW instruction and on a register destination', async () => {
    expect(runToHlt(await flat32Core([0xf0, 0x90]))).toBe(UD);             // lock nop
    expect(runToHlt(await flat32Core([0xf0, 0x01, 0xc0]))).toBe(UD);       // lock add eax, eax
    const ok = await flat32Core([0xf0, 0x01, 0x03, 0xf4]);                 // lock add [ebx], eax
    ok.setRegs({ ebx: 0x3000, eax: 5 });
    expect(runToHlt(ok)).toBe(null);
    expect(dword(ok, 0x3000)).toBe(5);
  });

  it('the multi-byte NOP 0f 1f /0 does not touch its memory operand', async () => {
    // 0f 1f 80 00 00 00 f0   nop dword [eax - 0x10000000]  (far outside RAM and the limit)
    const core = await realModeCore([0x0f, 0x1f, 0x80, 0x00, 0xf0, 0x40, 0xf4]); // 16-bit: nop [bx+si-0x1000]; inc ax
    expect(runToHlt(core)).toBe(null);
    expect(core.getRegs().eax & 0xffff).toBe(1);
  });
});

describe('x87 escapes', () => {
  it('raise #NM when CR0.EM or CR0.TS is set, and run otherwise', async () => {
    // d9 e8   fld1 (SDM vol. 3A, table 2-2: EM or TS gives #NM for x87 instructions)
    const em = await realModeCore([0xd9, 0xe8]);
    em.setRegs({ cr0: 0x60000014 }); // ET | EM
    expect(runToHlt(em)).toBe(NM);
    const ts = await realModeCore([0xd9, 0xe8]);
    ts.setRegs({ cr0: 0x60000018 }); // ET | TS
    expect(runToHlt(ts)).toBe(NM);
    const none = await realModeCore([0xd9, 0xe8, 0xf4]);
    expect(runToHlt(none)).toBe(null);
  });

  it('FWAIT raises #NM only when CR0.MP and CR0.TS are both set', async () => {
    const both = await realModeCore([0x9b, 0xf4]);
    both.setRegs({ cr0: 0x6000001a }); // MP | ET | TS
    expect(runToHlt(both)).toBe(NM);
    const tsOnly = await realModeCore([0x9b, 0xf4]);
    tsOnly.setRegs({ cr0: 0x60000018 });
    expect(runToHlt(tsOnly)).toBe(null);
  });
});
