/**
 * The VT-x and AMD-V tables against headers the project did not write: Linux KVM
 * (asm/vmx.h, uapi/asm/vmx.h, asm/svm.h, uapi/asm/svm.h, asm/msr-index.h), Xen
 * (asm/hvm/vmx/vmcs.h) and Bochs (cpu/vmx.h, cpu/svm.h). The extracts live in
 * test/fixtures/vmm/, each naming its repository, path and commit on its first line; the
 * expected numbers are parsed from them here, never typed in this file.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import asc from 'assemblyscript/asc';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  vmcsFields, vmcs, vmxExitReasons, vmxExitReasonBits, vmxInstructionErrors, vmxMsrs,
  featureControlBits, vmcbFields, vmcbBitFields, vmcbConstants, tlbControl, svmEventTypes,
  svmExitCodes, svmMsrs, svmMsrBits, vmcbCleanBits, vmcsField, decodeVmcsEncoding,
  VmcsEncodingError,
} from '../../bindings/vmm/tables.js';
import * as lib from '../../bindings/index.js';
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildVmcsFields, buildVmcbLayout, generateFiles } from '../../scripts/gen-vmm-tables.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = join(ROOT, 'test/fixtures/vmm');

/** A fixture's text; its first line must name the repository, path and commit it came from. */
function fixture(name: string): string {
  const text = readFileSync(join(FIXTURES, name), 'utf8');
  expect(text.split('\n')[0]).toMatch(/^# source: [\w.-]+\/[\w.-]+ .*\S+\.h @ [0-9a-f]{40}$/);
  return text;
}

/** Evaluates a C constant expression of the kinds the headers use: literals (hex, decimal,
 *  U/ULL suffixes), BIT(n), BIT_ULL(n), <<, |, +, parentheses and names already known. */
function evalC(expr: string, known: Map<string, number>): number | undefined {
  let e = expr.replace(/\/\*.*?\*\//g, '').replace(/\/\/.*$/, '').trim();
  e = e.replace(/\bBIT(?:_ULL)?\((\w+)\)/g, '(1 << $1)');
  e = e.replace(/\b(0x[0-9a-fA-F]+|\d+)(?:ULL|LLU|UL|U|LL)?\b/g, '$1');
  e = e.replace(/\b[A-Za-z_]\w*\b/g, (n) => (known.has(n) ? String(known.get(n)) : n));
  if (!/^[0-9a-fA-Fx()\s<|+-]+$/.test(e)) return undefined;
  if (/[a-fA-F]/.test(e.replace(/0x[0-9a-fA-F]+/g, ''))) return undefined;
  const negative = /^\(?\s*(-\s*\d+)\s*\)?$/.exec(e);
  if (negative) return Number(negative[1].replace(/\s/g, ''));
  // eslint-disable-next-line no-new-func
  return (Function(`return (${e});`)() as number) >>> 0;
}

/** `#define NAME value` and `NAME = value,` lines, and enum members numbered implicitly. */
function constants(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let next: number | undefined;
  for (const line of text.split('\n')) {
    if (/^\s*(enum\b.*)?\{\s*$/.test(line) || /^\s*enum\b/.test(line)) next = 0;
    if (/^\s*\}/.test(line)) next = undefined;
    let m = /^#define\s+(\w+)\s+(.+?)\s*$/.exec(line);
    if (m) {
      const v = evalC(m[2], out);
      if (v !== undefined) out.set(m[1], v);
      continue;
    }
    m = /^\s*(\w+)\s*=\s*([^,]+?)\s*,?\s*(?:\/\/.*|\/\*.*)?$/.exec(line);
    if (m) {
      const v = evalC(m[2], out);
      if (v !== undefined) {
        out.set(m[1], v);
        next = v + 1;
      }
      continue;
    }
    m = /^\s*([A-Z_][A-Za-z0-9_]*)\s*,\s*(?:\/\*.*)?$/.exec(line);
    if (m && next !== undefined) out.set(m[1], next++);
  }
  return out;
}

interface Member { name: string; offset: number; size: number }
/** The members of a packed C struct, with their offsets (C's rules for __packed). */
function packedStruct(text: string, name: string, known: Map<string, number>,
  types: Record<string, number>): { members: Member[]; size: number } {
  const start = text.search(new RegExp(`struct [^\\n]*\\b${name} \\{`));
  expect(start, `struct ${name} in the fixture`).toBeGreaterThanOrEqual(0);
  const members: Member[] = [];
  let offset = 0;
  let union: number | undefined;
  for (const line of text.slice(start).split('\n').slice(1)) {
    if (/^\s*union \{/.test(line)) { union = 0; continue; }
    if (/^\s*\};?\s*$/.test(line) && union !== undefined) {
      offset += union;
      union = undefined;
      continue;
    }
    if (/^\}/.test(line)) break;
    const m = /^\s*(u8|u16|u32|u64|struct \w+)\s+(\w+)(?:\[([^\]]+)\])?;/.exec(line);
    if (!m) continue;
    const unit = types[m[1]];
    if (unit === undefined) continue; // a member of a type the extract does not define
    const count = m[3] === undefined
      ? 1 : evalC(m[3].replace(/(\w+)\s*-\s*(\w+)/, '$1 + -$2'), known);
    expect(count, `array size of ${m[2]}`).toBeDefined();
    const size = unit * (count as number);
    if (union !== undefined) union = Math.max(union, size);
    else {
      members.push({ name: m[2], offset, size });
      offset += size;
    }
  }
  return { members, size: offset };
}

