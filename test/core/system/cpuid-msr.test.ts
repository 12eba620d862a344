/**
 * CPUID, MSRs and CR4 against the SDM: the answers the core documents (assembly/cpu/system/
 * cpuid.ts, msr.ts), checked bit by bit at the positions of SDM vol. 2A, table 3-11, and
 * checked for consistency: every feature CPUID reports works, every CR4 bit of a feature it
 * does not report is #GP(0) (SDM vol. 2B, MOV to CR4).
 */
import { describe, expect, it } from 'vitest';
import { runSnippet } from './snippet.js';

const GP = 13, UD = 6;

// 31 c0 / 0f a2 / f4: xor eax,eax; cpuid; hlt
const CPUID_LEAF0 = [0x31, 0xc0, 0x0f, 0xa2, 0xf4];
// 0f a2 / f4: cpuid; hlt
const CPUID = [0x0f, 0xa2, 0xf4];
// 0f 32 / f4: rdmsr; hlt
const RDMSR = [0x0f, 0x32, 0xf4];
// 0f 30 / f4: wrmsr; hlt
const WRMSR = [0x0f, 0x30, 0xf4];
// 0f 22 e0 / f4: mov cr4, eax; hlt
const MOV_CR4 = [0x0f, 0x22, 0xe0, 0xf4];
// 0f 21 e0 / f4: mov eax, dr4; hlt
const MOV_FROM_DR4 = [0x0f, 0x21, 0xe0, 0xf4];

function ascii(...words: number[]): string {
  return words.map((w) => String.fromCharCode(w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24)).join('');
}

// CPUID.1:EDX bit positions, SDM vol. 2A, table 3-11.
const EDX_BITS = { FPU: 0, VME: 1, DE: 2, PSE: 3, TSC: 4, MSR: 5, PAE: 6, MCE: 7, CX8: 8, APIC: 9, SEP: 11, MTRR: 12, PGE: 13, MCA: 14, CMOV: 15, PAT: 16, PSE36: 17, MMX: 23, FXSR: 24, SSE: 25 };

describe('CPUID', () => {
  it('leaf 0: highest basic leaf 1, vendor "GenuineIntel" in EBX, EDX, ECX', async () => {
    const { regs, vector } = await runSnippet(CPUID_LEAF0);
    expect(vector).toBeNull();
    expect(regs.eax).toBe(1);
    expect(ascii(regs.ebx, regs.edx, regs.ecx)).toBe('GenuineIntel');
  });

  it('leaf 1: family 6; EDX has exactly the implemented features; ECX bit 31 (hypervisor) clear', async () => {
    const { regs } = await runSnippet(CPUID, { eax: 1 });
    expect((regs.eax >>> 8) & 0xf).toBe(6);
    const set = Object.entries(EDX_BITS).filter(([, bit]) => (regs.edx >>> bit) & 1).map(([name]) => name);
    expect(set.sort()).toEqual(['CMOV', 'CX8', 'DE', 'FPU', 'FXSR', 'MSR', 'PGE', 'PSE', 'SEP',
      'TSC']);
    expect(regs.edx & ~0x0100a93d).toBe(0);
    expect(regs.ecx >>> 31).toBe(0);
  });

  it('leaves above the maximum (0x40000000, 0x80000000, 2) return the highest basic leaf', async () => {
    const leaf1 = (await runSnippet(CPUID, { eax: 1 })).regs;
    for (const leaf of [2, 0x40000000, 0x80000000]) {
      const { regs } = await runSnippet(CPUID, { eax: leaf });
      expect([regs.eax, regs.ebx, regs.ecx, regs.edx]).toEqual([leaf1.eax, leaf1.ebx, leaf1.ecx, leaf1.edx]);
    }
  });
});

describe('CR4 follows CPUID', () => {
  it('accepts DE, PSE, PGE, TSD and PCE', async () => {
    const { regs, vector } = await runSnippet(MOV_CR4, { eax: 0x19c });
    expect(vector).toBeNull();
    expect(regs.cr4).toBe(0x19c);
  });
  it('accepts OSFXSR (bit 9), which goes with CPUID.FXSR (SDM vol. 3A, 2.5)', async () => {
    const { regs, vector } = await runSnippet(MOV_CR4, { eax: 0x200 });
    expect(vector).toBeNull();
    expect(regs.cr4).toBe(0x200);
  });
  it.each([['VME', 0], ['PVI', 1], ['PAE', 5], ['MCE', 6], ['OSXMMEXCPT', 10], ['bit 31', 31]])('#GP(0) for %s (bit %i)', async (_n, bit) => {
    const { vector, top, regs } = await runSnippet(MOV_CR4, { eax: (1 << bit) >>> 0 });
    expect(vector).toBe(GP);
    expect(top).toBe(0);
    expect(regs.cr4).toBe(0);
  });
  it('CR4.DE makes DR4 #UD, without it DR4 is DR6 (SDM vol. 3A, 17.2.2)', async () => {
    expect((await runSnippet(MOV_FROM_DR4, {})).regs.eax >>> 0).toBe(0xffff0ff0);
    const run = await runSnippet([0x0f, 0x22, 0xe0, ...MOV_FROM_DR4], { eax: 0x8 });
    expect(run.vector).toBe(UD);
  });
});

