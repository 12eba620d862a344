/**
 * AMD-V configuration and the SVM instructions in the core (assembly/svm/svm.ts), against
 * the AMD APM vol. 2 (chapter 15) and vol. 3 (the instruction pages): CPUID 8000_0001h
 * ECX.SVM (bit 2) and 8000_000Ah; EFER.SVME (3.1.7); VM_CR LOCK/SVMDIS and VM_HSAVE_PA
 * (15.30); the #UD/#GP conditions of VMRUN, VMLOAD, VMSAVE, STGI, CLGI, SKINIT, INVLPGA,
 * VMMCALL; VMLOAD/VMSAVE's state (15.5.2); VMRUN's consistency checks (15.5.1), each giving
 * VMEXIT_INVALID (EXITCODE -1, appendix C) and a return to the instruction after VMRUN.
 */
import { describe, expect, it } from 'vitest';
import type { Core } from '../../bindings/core/index.js';
import { vmcbFields } from '../../bindings/generated/svm.js';
import * as L from '../../bindings/generated/layout.js';
import { snippetCore, stoppedAt, CODE } from '../core/system/snippet.js';

const UD = 6, GP = 13;
const HLT = 0xf4;
const VMRUN = [0x0f, 0x01, 0xd8], VMMCALL = [0x0f, 0x01, 0xd9], VMLOAD = [0x0f, 0x01, 0xda];
const VMSAVE = [0x0f, 0x01, 0xdb], STGI = [0x0f, 0x01, 0xdc], CLGI = [0x0f, 0x01, 0xdd];
const SKINIT = [0x0f, 0x01, 0xde], INVLPGA = [0x0f, 0x01, 0xdf];
const RDMSR = [0x0f, 0x32], WRMSR = [0x0f, 0x30], CPUID = [0x0f, 0xa2];
const EFER = 0xc0000080, VM_CR = 0xc0010114, VM_HSAVE_PA = 0xc0010117;
const SVME = 1 << 12;
const VMCB = 0x10000, HSAVE = 0x11000, SAVE_PAGE = 0x12000, GUEST_CODE = 0x5000;

export const OFF: Record<string, number> =
  Object.fromEntries(vmcbFields.map((f) => [f.name, f.offset]));

function run(core: Core, code: number[], regs: Record<string, number> = {}) {
  core.writePhys(CODE, Uint8Array.from([...code, HLT]));
  core.setRegs({ eip: CODE, esp: 0x80000, ...regs });
  const exit = core.run(10_000);
  if (exit.reason !== 'hlt') throw new Error(`stopped with ${JSON.stringify(exit)}`);
  return stoppedAt(core);
}
function msr(core: Core, index: number): [number, number] | null {
  const r = run(core, RDMSR, { ecx: index });
  return r.vector === null ? [r.regs.eax >>> 0, r.regs.edx >>> 0] : null;
}
function wrmsr(core: Core, index: number, lo: number, hi = 0): number | null {
  return run(core, WRMSR, { ecx: index, eax: lo, edx: hi }).vector;
}
function cpuid(core: Core, leaf: number) {
  const r = run(core, CPUID, { eax: leaf, ecx: 0 }).regs;
  return [r.eax >>> 0, r.ebx >>> 0, r.ecx >>> 0, r.edx >>> 0];
}
const ascii = (...w: number[]) =>
  String.fromCharCode(...w.flatMap((v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]));

export function put(core: Core, at: number, size: number, v: number | bigint): void {
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  if (size === 8) dv.setBigUint64(0, BigInt.asUintN(64, BigInt(v)), true);
  else if (size === 4) dv.setUint32(0, Number(v) >>> 0, true);
  else if (size === 2) dv.setUint16(0, Number(v), true);
  else dv.setUint8(0, Number(v));
  core.writePhys(at, b);
}
export function get(core: Core, at: number, size: number): bigint {
  const dv = new DataView(core.readPhys(at, size).buffer);
  if (size === 8) return dv.getBigUint64(0, true);
  if (size === 4) return BigInt(dv.getUint32(0, true));
  if (size === 2) return BigInt(dv.getUint16(0, true));
  return BigInt(dv.getUint8(0));
}

/** A core with SVM and EFER.SVME set, VM_HSAVE_PA at HSAVE. */
export async function svmCore(enable = true): Promise<Core> {
  const core = await snippetCore([HLT]);
  core.setSvm(true);
  if (enable) {
    expect(wrmsr(core, EFER, SVME)).toBeNull();
    expect(wrmsr(core, VM_HSAVE_PA, HSAVE)).toBeNull();
  }
  return core;
}

