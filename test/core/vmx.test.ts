/**
 * VMX root operation in the core (assembly/cpu/system/vmx.ts) against Intel SDM vol. 3C:
 * off by default (CPUID, CR4.VMXE, the MSRs and the instructions as a CPU without VMX);
 * with Core.setVmx, the capability MSRs consistent with each other and with the VMCS field
 * table (appendix B); VMREAD/VMWRITE width and access rules for every field and for a sweep
 * of encodings (25.11.2, table 25-21; VMREAD/VMWRITE in chapter 31); the cases the Bochs
 * reference of guests/systests/vmxinsns.asm cannot give (VMCALL with a current VMCS: Bochs
 * 2.7 stops on it); our VMCS region layout (SDM 25.2 leaves it to the implementation).
 */
import { describe, expect, it } from 'vitest';
import type { Core } from '../../bindings/core/index.js';
import { vmcsFields, vmcs, vmxInstructionErrors as ERR } from '../../bindings/generated/vmx.js';
import { snippetCore, stoppedAt, CODE } from './system/snippet.js';

const UD = 6, GP = 13;
const CF = 1, ZF = 0x40, ARITH = 0x8d5;
const PAGE_DIR = 0x8000, VMXON_REGION = 0x10000, VMCS_A = 0x11000, VMCS_B = 0x12000;
const PTR = 0x9000; // the 64-bit pointer operands: [PTR] VMXON, [PTR+8] A, [PTR+16] B
const REVISION_MSR = 0x480;

const d32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
// Encodings (SDM vol. 2, the instruction pages; ModRM 0x35 = [disp32] with reg 6, 0x3d reg 7)
const VMXON = (at: number) => [0xf3, 0x0f, 0xc7, 0x35, ...d32(at)];
const VMCLEAR = (at: number) => [0x66, 0x0f, 0xc7, 0x35, ...d32(at)];
const VMPTRLD = (at: number) => [0x0f, 0xc7, 0x35, ...d32(at)];
const VMPTRST = (at: number) => [0x0f, 0xc7, 0x3d, ...d32(at)];
const VMWRITE_EAX_EBX = [0x0f, 0x79, 0xc3]; // field EAX <- EBX
const VMREAD_ECX_EAX = [0x0f, 0x78, 0xc1]; // ECX <- field EAX
const VMCALL = [0x0f, 0x01, 0xc1], VMLAUNCH = [0x0f, 0x01, 0xc2], VMRESUME = [0x0f, 0x01, 0xc3];
const VMXOFF = [0x0f, 0x01, 0xc4];
const RDMSR = [0x0f, 0x32], CPUID = [0x0f, 0xa2], MOV_CR4_EAX = [0x0f, 0x22, 0xe0];
const HLT = 0xf4;

function put32(core: Core, at: number, v: number): void {
  core.writePhys(at, Uint8Array.from(d32(v)));
}
function get32(core: Core, at: number): number {
  return new DataView(core.readPhys(at, 4).buffer).getUint32(0, true);
}

/** Runs `code` (then HLT) at CODE on `core` with `regs`; the vector it stopped in, or null. */
function run(core: Core, code: number[], regs: Record<string, number> = {}) {
  core.writePhys(CODE, Uint8Array.from([...code, HLT]));
  core.setRegs({ eip: CODE, esp: 0x80000, ...regs });
  const exit = core.run(10_000);
  if (exit.reason !== 'hlt') throw new Error(`stopped with ${JSON.stringify(exit)}`);
  return stoppedAt(core);
}

/** A core in flat protected mode; with `vmx`, configured with VMX, paging on (identity, one
 *  4 MiB page), CR0.NE and CR4.VMXE set, IA32_FEATURE_CONTROL locked with VMX outside SMX,
 *  the regions' revision identifiers written. */