const field = (name: string) => vmcbFields.find((f) => f.name === name)!;

describe('generated tables', () => {
  it('are what scripts/gen-vmm-tables.mjs makes of the sources now (npm run build:wasm)', () => {
    const files = generateFiles() as Record<string, string>;
    expect(Object.keys(files)).toHaveLength(4);
    for (const [path, text] of Object.entries(files)) {
      expect(readFileSync(join(ROOT, path), 'utf8') === text, `${path} is up to date`).toBe(true);
    }
  });

  it('compile for the core, with the same numbers as the host side', async () => {
    let wasm: Uint8Array | undefined;
    const files = ['assembly/generated/vmx.ts', 'assembly/generated/svm.ts'];
    const args = [...files, '--outFile', 'tables.wasm', '--runtime', 'stub'];
    const { error, stderr } = await asc.main(args, {
      // The core's asconfig.json targets are not wanted here; only the .wasm is kept.
      readFile: (name: string, dir: string) => {
        const p = join(dir, name);
        return name.endsWith('asconfig.json') || !existsSync(p) ? null : readFileSync(p, 'utf8');
      },
      writeFile: (name: string, contents: Uint8Array | string) => {
        if (name.endsWith('.wasm')) wasm = contents as Uint8Array;
      },
    });
    expect(error, stderr.toString()).toBeNull();
    const { instance } = await WebAssembly.instantiate(wasm!, {});
    const g = (n: string) => (instance.exports[n] as WebAssembly.Global).value as number | bigint;
    for (const f of vmcsFields) expect(g(`VMCS_${f.name}`), f.name).toBe(f.encoding);
    for (const f of vmcbFields) expect(g(`VMCB_${f.name}`), f.name).toBe(f.offset);
    for (const [n, v] of Object.entries(vmxExitReasons)) expect(g(`EXIT_REASON_${n}`), n).toBe(v);
    for (const [n, v] of Object.entries(vmxInstructionErrors)) expect(g(`VMXERR_${n}`), n).toBe(v);
    for (const [n, v] of Object.entries(vmxMsrs)) expect(g(`MSR_${n}`), n).toBe(v);
    for (const [n, v] of Object.entries(svmExitCodes)) {
      expect(g(`SVM_EXIT_${n}`), n).toBe(BigInt(v));
    }
    for (const b of vmcbBitFields) {
      expect(g(`VMCB_${b.name}_MASK`), b.name).toBe(BigInt((2 ** b.width - 1) * 2 ** b.lsb));
    }
    // VMCS_ENCODINGS: the encodings in ascending order, a field's index being its slot.
    const memory = instance.exports.memory as WebAssembly.Memory;
    const n = g('VMCS_FIELD_COUNT') as number;
    const list = new Uint32Array(memory.buffer, g('VMCS_ENCODINGS') as number, n);
    expect([...list]).toEqual(vmcsFields.map((f) => f.encoding));
  });
});