/** Writes a VMCB at `at` that is valid by 15.5.1: a flat 32-bit protected-mode guest (the
 *  snippet's GDT selectors 08/10), ASID 1, the VMRUN intercept, RIP = GUEST_CODE. */
export function validVmcb(core: Core, at = VMCB): void {
  core.writePhys(at, new Uint8Array(4096));
  const f = (name: string, v: number | bigint) => {
    const fd = vmcbFields.find((x) => x.name === name)!;
    put(core, at + fd.offset, Math.min(fd.size, 8), v);
  };
  f('INTERCEPT_MISC2', 1); // VMRUN (table B-1, vector 4 bit 0)
  f('GUEST_ASID', 1);
  for (const [s, sel, attr] of [['CS', 0x08, 0xc9b], ['SS', 0x10, 0xc93], ['DS', 0x10, 0xc93],
    ['ES', 0x10, 0xc93]] as const) {
    f(`${s}_SELECTOR`, sel); f(`${s}_ATTRIB`, attr); f(`${s}_LIMIT`, 0xffffffff); f(`${s}_BASE`, 0);
  }
  f('GDTR_BASE', 0x500); f('GDTR_LIMIT', 0x3f);
  f('IDTR_BASE', 0x2000); f('IDTR_LIMIT', 0x7ff);
  f('EFER', SVME); f('CR0', 0x11); f('CR4', 0); f('CR3', 0);
  f('DR6', 0xffff0ff0); f('DR7', 0x400);
  f('RFLAGS', 2); f('RIP', GUEST_CODE); f('RSP', 0x70000);
}

describe('SVM off (the default)', () => {
  it('no SVM in CPUID, EFER and the SVM MSRs #GP(0), the SVM instructions #UD', async () => {
    const core = await svmCore(false);
    core.setSvm(false);
    expect(cpuid(core, 0x80000001)[2] & 4).toBe(0);
    for (const m of [EFER, VM_CR, VM_HSAVE_PA]) expect(msr(core, m)).toBeNull();
    for (const insn of [VMRUN, VMMCALL, VMLOAD, VMSAVE, STGI, CLGI, SKINIT, INVLPGA]) {
      expect(run(core, insn).vector).toBe(UD);
    }
  });
});

describe('SVM capabilities (APM vol. 2, 15.4; CPUID specification)', () => {
  it('AuthenticAMD; 8000_0001h ECX.SVM; 8000_000Ah revision, ASIDs, NP, clean bits',
    async () => {
      const core = await svmCore(false);
      const [, b, c, d] = cpuid(core, 0);
      expect(ascii(b, d, c)).toBe('AuthenticAMD');
      const [max] = cpuid(core, 0x80000000);
      expect(max).toBeGreaterThanOrEqual(0x8000000a);
      expect((cpuid(core, 0x80000001)[2] >>> 2) & 1).toBe(1);
      const [rev, asids, , feat] = cpuid(core, 0x8000000a);
      expect(rev & 0xff).toBeGreaterThan(0);
      expect(asids).toBeGreaterThan(1); // ASID 0 is the host's (15.16)
      expect(feat & 1).toBe(1); // NP
      expect((feat >>> 3) & 1).toBe(0); // NRIPS only with setSvm(true, true)
      expect((feat >>> 5) & 1).toBe(1); // VmcbClean
    });
});