async function vmxCore(vmx = true): Promise<Core> {
  const core = await snippetCore([HLT]);
  if (!vmx) return core;
  core.setVmx(true);
  put32(core, PAGE_DIR, 0x87);
  core.setRegs({ cr4: 0x10 | 0x2000, cr3: PAGE_DIR, cr0: 0x80000031 });
  expect(run(core, [0x0f, 0x30], { ecx: 0x3a, eax: 5, edx: 0 }).vector).toBeNull(); // WRMSR
  const r = run(core, RDMSR, { ecx: REVISION_MSR });
  for (const region of [VMXON_REGION, VMCS_A, VMCS_B]) put32(core, region, r.regs.eax);
  for (const [i, p] of [VMXON_REGION, VMCS_A, VMCS_B].entries()) {
    put32(core, PTR + 8 * i, p); put32(core, PTR + 8 * i + 4, 0);
  }
  return core;
}
/** In VMX root operation with VMCS A current. */
async function withVmcs(): Promise<Core> {
  const core = await vmxCore();
  const r = run(core, [...VMXON(PTR), ...VMCLEAR(PTR + 8), ...VMPTRLD(PTR + 8)]);
  expect(r.vector).toBeNull();
  expect(r.regs.eflags & ARITH).toBe(0);
  return core;
}
function instructionError(core: Core): number {
  return run(core, VMREAD_ECX_EAX, { eax: vmcs.VM_INSTRUCTION_ERROR }).regs.ecx >>> 0;
}

describe('VMX is off by default', () => {
  it('CPUID.1:ECX.VMX clear, CR4.VMXE #GP(0), the VMX MSRs #GP(0), VMXON #UD', async () => {
    const core = await vmxCore(false);
    expect((run(core, CPUID, { eax: 1 }).regs.ecx >>> 5) & 1).toBe(0);
    expect(run(core, MOV_CR4_EAX, { eax: 0x2000 }).vector).toBe(GP);
    for (const msr of [0x3a, 0x480, 0x486, 0x48a]) {
      expect(run(core, RDMSR, { ecx: msr }).vector).toBe(GP);
    }
    expect(run(core, VMXON(PTR)).vector).toBe(UD);
    for (const insn of [VMXOFF, VMCALL, VMLAUNCH, VMREAD_ECX_EAX, VMPTRST(PTR)]) {
      expect(run(core, insn).vector).toBe(UD);
    }
  });
});