describe('VMCS field encodings', () => {
  const bochs = fixture('bochs-vmx.h.txt');
  // Bochs groups its encodings under comments naming width and type (SDM appendix B).
  const bochsFields = new Map<number, { name: string; width: string; type: string }>();
  let group: { width: string; type: string } | undefined;
  for (const line of bochs.split('\n')) {
    const g = new RegExp('^/\\* VMCS (16-bit|64-bit|32[-_]bit|natural width) ' +
      '(control|read only data|guest[- ]state|host[- ]state) fields \\*/').exec(line);
    if (g) {
      const widths: Record<string, string> = {
        '16-bit': '16', '64-bit': '64', '32-bit': '32', '32_bit': '32', 'natural width': 'natural',
      };
      const type = g[2] === 'control' ? 'control' : g[2] === 'read only data' ? 'exitInfo'
        : g[2].startsWith('guest') ? 'guest' : 'host';
      group = { width: widths[g[1]], type };
      continue;
    }
    const d = /^#define (VMCS_\w+)\s+(0x[0-9A-Fa-f]+)/.exec(line);
    if (d && group) bochsFields.set(parseInt(d[2], 16), { name: d[1], ...group });
  }
  const kvm = constants(fixture('linux-asm-vmx.h.txt'));
  const xen = constants(fixture('xen-vmcs.h.txt'));

  it('every field has the encoding, width and type Bochs gives it', () => {
    expect(bochsFields.size).toBeGreaterThan(150);
    for (const f of vmcsFields) {
      const b = bochsFields.get(f.encoding);
      expect(b, `${f.name} 0x${f.encoding.toString(16)} in Bochs`).toBeDefined();
      expect({ width: f.width, type: f.type }, f.name).toEqual({ width: b!.width, type: b!.type });
      expect(b!.name.endsWith('_HI'), f.name).toBe(f.access === 'high');
    }
  });

  it('leaves out of Bochs\'s fields only the later extensions', () => {
    const ours = new Set<number>(vmcsFields.map((f) => f.encoding));
    const missing = [...bochsFields].filter(([enc]) => !ours.has(enc))
      .map(([, b]) => b.name.replace(/_HI$/, ''));
    // Posted interrupts, #VE, PML, VM functions, APIC virtualization, VMCS shadowing, XSAVES,
    // SGX, sub-page protection, TSC scaling, MPX, Intel PT, PKS, CET.
    const later = new RegExp('POSTED_INTERRUPT|EPTP_INDEX|INTERRUPT_STATUS|PML_|VMFUNC|EOI_EXIT|' +
      'EPTP_LIST|VMREAD_BITMAP|VMWRITE_BITMAP|VE_EXCEPTION|XSS_|ENCLS_|SPPTP|TSC_MULTIPLIER|' +
      'BNDCFGS|RTIT|PKRS|S_CET|SSP');
    expect(missing.length).toBeGreaterThan(0);
    expect(missing.filter((n) => !later.test(n))).toEqual([]);
  });

  it('agrees with Linux KVM\'s enum vmcs_field wherever KVM names the field', () => {
    expect(kvm.size).toBeGreaterThan(150);
    const notInKvm: string[] = [];
    for (const f of vmcsFields) {
      if (kvm.has(f.name)) expect(f.encoding, f.name).toBe(kvm.get(f.name));
      else notInKvm.push(f.name);
    }
    // KVM (64-bit only, no dual-monitor SMM) does not name these; Bochs checks them above.
    expect(notInKvm.sort()).toEqual(['EXECUTIVE_VMCS_POINTER', 'EXECUTIVE_VMCS_POINTER_HIGH',
      'GUEST_SMBASE', 'IO_RCX', 'IO_RDI', 'IO_RIP', 'IO_RSI']);
  });

  it('agrees with Xen\'s enum vmcs_field wherever Xen uses the same name', () => {
    let same = 0;
    for (const f of vmcsFields) {
      if (!xen.has(f.name)) continue;
      expect(f.encoding, f.name).toBe(xen.get(f.name));
      same++;
    }
    expect(same).toBeGreaterThan(100);
    // Xen's own names for some of ours, and its VMCS_HIGH(x) = x | 1.
    expect(vmcs.GUEST_SMBASE).toBe(xen.get('GUEST_SMBASE'));
    expect(vmcs.GUEST_IA32_PAT).toBe(xen.get('GUEST_PAT'));
    expect(vmcs.GUEST_PDPTR0).toBe(xen.get('GUEST_PDPTE0'));
    expect(vmcs.VMX_PREEMPTION_TIMER_VALUE).toBe(xen.get('GUEST_PREEMPTION_TIMER'));
    expect(vmcs.HOST_IA32_SYSENTER_CS).toBe(xen.get('HOST_SYSENTER_CS'));
    expect(fixture('xen-vmcs.h.txt')).toContain('#define VMCS_HIGH(x) ((x) | 1)');
    for (const f of vmcsFields.filter((x) => x.access === 'high')) {
      expect(f.encoding, f.name).toBe(vmcs[f.name.replace(/_HIGH$/, '') as keyof typeof vmcs] | 1);
    }
  });

  it('decodes every Bochs encoding into the width and type of its Bochs group', () => {
    for (const [enc, b] of bochsFields) {
      const d = decodeVmcsEncoding(enc);
      expect({ width: d.width, type: d.type, access: d.access }, b.name)
        .toEqual({
          width: b.width, type: b.type, access: b.name.endsWith('_HI') ? 'high' : 'full',
        });
    }
  });

  it('finds a field by encoding and refuses encodings that name none, with a typed error', () => {
    expect(vmcsField(kvm.get('GUEST_CR0')!).name).toBe('GUEST_CR0');
    expect(vmcsField(kvm.get('IO_BITMAP_A_HIGH')!)).toMatchObject({ access: 'high', width: '64' });
    const bad = [0x6801, 0x1000, 0x8000, 0x482c, -1, 2 ** 32, 1.5];
    for (const enc of bad) expect(() => vmcsField(enc), String(enc)).toThrow(VmcsEncodingError);
    expect(() => vmcsField(0x6801)).toThrow(/0x6801: access type high on a natural-bit field/);
    expect(() => vmcsField(0x482c)).toThrow(/0x482c: no such field/);
  });

  it('generation refuses an encoding that disagrees with its declared width or type', () => {
    expect(buildVmcsFields().length).toBe(vmcsFields.length);
    expect(() => buildVmcsFields([['32', 'guest', 'B-10 test', [['GUEST_CR0', 0x6800]]]]))
      .toThrow(/GUEST_CR0 \(0x6800, SDM vol. 3C table B-10 test\): encoding width 3 is not 32-bit/);
    expect(() => buildVmcsFields([['natural', 'host', 'B-15 test', [['GUEST_CR0', 0x6800]]]]))
      .toThrow(/encoding type 2 is not host/);
    expect(() => buildVmcsFields([['64', 'control', 'B-4 test', [['IO_BITMAP_A_HIGH', 0x2001]]]]))
      .toThrow(/declared by its HIGH encoding/);
    expect(() => buildVmcsFields([['16', 'control', 'B-1 test', [['X', 0x1000]]]]))
      .toThrow(/reserved encoding bits set/);
  });
});