describe('debug registers', () => {
  it('a breakpoint enabled by MOV DR7 takes effect at the next instruction (SDM vol. 3B, 17.2.4, 17.3.1.1)', async () => {
    // b8 12 10 00 00 / 0f 23 c0 / b8 01 00 00 00 / 0f 23 f8 / 90 90 / 90 / f4:
    // mov eax, 0x1012; mov dr0, eax; mov eax, 1 (L0, execute); mov dr7, eax; nop; nop; target: nop; hlt
    const { vector, regs, core } = await runSnippet([0xb8, 0x12, 0x10, 0x00, 0x00, 0x0f, 0x23, 0xc0, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x23, 0xf8, 0x90, 0x90, 0x90, 0xf4]);
    expect(vector).toBe(1);
    // An instruction breakpoint is a fault: the frame's EIP is the breakpoint's address.
    expect(new DataView(core.readPhys(regs.esp, 4).buffer).getUint32(0, true)).toBe(0x1012);
    expect(regs.dr6 & 0xf).toBe(1); // B0
  });
});

describe('MSRs', () => {
  it('IA32_SYSENTER_CS/ESP/EIP (0x174-0x176) read back what was written', async () => {
    for (const [msr, value] of [[0x174, 0x08], [0x175, 0x12345678], [0x176, 0x9abcdef0]]) {
      // wrmsr; rdmsr with EAX cleared in between: 0f 30 / 31 c0 / 0f 32 / f4
      const { regs, vector } = await runSnippet([0x0f, 0x30, 0x31, 0xc0, 0x0f, 0x32, 0xf4], { ecx: msr, eax: value, edx: 0 });
      expect(vector).toBeNull();
      expect(regs.eax >>> 0).toBe(value);
      expect(regs.edx).toBe(0);
    }
  });

  it('IA32_APIC_BASE (0x1B) after reset: base FEE00000, BSP and enable set (SDM vol. 3A, 10.4.4)', async () => {
    const { regs } = await runSnippet(RDMSR, { ecx: 0x1b });
    expect(regs.eax >>> 0).toBe(0xfee00900);
    expect(regs.edx).toBe(0);
  });

  it('IA32_APIC_BASE: reserved bits are #GP(0); BSP is read-only', async () => {
    expect((await runSnippet(WRMSR, { ecx: 0x1b, eax: 0xfee00901, edx: 0 })).vector).toBe(GP);
    expect((await runSnippet(WRMSR, { ecx: 0x1b, eax: 0xfee00800, edx: 1 })).vector).toBe(GP);
    const { regs } = await runSnippet([0x0f, 0x30, 0x0f, 0x32, 0xf4], { ecx: 0x1b, eax: 0xfec00800, edx: 0 });
    expect(regs.eax >>> 0).toBe(0xfec00900);
  });

  it('IA32_APIC_BASE: a cleared global enable stays clear until reset (SDM vol. 3A, 10.4.3)', async () => {
    // wrmsr (bit 11 clear); or eax, 0x800; wrmsr; rdmsr; hlt
    const code = [0x0f, 0x30, 0x0d, 0x00, 0x08, 0x00, 0x00, 0x0f, 0x30, 0x0f, 0x32, 0xf4];
    const { regs } = await runSnippet(code, { ecx: 0x1b, eax: 0xfee00100, edx: 0 });
    expect(regs.eax >>> 0).toBe(0xfee00100);
  });

  it('IA32_TIME_STAMP_COUNTER (0x10): a write sets what RDTSC counts from', async () => {
    // wrmsr; rdtsc: 0f 30 / 0f 31 / f4
    const { regs } = await runSnippet([0x0f, 0x30, 0x0f, 0x31, 0xf4], { ecx: 0x10, eax: 0xfffffff0, edx: 7 });
    expect(regs.edx).toBe(7);
    expect(regs.eax >>> 0).toBeGreaterThanOrEqual(0xfffffff0);
    expect(regs.eax >>> 0).toBeLessThan(0xfffffff8);
  });

  it.each([0x0, 0x1a0, 0x277, 0xc0000080, 0x12345])('RDMSR and WRMSR of unimplemented MSR %s are #GP(0)', async (msr) => {
    for (const code of [RDMSR, WRMSR]) {
      const { vector, top } = await runSnippet(code, { ecx: msr });
      expect(vector).toBe(GP);
      expect(top).toBe(0);
    }
  });

  it('RDMSR at CPL 3 is #GP(0)', async () => {
    const { vector, top, regs } = await runSnippet(RDMSR, { ecx: 0x174 }, true);
    expect(vector).toBe(GP);
    expect(top).toBe(0);
    expect(regs.esp).toBe(0x70000 - 24); // error code, EIP, CS, EFLAGS, ESP, SS on the TSS stack
  });
});