describe('VMX capabilities (SDM vol. 3D, appendix A)', () => {
  it('CPUID.1:ECX.VMX (bit 5) set; CR4.VMXE (bit 13) writable', async () => {
    const core = await vmxCore();
    expect((run(core, CPUID, { eax: 1 }).regs.ecx >>> 5) & 1).toBe(1);
    expect(run(core, MOV_CR4_EAX, { eax: 0x2010 }).regs.cr4).toBe(0x2010);
  });

  it('IA32_FEATURE_CONTROL: 0 at reset, writable until locked, then #GP(0)', async () => {
    const core = await snippetCore([HLT]);
    core.setVmx(true);
    expect(run(core, RDMSR, { ecx: 0x3a }).regs.eax).toBe(0);
    expect(run(core, [0x0f, 0x30], { ecx: 0x3a, eax: 4, edx: 0 }).vector).toBeNull();
    expect(run(core, [0x0f, 0x30], { ecx: 0x3a, eax: 8, edx: 0 }).vector).toBe(GP); // reserved
    expect(run(core, [0x0f, 0x30], { ecx: 0x3a, eax: 5, edx: 0 }).vector).toBeNull();
    expect(run(core, RDMSR, { ecx: 0x3a }).regs.eax).toBe(5);
    expect(run(core, [0x0f, 0x30], { ecx: 0x3a, eax: 5, edx: 0 }).vector).toBe(GP);
  });

  it('IA32_VMX_BASIC, CR0/CR4 fixed bits and VMCS_ENUM agree with each other and the table',
    async () => {
      const core = await vmxCore();
      const msr = (i: number) => {
        const r = run(core, RDMSR, { ecx: i });
        expect(r.vector, `MSR ${i.toString(16)}`).toBeNull();
        return [r.regs.eax >>> 0, r.regs.edx >>> 0];
      };
      const [lo, hi] = msr(0x480);
      expect(lo >>> 31).toBe(0); // bit 31 always 0 (A.1)
      expect(hi & 0x1fff).toBe(4096); // region size, 44:32
      expect((hi >>> 18) & 0xf).toBe(6); // memory type write-back, 53:50
      expect((hi >>> 16) & 1).toBe(1); // 32-bit physical addresses (no Intel 64)
      expect((hi >>> 23) & 1).toBe(1); // bit 55: the TRUE controls MSRs exist (A.1)...
      expect(run(core, RDMSR, { ecx: 0x48d }).vector).toBeNull(); // ...and read
      // Every control MSR: the allowed-0 settings (31:0) are allowed-1 settings (63:32),
      // and the TRUE MSRs relax only default-1 bits (A.3-A.5).
      for (const [plain, tru] of [[0x481, 0x48d], [0x482, 0x48e], [0x483, 0x48f], [0x484, 0x490]]) {
        const [a0, a1] = msr(plain), [t0, t1] = msr(tru);
        expect((a0 & ~a1) >>> 0, `MSR ${plain.toString(16)}`).toBe(0);
        expect(t1).toBe(a1);
        expect((t0 & ~a0) >>> 0).toBe(0);
      }
      // The default-1 classes of A.3.1 (pin: bits 1, 2, 4), A.3.2 (proc: 1, 4-6, 8, 13-16,
      // 26), A.4 (exit: 0-8, 10, 11, 13, 14, 16, 17), A.5 (entry: 0-8, 12).
      expect(msr(0x481)[0]).toBe(0x16);
      expect(msr(0x482)[0]).toBe(0x0401e172);
      expect(msr(0x483)[0]).toBe(0x00036dff);
      expect(msr(0x484)[0]).toBe(0x000011ff);
      const [cr0f0] = msr(0x486), [cr0f1] = msr(0x487), [cr4f0] = msr(0x488), [cr4f1] = msr(0x489);
      expect(cr0f0).toBe(0x80000021); // PE, NE, PG (A.7)
      expect(cr4f0).toBe(0x2000); // VMXE (A.8)
      expect((cr0f0 & ~cr0f1) >>> 0).toBe(0); // fixed-1 bits are allowed to be 1
      expect((cr4f0 & ~cr4f1) >>> 0).toBe(0);
      // Every CR4 bit FIXED1 allows can be set by MOV CR4 (and nothing else).
      expect(run(core, MOV_CR4_EAX, { eax: cr4f1 }).vector).toBeNull();
      expect(run(core, MOV_CR4_EAX, { eax: (cr4f1 | 0x20) >>> 0 }).vector).toBe(GP);
      // VMCS_ENUM bits 9:1: the highest index of any field (A.9).
      const [en] = msr(0x48a);
      expect(en).toBe(Math.max(...vmcsFields.map((f) => f.index)) << 1);
      // MSRs not offered are #GP(0) (VMFUNC: no VM functions); the capability MSRs are
      // read-only.
      expect(run(core, RDMSR, { ecx: 0x491 }).vector).toBe(GP);
      expect(run(core, [0x0f, 0x30], { ecx: 0x480, eax: lo, edx: hi }).vector).toBe(GP);
    });

  it('VMXON checks the fixed bits (#GP(0)), then succeeds; CR0/CR4 keep them (24.8)', async () => {
    const core = await vmxCore();
    core.setRegs({ cr0: 0x80000011 }); // NE clear
    expect(run(core, VMXON(PTR)).vector).toBe(GP);
    core.setRegs({ cr0: 0x80000031 });
    const r = run(core, VMXON(PTR));
    expect(r.vector).toBeNull();
    expect(r.regs.eflags & ARITH).toBe(0);
    expect(run(core, [0x0f, 0x22, 0xc0], { eax: 0x80000011 }).vector).toBe(GP); // MOV CR0
    expect(run(core, MOV_CR4_EAX, { eax: 0x10 }).vector).toBe(GP);
  });
});