describe('VMX exit reasons, VM-instruction errors and MSRs', () => {
  const kvm = constants(fixture('linux-uapi-vmx.h.txt'));
  const bochs = constants(fixture('bochs-vmx.h.txt'));

  it('exit reasons agree with Linux KVM\'s EXIT_REASON_* and cover Bochs\'s list', () => {
    const kvmReasons = [...kvm].filter(([n]) => n.startsWith('EXIT_REASON_'));
    expect(kvmReasons.length).toBeGreaterThan(60);
    for (const [n, v] of kvmReasons) {
      const ours = n.slice('EXIT_REASON_'.length) as keyof typeof vmxExitReasons;
      expect(vmxExitReasons[ours], n).toBe(v);
    }
    const bochsReasons = [...bochs]
      .filter(([n]) => n.startsWith('VMX_VMEXIT_') && !/RESERVED|LAST_REASON/.test(n));
    const ours = new Set<number>(Object.values(vmxExitReasons));
    for (const [n, v] of bochsReasons) expect(ours.has(v), n).toBe(true);
    const kvmValues = new Set(kvmReasons.map(([, v]) => v));
    const bochsValues = new Set(bochsReasons.map(([, v]) => v));
    for (const [n, v] of Object.entries(vmxExitReasons)) {
      expect(kvmValues.has(v) || bochsValues.has(v), `${n} = ${v} in KVM or Bochs`).toBe(true);
    }
    for (const [n, v] of Object.entries(vmxExitReasonBits)) expect(v, n).toBe(kvm.get(n));
  });

  it('VM-instruction errors agree with KVM, Bochs and Xen', () => {
    const kvmErr = [...constants(fixture('linux-asm-vmx.h.txt'))]
      .filter(([n]) => n.startsWith('VMXERR_'));
    expect(kvmErr.length).toBe(Object.keys(vmxInstructionErrors).length);
    for (const [n, v] of kvmErr) {
      expect(vmxInstructionErrors[n.slice(7) as keyof typeof vmxInstructionErrors], n).toBe(v);
    }
    const ours = Object.values(vmxInstructionErrors).sort((a, b) => a - b);
    const bochsErr = [...bochs]
      .filter(([n]) => n.startsWith('VMXERR_') && !/RESERVED|NO_ERROR/.test(n));
    expect(bochsErr.map(([, v]) => v).sort((a, b) => a - b)).toEqual(ours);
    const xenErr = [...constants(fixture('xen-vmcs.h.txt'))]
      .filter(([n]) => n.startsWith('VMX_INSN_') && !/SUCCEED|FAIL_INVALID/.test(n));
    expect(xenErr.length).toBeGreaterThan(10);
    for (const [n, v] of xenErr) expect(ours, n).toContain(v);
  });

  it('MSR indices and bits agree with Linux\'s msr-index.h', () => {
    const msr = constants(fixture('linux-msr-index.h.txt'));
    for (const [n, v] of Object.entries(vmxMsrs)) {
      const kname = n === 'IA32_FEATURE_CONTROL' ? 'MSR_IA32_FEAT_CTL' : `MSR_${n}`;
      expect(v, n).toBe(msr.get(kname));
    }
    expect(Object.keys(vmxMsrs)).toHaveLength(19);
    const fc = featureControlBits;
    expect(fc.FEATURE_CONTROL_LOCKED).toBe(msr.get('FEAT_CTL_LOCKED'));
    expect(fc.FEATURE_CONTROL_VMX_INSIDE_SMX).toBe(msr.get('FEAT_CTL_VMX_ENABLED_INSIDE_SMX'));
    expect(fc.FEATURE_CONTROL_VMX_OUTSIDE_SMX).toBe(msr.get('FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX'));
    expect(svmMsrs.MSR_EFER).toBe(msr.get('MSR_EFER'));
    expect(svmMsrs.MSR_VM_CR).toBe(msr.get('MSR_VM_CR'));
    expect(svmMsrs.MSR_VM_HSAVE_PA).toBe(msr.get('MSR_VM_HSAVE_PA'));
    expect(svmMsrBits.EFER_SVME_BIT).toBe(msr.get('_EFER_SVME'));
    const vmcr = constants(fixture('linux-asm-svm-vm-cr.h.txt'));
    expect(1 << svmMsrBits.VM_CR_LOCK_BIT).toBe(vmcr.get('SVM_VM_CR_SVM_LOCK_MASK'));
    expect(1 << svmMsrBits.VM_CR_SVMDIS_BIT).toBe(vmcr.get('SVM_VM_CR_SVM_DIS_MASK'));
  });
});