describe('EFER, VM_CR, VM_HSAVE_PA (3.1.7, 15.30)', () => {
  it('EFER: 0 at reset, SVME writable, reserved bits #GP(0)', async () => {
    const core = await svmCore(false);
    expect(msr(core, EFER)).toEqual([0, 0]);
    expect(wrmsr(core, EFER, SVME)).toBeNull();
    expect(msr(core, EFER)).toEqual([SVME, 0]);
    expect(wrmsr(core, EFER, SVME | (1 << 8))).toBe(GP); // LME: no long mode here
    expect(wrmsr(core, EFER, SVME, 1)).toBe(GP);
  });
  it('VM_CR.SVMDIS makes EFER.SVME MBZ; setting SVMDIS with SVME = 1 is #GP; LOCK freezes',
    async () => {
      const core = await svmCore(false);
      expect(msr(core, VM_CR)).toEqual([0, 0]);
      expect(wrmsr(core, VM_CR, 0x10)).toBeNull();
      expect(wrmsr(core, EFER, SVME)).toBe(GP);
      expect(wrmsr(core, VM_CR, 0)).toBeNull();
      expect(wrmsr(core, EFER, SVME)).toBeNull();
      expect(wrmsr(core, VM_CR, 0x10)).toBe(GP);
      expect(wrmsr(core, EFER, 0)).toBeNull();
      expect(wrmsr(core, VM_CR, 0x18)).toBeNull(); // SVMDIS and LOCK
      expect(wrmsr(core, VM_CR, 0)).toBeNull(); // ignored for bits 3 and 4
      expect(msr(core, VM_CR)).toEqual([0x18, 0]);
      expect(wrmsr(core, VM_CR, 1 << 5)).toBe(GP); // reserved
    });
  it('VM_HSAVE_PA: 4 KB aligned, within the physical-address width', async () => {
    const core = await svmCore(false);
    expect(wrmsr(core, VM_HSAVE_PA, 0x1234)).toBe(GP);
    expect(wrmsr(core, VM_HSAVE_PA, 0x3000, 1)).toBe(GP);
    expect(wrmsr(core, VM_HSAVE_PA, 0x3000)).toBeNull();
    expect(msr(core, VM_HSAVE_PA)).toEqual([0x3000, 0]);
  });
});

describe('SVM instructions: #UD and #GP (APM vol. 3)', () => {
  it('EFER.SVME = 0: #UD; VMMCALL not intercepted and SKINIT: #UD', async () => {
    const core = await svmCore(false);
    for (const insn of [VMRUN, VMLOAD, VMSAVE, STGI, CLGI, INVLPGA]) {
      expect(run(core, insn, { eax: VMCB }).vector).toBe(UD);
    }
    expect(wrmsr(core, EFER, SVME)).toBeNull();
    expect(run(core, VMMCALL).vector).toBe(UD);
    expect(run(core, SKINIT).vector).toBe(UD);
  });
  it('rAX not 4 KB aligned: #GP(0) for VMRUN, VMLOAD, VMSAVE', async () => {
    const core = await svmCore();
    for (const insn of [VMRUN, VMLOAD, VMSAVE]) {
      const r = run(core, insn, { eax: VMCB + 8 });
      expect(r.vector).toBe(GP);
      expect(r.top).toBe(0);
    }
  });
  it('CPL 3: #GP(0) for VMRUN, VMLOAD, VMSAVE, STGI, CLGI, INVLPGA', async () => {
    for (const insn of [VMRUN, VMLOAD, VMSAVE, STGI, CLGI, INVLPGA]) {
      const core = await snippetCore([...insn, HLT], { eax: VMCB }, true);
      core.setSvm(true);
      const block = core.saveState();
      new DataView(block.buffer).setUint32(L.S_EFER, SVME, true);
      core.loadState(block);
      expect(core.run(100).reason).toBe('hlt');
      expect(stoppedAt(core).vector).toBe(GP);
    }
  });
  it('STGI/CLGI execute at CPL 0 with SVME', async () => {
    const core = await svmCore();
    expect(run(core, [...CLGI, ...STGI]).vector).toBeNull();
  });
});

describe('VMLOAD and VMSAVE (15.5.2)', () => {
  it('VMSAVE stores FS, GS, TR, LDTR and SYSENTER_*; VMLOAD loads them back', async () => {
    const core = await svmCore();
    core.setSegment('fs', { selector: 0x10, base: 0x1234000, limit: 0xfffff, access: 0x4093 });
    core.writePhys(SAVE_PAGE, new Uint8Array(4096));
    expect(wrmsr(core, 0x174, 0x08)).toBeNull();
    expect(run(core, VMSAVE, { eax: SAVE_PAGE }).vector).toBeNull();
    const p = SAVE_PAGE;
    expect(get(core, p + OFF.FS_SELECTOR, 2)).toBe(0x10n);
    expect(get(core, p + OFF.FS_ATTRIB, 2)).toBe(0x493n); // D/B in bit 10 (table B-2)
    expect(get(core, p + OFF.FS_LIMIT, 4)).toBe(0xfffffn);
    expect(get(core, p + OFF.FS_BASE, 8)).toBe(0x1234000n);
    expect(get(core, p + OFF.TR_SELECTOR, 2)).toBe(0x28n);
    expect(get(core, p + OFF.TR_ATTRIB, 2)).toBe(0x8bn);
    expect(get(core, p + OFF.TR_BASE, 8)).toBe(0x600n);
    expect(get(core, p + OFF.SYSENTER_CS, 8)).toBe(0x08n);
    put(core, p + OFF.GS_SELECTOR, 2, 0x10);
    put(core, p + OFF.GS_ATTRIB, 2, 0xc93);
    put(core, p + OFF.GS_LIMIT, 4, 0xffffffff);
    put(core, p + OFF.GS_BASE, 8, 0xabc000);
    put(core, p + OFF.SYSENTER_EIP, 8, 0xdeadbeef);
    expect(run(core, VMLOAD, { eax: SAVE_PAGE }).vector).toBeNull();
    const gs = core.getSegment('gs');
    expect(gs).toMatchObject({ selector: 0x10, base: 0xabc000, limit: 0xffffffff, access: 0xc093 });
    expect(msr(core, 0x176)).toEqual([0xdeadbeef, 0]);
  });
});