describe('VMREAD and VMWRITE widths and access (SDM vol. 3C, 25.11.2 and chapter 31)', () => {
  it('every field of the table: VMWRITE all ones, VMREAD the field width back', async () => {
    const core = await withVmcs();
    const wrong: string[] = [];
    const slots = new Map<number, unknown>(vmcsFields.map((f) => [f.encoding, f]));
    for (const f of vmcsFields) {
      // The encoding says the width (bits 14:13) and type (11:10), table 25-21.
      const width = (f.encoding >>> 13) & 3, type = (f.encoding >>> 10) & 3;
      const w = run(core, VMWRITE_EAX_EBX, { eax: f.encoding, ebx: 0xffffffff });
      const readOnly = type === 1; // VM-exit information (IA32_VMX_MISC bit 29 is 0)
      const want = readOnly ? ZF : 0;
      if ((w.regs.eflags & ARITH) !== want) wrong.push(`${f.name}: VMWRITE flags`);
      if (readOnly && instructionError(core) !== ERR.VMWRITE_READ_ONLY_VMCS_COMPONENT) {
        wrong.push(`${f.name}: error not 13`);
      }
      const r = run(core, VMREAD_ECX_EAX, { eax: f.encoding, ecx: 0x5a5a5a5a });
      // A read-only field keeps its value: 0, but the error field holds the 13 just set.
      const error = f.encoding === vmcs.VM_INSTRUCTION_ERROR;
      const value = readOnly ? (error ? 13 : 0) : width === 0 ? 0xffff : 0xffffffff;
      if ((r.regs.eflags & ARITH) !== 0 || r.regs.ecx >>> 0 !== value) {
        wrong.push(`${f.name}: VMREAD ${(r.regs.ecx >>> 0).toString(16)}`);
      }
      // A FULL write of a 64-bit field in 32-bit mode clears its HIGH half.
      if (width === 1 && f.access === 'full' && !readOnly) {
        run(core, VMWRITE_EAX_EBX, { eax: f.encoding | 1, ebx: 0x12345678 });
        run(core, VMWRITE_EAX_EBX, { eax: f.encoding, ebx: 0x9abcdef0 });
        const high = run(core, VMREAD_ECX_EAX, { eax: f.encoding | 1 }).regs.ecx;
        if (high !== 0 || !slots.has(f.encoding | 1)) wrong.push(`${f.name}: HIGH not cleared`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('encodings outside the table are unsupported components (VMfailValid(12))', async () => {
    const core = await withVmcs();
    const known = new Set<number>(vmcsFields.map((f) => f.encoding));
    const wrong: string[] = [];
    let unsupported = 0;
    for (let width = 0; width < 4; width++) {
      for (let type = 0; type < 4; type++) {
        for (let index = 0; index < 32; index++) {
          for (const access of [0, 1]) {
            const enc = (width << 13) | (type << 10) | (index << 1) | access;
            for (const e of [enc, enc | 0x1000, enc | 0x8000]) { // and reserved bits 12, 15
              const r = run(core, VMREAD_ECX_EAX, { eax: e });
              const ok = known.has(e);
              if (ok !== ((r.regs.eflags & ARITH) === 0)) wrong.push(e.toString(16));
              if (!ok) {
                unsupported++;
                if ((r.regs.eflags & ARITH) !== ZF) wrong.push(`${e.toString(16)} flags`);
                if (instructionError(core) !== ERR.UNSUPPORTED_VMCS_COMPONENT) {
                  wrong.push(`${e.toString(16)} error`);
                }
              }
            }
          }
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(unsupported).toBeGreaterThan(2000);
  });

  it('#GP(0) at CPL 3 (root operation), #UD after VMXOFF', async () => {
    const core = await withVmcs();
    core.setSegment('cs', { selector: 0x1b, base: 0, limit: 0xffffffff, access: 0xc0fb });
    core.setSegment('ss', { selector: 0x23, base: 0, limit: 0xffffffff, access: 0xc0f3 });
    put32(core, PAGE_DIR, 0x87);
    expect(run(core, VMREAD_ECX_EAX, { eax: 0x681e, esp: 0x60000 }).vector).toBe(GP);
    core.setSegment('cs', { selector: 0x08, base: 0, limit: 0xffffffff, access: 0xc09b });
    core.setSegment('ss', { selector: 0x10, base: 0, limit: 0xffffffff, access: 0xc093 });
    expect(run(core, VMXOFF).vector).toBeNull();
    expect(run(core, VMREAD_ECX_EAX, { eax: 0x681e }).vector).toBe(UD);
  });
});

describe('VM entry and VMCALL (not yet: no VMX non-root operation)', () => {
  it('VMCALL in VMX root operation with a current VMCS: VMfailValid(1) (SDM, VMCALL)', async () => {
    const core = await withVmcs();
    const r = run(core, VMCALL);
    expect(r.vector).toBeNull();
    expect(r.regs.eflags & ARITH).toBe(ZF);
    expect(instructionError(core)).toBe(ERR.VMCALL_IN_VMX_ROOT_OPERATION);
  });
  it('VMRESUME of a clear VMCS: error 5; VMLAUNCH fails its control checks: error 7', async () => {
    const core = await withVmcs();
    expect(run(core, VMRESUME).regs.eflags & ARITH).toBe(ZF);
    expect(instructionError(core)).toBe(ERR.VMRESUME_NONLAUNCHED_VMCS);
    expect(run(core, VMLAUNCH).regs.eflags & ARITH).toBe(ZF);
    expect(instructionError(core)).toBe(ERR.ENTRY_INVALID_CONTROL_FIELD);
  });
});

describe('the VMCS region (our layout, SDM 25.2)', () => {
  it('VMCLEAR writes the fields at 16 + 4 * slot and launch state 0 at 8; VMPTRLD reads them',
    async () => {
      const core = await withVmcs();
      run(core, VMWRITE_EAX_EBX, { eax: vmcs.GUEST_RIP, ebx: 0xcafef00d });
      expect(run(core, VMCLEAR(PTR + 8)).regs.eflags & ARITH).toBe(0);
      const slot = vmcsFields.findIndex((f) => f.encoding === vmcs.GUEST_RIP);
      expect(get32(core, VMCS_A + 16 + 4 * slot)).toBe(0xcafef00d);
      expect(get32(core, VMCS_A + 8)).toBe(0);
      // VMPTRST stores all ones now; the region edited in memory is what VMPTRLD loads.
      expect(run(core, VMPTRST(0x9100)).vector).toBeNull();
      expect([get32(core, 0x9100), get32(core, 0x9104)]).toEqual([0xffffffff, 0xffffffff]);
      put32(core, VMCS_A + 16 + 4 * slot, 0x1234);
      run(core, VMPTRLD(PTR + 8));
      expect(run(core, VMREAD_ECX_EAX, { eax: vmcs.GUEST_RIP }).regs.ecx).toBe(0x1234);
      // Loading B writes A back first.
      run(core, VMWRITE_EAX_EBX, { eax: vmcs.GUEST_RIP, ebx: 0x5678 });
      expect(run(core, VMPTRLD(PTR + 16)).regs.eflags & ARITH).toBe(0);
      expect(get32(core, VMCS_A + 16 + 4 * slot)).toBe(0x5678);
      expect(run(core, VMPTRST(0x9100)).vector).toBeNull();
      expect(get32(core, 0x9100)).toBe(VMCS_B);
    });

  it('launch state 1 at offset 8: VMLAUNCH error 4, VMRESUME passes to the controls (7)',
    async () => {
      const core = await vmxCore();
      put32(core, VMCS_B + 8, 1);
      expect(run(core, [...VMXON(PTR), ...VMPTRLD(PTR + 16)]).regs.eflags & ARITH).toBe(0);
      expect(run(core, VMLAUNCH).regs.eflags & ARITH).toBe(ZF);
      expect(instructionError(core)).toBe(ERR.VMLAUNCH_NONCLEAR_VMCS);
      expect(run(core, VMRESUME).regs.eflags & ARITH).toBe(ZF);
      expect(instructionError(core)).toBe(ERR.ENTRY_INVALID_CONTROL_FIELD);
      // VMCLEAR makes it clear again, in the region too.
      expect(run(core, VMCLEAR(PTR + 16)).regs.eflags & ARITH).toBe(0);
      expect(get32(core, VMCS_B + 8)).toBe(0);
    });

  it('the VMX configuration survives loadState (a host setting)', async () => {
    const core = await vmxCore();
    core.loadState(core.saveState());
    expect((run(core, CPUID, { eax: 1 }).regs.ecx >>> 5) & 1).toBe(1);
  });
});

describe('Machine option cpu.vmx', () => {
  it('gives the machine\'s CPU VMX; off without it; an unknown CPU option is an error',
    async () => {
      const { Machine } = await import('../../bindings/machine/machine.js');
      const firmware = new Uint8Array(0x10000).fill(0xf4); // HLT everywhere
      const on = await Machine.create({ ramBytes: 4 << 20, firmware, cpu: { vmx: true } });
      expect(on.core.readMsr(0x480) >> 50n & 0xfn).toBe(6n);
      const off = await Machine.create({ ramBytes: 4 << 20, firmware });
      expect(() => off.core.readMsr(0x480)).toThrow();
      await expect(Machine.create({ ramBytes: 4 << 20, firmware,
        cpu: { sgx: true } as never })).rejects.toThrow(/cpu\.sgx: unknown CPU option/);
    });
});