describe('VMCB layout', () => {
  const text = fixture('linux-asm-svm.h.txt');
  const kvm = constants(text);
  const seg = packedStruct(text, 'vmcb_seg', kvm, { u8: 1, u16: 2, u32: 4, u64: 8 });
  const types = { u8: 1, u16: 2, u32: 4, u64: 8, 'struct vmcb_seg': seg.size };
  const control = packedStruct(text, 'vmcb_control_area', kvm, types);
  const save = packedStruct(text, 'vmcb_save_area', kvm, types);
  const at = (s: { members: Member[] }, name: string) => {
    const m = s.members.find((x) => x.name === name);
    expect(m, name).toBeDefined();
    return m!;
  };
  const bochs = constants(fixture('bochs-svm.h.txt'));

  it('parses KVM\'s structs to the sizes and reserved offsets KVM asserts', () => {
    expect(control.size).toBe(kvm.get('EXPECTED_VMCB_CONTROL_AREA_SIZE'));
    expect(save.size).toBe(kvm.get('EXPECTED_VMCB_SAVE_AREA_SIZE'));
    const checks = [...text.matchAll(/BUILD_BUG_RESERVED_OFFSET\(vmcb_save_area, (0x\w+)\)/g)];
    expect(checks.length).toBe(6);
    for (const [, off] of checks) {
      expect(at(save, `reserved_${off}`).offset).toBe(parseInt(off, 16));
    }
    expect(vmcbConstants.VMCB_SAVE_BASE).toBe(control.size);
  });

  it('control area offsets agree with KVM\'s struct vmcb_control_area', () => {
    const word = (n: string) => at(control, 'intercepts').offset + 4 * kvm.get(n)!;
    const kvmOffset: Record<string, number> = {
      INTERCEPT_CR: word('INTERCEPT_CR'), INTERCEPT_DR: word('INTERCEPT_DR'),
      INTERCEPT_EXCEPTIONS: word('INTERCEPT_EXCEPTION'), INTERCEPT_MISC1: word('INTERCEPT_WORD3'),
      INTERCEPT_MISC2: word('INTERCEPT_WORD4'),
    };
    const member: Record<string, string> = {
      PAUSE_FILTER_THRESHOLD: 'pause_filter_thresh', PAUSE_FILTER_COUNT: 'pause_filter_count',
      IOPM_BASE_PA: 'iopm_base_pa', MSRPM_BASE_PA: 'msrpm_base_pa', TSC_OFFSET: 'tsc_offset',
      GUEST_ASID: 'asid', TLB_CONTROL: 'tlb_ctl', VINTR_CONTROL: 'int_ctl',
      VINTR_VECTOR: 'int_vector', INTERRUPT_SHADOW: 'int_state', EXITCODE: 'exit_code',
      EXITINFO1: 'exit_info_1', EXITINFO2: 'exit_info_2', EXITINTINFO: 'exit_int_info',
      EXITINTINFO_ERROR_CODE: 'exit_int_info_err', NP_CONTROL: 'nested_ctl',
      EVENTINJ: 'event_inj', EVENTINJ_ERROR_CODE: 'event_inj_err', N_CR3: 'nested_cr3',
      LBR_VIRTUALIZATION: 'virt_ext', VMCB_CLEAN: 'clean', NRIP: 'next_rip',
      GUEST_INSN_BYTES_FETCHED: 'insn_len', GUEST_INSN_BYTES: 'insn_bytes',
    };
    const ours = vmcbFields.filter((f) => f.area === 'control');
    for (const f of ours) {
      const expected = kvmOffset[f.name] ?? at(control, member[f.name]).offset;
      expect(f.offset, f.name).toBe(expected);
    }
    expect(ours.length).toBe(Object.keys(kvmOffset).length + Object.keys(member).length);
  });

  it('state save area offsets and sizes agree with KVM\'s struct vmcb_save_area', () => {
    const saveFields = vmcbFields.filter((f) => f.area === 'save');
    expect(saveFields.length).toBeGreaterThan(50);
    for (const f of saveFields) {
      const s = /^(ES|CS|SS|DS|FS|GS|GDTR|LDTR|IDTR|TR)_(\w+)$/.exec(f.name);
      let offset: number;
      let size: number;
      if (s) {
        const part = at(seg, s[2].toLowerCase());
        offset = at(save, s[1].toLowerCase()).offset + part.offset;
        size = part.size;
      } else {
        const m = at(save, f.name.toLowerCase().replace(/^lastexcp(from|to)$/, 'last_excp_$1'));
        offset = m.offset;
        size = m.size;
      }
      expect({ offset: f.offset, size: f.size }, f.name)
        .toEqual({ offset: control.size + offset, size });
    }
  });

  it('offsets agree with Bochs\'s VMCB definitions', () => {
    const name: Record<string, string> = {
      INTERCEPT_CR: 'SVM_CONTROL16_INTERCEPT_CR_READ',
      INTERCEPT_DR: 'SVM_CONTROL16_INTERCEPT_DR_READ',
      INTERCEPT_MISC1: 'SVM_CONTROL32_INTERCEPT1', INTERCEPT_MISC2: 'SVM_CONTROL32_INTERCEPT2',
      IOPM_BASE_PA: 'SVM_CONTROL64_IOPM_BASE_PHY_ADDR',
      MSRPM_BASE_PA: 'SVM_CONTROL64_MSRPM_BASE_PHY_ADDR',
      VINTR_CONTROL: 'SVM_CONTROL_VTPR', NP_CONTROL: 'SVM_CONTROL_NESTED_PAGING_ENABLE',
      EVENTINJ: 'SVM_CONTROL32_EVENT_INJECTION',
      EVENTINJ_ERROR_CODE: 'SVM_CONTROL32_EVENT_INJECTION_ERRORCODE',
      N_CR3: 'SVM_CONTROL64_NESTED_PAGING_HOST_CR3',
      LBR_VIRTUALIZATION: 'SVM_CONTROL_LBR_VIRTUALIZATION_ENABLE',
      VMCB_CLEAN: 'SVM_CONTROL32_VMCB_CLEAN_BITS',
      GUEST_INSN_BYTES_FETCHED: 'SVM_CONTROL64_GUEST_INSTR_BYTES',
      EFER: 'SVM_GUEST_EFER_MSR', KERNEL_GS_BASE: 'SVM_GUEST_KERNEL_GSBASE_MSR',
      G_PAT: 'SVM_GUEST_PAT', LASTEXCPFROM: 'SVM_GUEST_LAST_EXCEPTION_FROM_MSR',
      LASTEXCPTO: 'SVM_GUEST_LAST_EXCEPTION_TO_MSR',
    };
    const unmatched: string[] = [];
    for (const f of vmcbFields) {
      const candidates = [name[f.name], `SVM_GUEST_${f.name.replace(/_ATTRIB$/, '_ATTR')}`,
        `SVM_GUEST_${f.name}_MSR`,
        ...['', '16', '32', '64'].map((w) => `SVM_CONTROL${w}_${f.name}`)];
      const hit = candidates.find((c) => c !== undefined && bochs.has(c));
      if (hit) expect(f.offset, `${f.name} = ${hit}`).toBe(bochs.get(hit));
      else unmatched.push(f.name);
    }
    // Bochs keeps the fetched-bytes count and the bytes in one 16-byte field at 0D0h.
    expect(unmatched).toEqual(['GUEST_INSN_BYTES']);
    // V_IRQ, V_INTR_PRIO / V_IGN_TPR and V_INTR_MASKING sit in the bytes Bochs names.
    const byte = (b: string) => field(vmcbBitFields.find((x) => x.name === b)!.field).offset +
      Math.floor(vmcbBitFields.find((x) => x.name === b)!.lsb / 8);
    expect(byte('V_IRQ')).toBe(bochs.get('SVM_CONTROL_VIRQ'));
    expect(byte('V_INTR_PRIO')).toBe(bochs.get('SVM_CONTROL_VINTR_PRIO_IGN_TPR'));
    expect(byte('V_IGN_TPR')).toBe(bochs.get('SVM_CONTROL_VINTR_PRIO_IGN_TPR'));
    expect(byte('V_INTR_MASKING')).toBe(bochs.get('SVM_CONTROL_VINTR_MASKING'));
  });

  it('bit fields, TLB control and event types agree with KVM\'s masks', () => {
    const mask = (n: string) => {
      const b = vmcbBitFields.find((x) => x.name === n)!;
      return ((2 ** b.width - 1) * 2 ** b.lsb) >>> 0;
    };
    const pairs: [string, string][] = [
      ['V_TPR', 'V_TPR_MASK'], ['V_IRQ', 'V_IRQ_MASK'], ['V_INTR_PRIO', 'V_INTR_PRIO_MASK'],
      ['V_IGN_TPR', 'V_IGN_TPR_MASK'], ['V_INTR_MASKING', 'V_INTR_MASKING_MASK'],
      ['NP_ENABLE', 'SVM_NESTED_CTL_NP_ENABLE'],
      ['LBR_VIRTUALIZATION_ENABLE', 'LBR_CTL_ENABLE_MASK'],
      ['INTERRUPT_SHADOW_BIT', 'SVM_INTERRUPT_SHADOW_MASK'],
      ['EVENT_VECTOR', 'SVM_EVTINJ_VEC_MASK'],
      ['EVENT_TYPE', 'SVM_EVTINJ_TYPE_MASK'], ['EVENT_EV', 'SVM_EVTINJ_VALID_ERR'],
      ['EVENT_V', 'SVM_EVTINJ_VALID'],
    ];
    for (const [ours, k] of pairs) expect(mask(ours), ours).toBe(kvm.get(k));
    for (const [n, v] of Object.entries(tlbControl)) expect(v, n).toBe(kvm.get(n));
    const shift = kvm.get('SVM_EVTINJ_TYPE_SHIFT')!;
    expect(svmEventTypes.EVENT_TYPE_INTR).toBe(kvm.get('SVM_EVTINJ_TYPE_INTR')! >>> shift);
    expect(svmEventTypes.EVENT_TYPE_NMI).toBe(kvm.get('SVM_EVTINJ_TYPE_NMI')! >>> shift);
    expect(svmEventTypes.EVENT_TYPE_EXCEPTION).toBe(kvm.get('SVM_EVTINJ_TYPE_EXEPT')! >>> shift);
    expect(svmEventTypes.EVENT_TYPE_SOFT_INT).toBe(kvm.get('SVM_EVTINJ_TYPE_SOFT')! >>> shift);
  });

  it('clean bits agree with KVM\'s VMCB_* dirty-tracking enum', () => {
    const kvmClean = constants(fixture('linux-kvm-svm.h.txt'));
    const name: Record<string, string> = {
      CLEAN_I: 'VMCB_INTERCEPTS', CLEAN_IOPM: 'VMCB_PERM_MAP', CLEAN_ASID: 'VMCB_ASID',
      CLEAN_TPR: 'VMCB_INTR', CLEAN_NP: 'VMCB_NPT', CLEAN_CRX: 'VMCB_CR', CLEAN_DRX: 'VMCB_DR',
      CLEAN_DT: 'VMCB_DT', CLEAN_SEG: 'VMCB_SEG', CLEAN_CR2: 'VMCB_CR2', CLEAN_LBR: 'VMCB_LBR',
      CLEAN_AVIC: 'VMCB_AVIC',
    };
    expect(Object.keys(vmcbCleanBits).sort()).toEqual(Object.keys(name).sort());
    for (const [n, v] of Object.entries(vmcbCleanBits)) expect(v, n).toBe(kvmClean.get(name[n]));
  });

  it('generation refuses a field outside its area, misaligned or overlapping', () => {
    expect(buildVmcbLayout().fields.length).toBe(vmcbFields.length);
    expect(() => buildVmcbLayout([['X', 0x3fc, 8]], [], []))
      .toThrow(/X at 0x3fc: outside the control area/);
    expect(() => buildVmcbLayout([['X', 0x042, 8]], [], [])).toThrow(/X at 0x042: not aligned/);
    expect(() => buildVmcbLayout([['X', 0x040, 8], ['Y', 0x044, 4]], [], []))
      .toThrow(/X and Y overlap/);
    expect(() => buildVmcbLayout([['X', 0x040, 4]], [], [['B', 'X', 30, 4]]))
      .toThrow(/B: outside X/);
  });
});