describe('VMRUN consistency checks (15.5.1): VMEXIT_INVALID', () => {
  const cases: [string, (c: Core) => void][] = [
    ['EFER.SVME = 0', (c) => put(c, VMCB + OFF.EFER, 8, 0)],
    ['CR0.CD = 0 and CR0.NW = 1', (c) => put(c, VMCB + OFF.CR0, 8, 0x20000011)],
    ['CR0[63:32] not zero', (c) => put(c, VMCB + OFF.CR0, 8, 0x1_0000_0011n)],
    ['CR4 MBZ bits', (c) => put(c, VMCB + OFF.CR4, 8, 1n << 32n)],
    ['DR6[63:32] not zero', (c) => put(c, VMCB + OFF.DR6, 8, 0x1_ffff0ff0n)],
    ['DR7[63:32] not zero', (c) => put(c, VMCB + OFF.DR7, 8, 0x1_00000400n)],
    ['EFER MBZ bits', (c) => put(c, VMCB + OFF.EFER, 8, BigInt(SVME) | (1n << 20n))],
    ['VMRUN intercept clear', (c) => put(c, VMCB + OFF.INTERCEPT_MISC2, 4, 0)],
    ['IOPM beyond the physical-address width', (c) => put(c, VMCB + OFF.IOPM_BASE_PA, 8,
      0xffffe000)],
    ['MSRPM beyond the physical-address width', (c) => put(c, VMCB + OFF.MSRPM_BASE_PA, 8,
      0x1_0000_0000n)],
    ['EVENTINJ reserved type 1', (c) => put(c, VMCB + OFF.EVENTINJ, 4, 0x80000100 | 32)],
    ['EVENTINJ exception vector 2 (NMI is no exception)', (c) => put(c, VMCB + OFF.EVENTINJ, 4,
      0x80000302)],
    ['ASID 0', (c) => put(c, VMCB + OFF.GUEST_ASID, 4, 0)],
  ];
  for (const [name, spoil] of cases) {
    it(name, async () => {
      const core = await svmCore();
      validVmcb(core);
      spoil(core);
      const r = run(core, [...VMRUN, 0xbb, 0x11, 0x11, 0, 0], { eax: VMCB, ebx: 0 });
      expect(r.vector).toBeNull();
      expect(get(core, VMCB + OFF.EXITCODE, 8)).toBe(0xffffffffffffffffn);
      // Back at the instruction after VMRUN, RAX as it was.
      expect(r.regs.ebx).toBe(0x1111);
      expect(r.regs.eax).toBe(VMCB);
      expect(r.regs.eip).toBe(CODE + 3 + 5 + 1);
    });
  }
});

describe('VMRUN enters the guest (15.5.1)', () => {
  it('the guest state of the VMCB is loaded and the guest runs', async () => {
    const core = await svmCore();
    validVmcb(core);
    put(core, VMCB + OFF.RAX, 8, 0x77);
    core.writePhys(GUEST_CODE, Uint8Array.from([0x8d, 0x58, 0x01, HLT])); // lea ebx,[eax+1]
    core.writePhys(CODE, Uint8Array.from([...VMRUN, HLT]));
    core.setRegs({ eip: CODE, eax: VMCB, ebx: 0 });
    const exit = core.run(1000);
    expect(exit.reason).toBe('hlt');
    const regs = core.getRegs();
    expect(regs.ebx).toBe(0x78);
    expect(regs.esp).toBe(0x70000);
    expect(regs.eip).toBe(GUEST_CODE + 4);
  });
});