describe('SVM exit codes', () => {
  it('agree with Linux KVM\'s SVM_EXIT_* and cover Bochs\'s list', () => {
    const kvm = constants(fixture('linux-uapi-svm.h.txt'));
    const kvmExits = [...kvm].filter(([n]) => n.startsWith('SVM_EXIT_'));
    expect(kvmExits.length).toBeGreaterThan(90);
    for (const [n, v] of kvmExits) {
      const ours = { EXCP_BASE: 'EXCP0', LAST_EXCP: 'EXCP31' }[n.slice(9)] ?? n.slice(9);
      expect(svmExitCodes[ours as keyof typeof svmExitCodes], n).toBe(v);
    }
    const bochs = constants(fixture('bochs-svm.h.txt'));
    const values = new Set<number>(Object.values(svmExitCodes));
    const bochsExits = [...bochs].filter(([n]) => n.startsWith('SVM_VMEXIT_'));
    expect(bochsExits.length).toBeGreaterThan(60);
    for (const [n, v] of bochsExits) expect(values.has(v), n).toBe(true);
  });

  it('an intercept bit of vectors 3-5 exits with its bit number as code (KVM\'s numbering)', () => {
    const kvm = constants(fixture('linux-asm-svm.h.txt'));
    let same = 0;
    for (const [n, v] of kvm) {
      const name = n.replace(/^INTERCEPT_/, '');
      if (!n.startsWith('INTERCEPT_') || v < 96 || !(name in svmExitCodes)) continue;
      expect(svmExitCodes[name as keyof typeof svmExitCodes], n).toBe(v);
      same++;
    }
    // Checks INVLPGB, INVLPGB_ILLEGAL, MCOMMIT and TLBSYNC, which uapi/asm/svm.h lacks.
    expect(same).toBeGreaterThan(35);
    expect(svmExitCodes.TLBSYNC).toBe(kvm.get('INTERCEPT_TLBSYNC'));
  });
});

describe('the package exports the tables', () => {
  it('from its main entry point', () => {
    expect(lib.vmcsFields).toBe(vmcsFields);
    expect(lib.vmcbLayout).toBe(vmcbFields);
    expect(lib.vmxExitReasons.EPT_VIOLATION).toBe(vmxExitReasons.EPT_VIOLATION);
    expect(lib.svmExitCodes.NPF).toBe(svmExitCodes.NPF);
    expect(field('RIP').offset).toBe(lib.vmcbLayout.find((f) => f.name === 'RIP')!.offset);
  });
});
