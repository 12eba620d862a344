/**
 * The opcode table (scripts/opcodes.mjs, generated into bindings/generated/opcodes.ts)
 * against the core that its dispatch was generated for, and against the manuals:
 * - every encoding the table calls #UD raises #UD, every other does not (protected and real
 *   mode), and LOCK is refused exactly where the table's `lock` column says;
 * - each instruction ends where its prefix, opcode, modrm and imm columns say;
 * - the privilege and IOPL columns: each CPL-0 instruction is #GP(0) at CPL 3, each
 *   IOPL-sensitive one at CPL 3 with IOPL 0 (in V86 mode as its column says), and no other
 *   behaves differently at CPL 3;
 * - the flags columns: an instruction changes no status flag outside write and undef, and
 *   depends on the flags it reads and no others;
 * - the sensitive and VM-exit columns equal the lists of Robin and Irvine (2000), the SDM
 *   and the AMD APM, written out here from those documents;
 * - coverage: every instruction the core implements is exercised by the instruction
 *   vectors captured from a real CPU (test/fixtures/vectors) or by the suite its row names.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Core, Regs } from '../../bindings/core/index.js';
import { OPCODES, type Opcode } from '../../bindings/generated/opcodes.js';
import { snippetCore, setGate, CODE, STUBS } from './system/snippet.js';
import { loadGroups, bytesOf } from '../vectors/fixtures.js';

const UD = 6, GP = 13;
const SCRATCH = 0x5000; // the memory operand ([EAX] in 32-bit code, [BX+SI] in 16-bit code)
const implemented = (r: Opcode) => r.ud !== 'always' && r.ud !== 'core';
/** A VMX instruction: #UD here, where the core is not configured with VMX (their other
 *  columns are checked in VMX operation by test/core/vmx.test.ts). */
const vmxOnly = (r: Opcode) => r.ud === 'vmx';
const rows = OPCODES.filter((r) => !r.prefixByte);
const hex = (n: number) => n.toString(16).padStart(2, '0');
const name = (r: Opcode) =>
  `${r.prefix ? hex(r.prefix) + ' ' : ''}${r.map === 0x0f ? '0f ' : ''}${hex(r.op)}` +
  `${r.reg === undefined ? '' : ' /' + r.reg}${r.rm === undefined ? '' : ' rm' + r.rm}` +
  ` ${r.mnemonic}`;

/** Whether an opcode takes a ModRM byte (the table's modrm column; the length test below
 *  checks it). */
function hasModrm(map: number, op: number): boolean {
  return OPCODES.some((r) => r.map === map && r.op === op && r.modrm);
}

/** One encoding to try: its bytes and the table rows that describe it. */
interface Form { bytes: number[]; label: string; rows: Opcode[] }

/** Every opcode of both maps with, for ModRM opcodes, each reg field in memory and register
 *  form (rm = 0), and the rows with an rm or a mandatory prefix in their exact encoding. */
function forms(): Form[] {
  const out: Form[] = [];
  const prefixBytes = new Set(OPCODES.filter((r) => r.prefixByte).map((r) => r.op));
  for (const map of [1, 0x0f]) {
    for (let op = 0; op < 256; op++) {
      if (map === 1 && prefixBytes.has(op)) continue;
      const head = map === 1 ? [op] : [0x0f, op];
      const mine = rows.filter((r) => r.map === map && r.op === op && r.prefix === undefined);
      if (!hasModrm(map, op)) { out.push({ bytes: head, label: head.map(hex).join(' '),
        rows: mine }); continue; }
      for (const mod of ['mem', 'reg'] as const) {
        for (let reg = 0; reg < 8; reg++) {
          const m = (mod === 'reg' ? 0xc0 : 0) | (reg << 3);
          const match = mine.filter((r) => (r.reg === undefined || r.reg === reg) &&
            (r.mod === undefined || r.mod === mod) && (r.rm === undefined || r.rm === 0));
          out.push({ bytes: [...head, m], label: [...head, m].map(hex).join(' '), rows: match });
        }
      }
    }
  }
  for (const r of rows.filter((x) => x.rm !== undefined || x.prefix !== undefined)) {
    const bytes = [...(r.prefix ? [r.prefix] : []), ...(r.map === 1 ? [] : [0x0f]), r.op];
    if (r.reg !== undefined) bytes.push((r.mod === 'reg' ? 0xc0 : 0) | (r.reg << 3) | (r.rm ?? 0));
    out.push({ bytes, label: name(r), rows: [r] });
  }
  return out;
}

type Mode = 'protected' | 'real' | 'ring3' | 'v86';
/** After one instruction: the exception taken, EFLAGS, and the registers, EIP and the bytes
 *  around the memory operand and the stack top, as one string. */
interface Outcome { vector: number | null; eflags: number; eip: number; state: string }

const STACK_TOP: Record<Mode, number> = {
  protected: 0x80000, ring3: 0x60000, real: 0x8000, v86: 0x8000,
};

/** One core per mode, reset to its saved state before each instruction. */
class Runner {
  private states = new Map<Mode, { core: Core; state: Uint8Array; low: Uint8Array }>();

  async init(): Promise<void> {
    for (const mode of ['protected', 'real', 'ring3', 'v86'] as const) {
      const core = await snippetCore([], {}, mode === 'ring3');
      if (mode === 'real') {
        // Real mode, the IVT's 256 entries pointing at the same HLT stubs as the IDT's gates.
        const ivt = new DataView(new ArrayBuffer(1024));
        for (let v = 0; v < 256; v++) ivt.setUint32(4 * v, STUBS + v, true);
        core.writePhys(0, new Uint8Array(ivt.buffer));
        core.setRegs({ cr0: 0x10 });
        core.setTable('idtr', { base: 0, limit: 0x3ff });
        for (const s of ['cs', 'ds', 'es', 'ss', 'fs', 'gs'] as const) {
          core.setSegment(s, { selector: 0, base: 0, limit: 0xffff,
            access: s === 'cs' ? 0x9b : 0x93 });
        }
        core.setRegs({ esp: 0x8000 });
      }
      if (mode === 'v86') {
        // Virtual-8086 mode (EFLAGS.VM) at CPL 3 under the protected-mode IDT and TSS: the
        // segments are real-mode style (SDM vol. 3B, 20.1.1); exceptions go to ring 0. EFLAGS
        // first: setSegment derives CPL 3 from VM.
        core.setRegs({ esp: 0x8000, eflags: 0x20002 });
        for (const s of ['cs', 'ds', 'es', 'ss', 'fs', 'gs'] as const) {
          core.setSegment(s, { selector: 0, base: 0, limit: 0xffff, access: 0xf3 });
        }
        setGate(core, 0, STUBS, 0xee); // DPL 3: INT 0 from V86 mode at IOPL 3 may use it
      }
      this.states.set(mode, { core, state: core.saveState(), low: core.readPhys(0, 0x10000) });
    }
  }

  /** Runs one instruction; returns the exception vector it raised, or null. */
  run(mode: Mode, bytes: number[], regs: Partial<Regs> = {}, cr4 = 0): Outcome {
    const s = this.states.get(mode)!;
    s.core.loadState(s.state);
    s.core.writePhys(0, s.low);
    s.core.writePhys(CODE, Uint8Array.from([...bytes, ...new Array(12).fill(0)]));
    s.core.setRegs({ eax: SCRATCH, ebx: mode === 'real' ? SCRATCH : 0, ecx: 0, edx: 0, esi: 0,
      edi: SCRATCH, ...regs });
    if (cr4) s.core.setRegs({ cr4 });
    let exit = s.core.run(1);
    if (exit.reason === 'io') {
      // Perform the port access (a read gets 0) and run the instruction again to its end, as
      // a machine's run loop does (assembly/cpu/iolog.ts).
      if (!exit.write) s.core.completeIo(0);
      exit = s.core.run(1);
    }
    const r = s.core.getRegs();
    const at = exit.reason === 'hlt' ? r.eip - 1 : r.eip;
    const inStubs = at >= STUBS && at < STUBS + 256 && s.core.getSegment('cs').base === 0;
    const vector = inStubs ? at - STUBS : null;
    const after = (['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi',
      'eip'] as const).map((k) => r[k] >>> 0);
    const mem = [...s.core.readPhys(SCRATCH - 16, 32), ...s.core.readPhys(STACK_TOP[mode] - 16,
      32)];
    return { vector, eflags: r.eflags, eip: r.eip, state: [...after, ...mem].join(',') };
  }
}

const runner = new Runner();
beforeAll(async () => { await runner.init(); });

describe('the opcode table agrees with the dispatch', () => {
  it.each(['protected', 'real'] as const)('#UD exactly where the table says (%s mode)', (mode) => {
    const wrong: string[] = [];
    for (const f of forms()) {
      const ud = f.rows.length === 0 ||
        f.rows.every((r) => !implemented(r) || vmxOnly(r) || (r.ud === 'real' && mode === 'real'));
      const { vector } = runner.run(mode, f.bytes);
      if ((vector === UD) !== ud) {
        const rowNames = f.rows.map(name).join(', ') || 'no row';
        wrong.push(`${f.label} (${rowNames}): table ${ud ? '#UD' : 'valid'}, ` +
          `core ${vector === UD ? '#UD' : 'valid'}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('LOCK is refused (#UD) except where the lock column allows it (memory destination)', () => {
    const wrong: string[] = [];
    for (const r of rows.filter((x) => implemented(x) && x.prefix === undefined &&
      x.mod !== 'reg' &&
      hasModrm(x.map, x.op))) {
      const m = (r.reg ?? 0) << 3;
      const { vector } = runner.run('protected', [0xf0, ...(r.map === 1 ? [] : [0x0f]), r.op, m]);
      if ((vector === UD) === !!r.lock) {
        const core = vector === UD ? '#UD' : 'accepts';
        wrong.push(`${name(r)}: lock column ${!!r.lock}, core ${core}`);
      }
    }
    // And an instruction without ModRM never takes LOCK.
    for (const r of rows.filter((x) => implemented(x) && !hasModrm(x.map, x.op)).slice(0, 40)) {
      if (r.lock) wrong.push(`${name(r)} has no ModRM but a lock column`);
      const { vector } = runner.run('protected', [0xf0, ...(r.map === 1 ? [] : [0x0f]), r.op]);
      if (vector !== UD) wrong.push(`${name(r)}: LOCK accepted`);
    }
    expect(wrong).toEqual([]);
  });
});

/** The memory form (or the only form) of a row's encoding. */
function encode(r: Opcode): number[] {
  const b = [...(r.prefix ? [r.prefix] : []), ...(r.map === 1 ? [] : [0x0f]), r.op];
  if (hasModrm(r.map,
    r.op)) b.push((r.mod === 'reg' ? 0xc0 : 0) | ((r.reg ?? 0) << 3) | (r.rm ?? 0));
  return b;
}

describe('encoding columns against the core', () => {
  it('each instruction that completes ends where prefix, opcode, ModRM and imm say', () => {
    // With the operands at zero a relative branch lands on the next instruction; the
    // transfers through a register, memory or far pointer and the returns are left out.
    const away = (r: Opcode) =>
      ['RET', 'RETF', 'IRET', 'SYSENTER', 'SYSEXIT'].includes(r.mnemonic) ||
      (['CALL', 'JMP'].includes(r.mnemonic) && /E|M|A/.test(r.operands));
    const wrong: string[] = [];
    let checked = 0;
    for (const r of rows.filter((x) => implemented(x) && !away(x))) {
      const bytes = encode(r);
      const { vector, eip } = runner.run('protected', bytes);
      if (vector !== null) continue;
      checked++;
      const length = bytes.length + (r.imm ?? 0);
      if (eip !== CODE + length) {
        wrong.push(`${name(r)}: ends at +${eip - CODE}, table says ${length}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(250);
  });
});

describe('privilege and IOPL columns against the core', () => {
  const live = rows.filter((r) => implemented(r) && !vmxOnly(r));

  it('every CPL-0 instruction is #GP(0) at CPL 3; RDTSC only with CR4.TSD', () => {
    const wrong: string[] = [];
    for (const r of live.filter((x) => x.priv === 'cpl0')) {
      if (runner.run('ring3', encode(r)).vector !== GP) wrong.push(`${name(r)}: not #GP at CPL 3`);
    }
    for (const r of live.filter((x) => x.priv === 'cpl0-tsd')) {
      if (runner.run('ring3', encode(r), {},
        1 << 2).vector !== GP) wrong.push(`${name(r)}: not #GP with CR4.TSD`);
      if (runner.run('ring3',
        encode(r)).vector !== null) wrong.push(`${name(r)}: faults without CR4.TSD`);
    }
    expect(wrong).toEqual([]);
  });

  it('IOPL-sensitive instructions: #GP(0) at CPL 3 with IOPL 0 (no I/O bitmap), not IOPL 3', () => {
    const wrong: string[] = [];
    for (const r of live.filter((x) => x.iopl === 'io' || x.iopl === 'if')) {
      if (runner.run('ring3', encode(r),
        { eflags: 0x2 }).vector !== GP) wrong.push(`${name(r)}: not #GP at IOPL 0`);
      if (runner.run('ring3', encode(r),
        { eflags: 0x3002 }).vector === GP) wrong.push(`${name(r)}: #GP at IOPL 3`);
    }
    expect(wrong).toEqual([]);
  });

  it('V86 mode: the v86 and if rows are #GP(0) at IOPL < 3 only, the io rows at any IOPL', () => {
    // SDM vol. 3B, 20.2.7: CLI, STI, PUSHF, POPF, INT n, IRET are IOPL-sensitive in V86 mode;
    // IN, OUT, INS, OUTS are not, they consult the I/O permission bitmap only (none here:
    // the TSS limit ends before it, so every port is #GP). Nothing else depends on IOPL.
    const wrong: string[] = [];
    const VM = 0x20002;
    for (const r of live.filter((x) => x.ud !== 'real')) {
      const k0 = runner.run('v86', encode(r), { eflags: VM }).vector;
      const k3 = runner.run('v86', encode(r), { eflags: VM | 0x3000 }).vector;
      const sensitive = r.iopl === 'v86' || r.iopl === 'if';
      const ok = sensitive ? k0 === GP && k3 !== GP
        : r.iopl === 'io' ? k0 === GP && k3 === GP : k0 === k3;
      if (!ok) wrong.push(`${name(r)} (${r.iopl ?? 'no iopl'}): IOPL 0 ${k0}, IOPL 3 ${k3}`);
    }
    expect(wrong).toEqual([]);
  });

  it('nothing else differs at CPL 3 (the same exception as at CPL 0, or none)', () => {
    const wrong: string[] = [];
    for (const r of live.filter((x) => !x.priv && !x.iopl && !x.sensitive)) {
      const k0 = runner.run('protected', encode(r)).vector;
      const k3 = runner.run('ring3', encode(r)).vector;
      if (k0 !== k3) wrong.push(`${name(r)}: CPL 0 ${k0}, CPL 3 ${k3}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('flags columns against the core', () => {
  const BIT: Record<string, number> = { C: 0x1, P: 0x4, A: 0x10, Z: 0x40, S: 0x80, D: 0x400,
    O: 0x800 };
  const mask = (s: string) => [...s].reduce((m, c) => m | (BIT[c] ?? 0), 0);
  const TESTED = mask('OSZAPCD');

  it('no instruction changes a status flag or DF outside its write and undef columns', () => {
    const wrong: string[] = [];
    for (const r of rows.filter(implemented)) {
      const keep = TESTED & ~mask(r.write + r.undef);
      for (const start of [0x2, 0x2 | TESTED]) {
        for (const ecx of [0, 1]) {
          const { vector, eflags } = runner.run('protected', encode(r), { eflags: start, ecx });
          if (vector !== null) continue;
          const changed = (eflags ^ start) & keep;
          const which = Object.keys(BIT).filter((k) => changed & BIT[k]).join('');
          if (changed) wrong.push(`${name(r)}: changed ${which}`);
        }
      }
    }
    expect([...new Set(wrong)]).toEqual([]);
  });

  it('an instruction reading none of OSZAPC and DF does the same with them set or clear', () => {
    const wrong: string[] = [];
    for (const r of rows.filter((x) => implemented(x) && (mask(x.read) & TESTED) === 0)) {
      for (const ecx of [0, 1]) {
        const a = runner.run('protected', encode(r), { eflags: 0x2, ecx });
        const b = runner.run('protected', encode(r), { eflags: 0x2 | TESTED, ecx });
        // An exception frame holds EFLAGS: compare the exception alone then.
        if (a.vector !== b.vector || (a.vector === null && a.state !== b.state)) {
          wrong.push(`${name(r)} (ECX ${ecx})`);
        }
      }
    }
    expect([...new Set(wrong)]).toEqual([]);
  });

  it('the instructions that read a flag do depend on it', () => {
    // The converse: each instruction with a read column depends on one of those flags.
    const wrong: string[] = [];
    for (const r of rows.filter((x) => implemented(x) && (mask(x.read) & TESTED) !== 0)) {
      const code = [...encode(r), 0x10, 0, 0, 0]; // a branch displacement or immediate of 16
      // Toggled one at a time (JL reads SF and OF but only their difference counts). It
      // depends on a flag when the registers or memory differ, or the flags other than as
      // they came in (CMC, which only writes the flag it reads, passes by its write column).
      const depends = [...r.read].filter((f) => BIT[f]).some((f) => {
        const a = runner.run('protected', code, { eflags: 0x2, ecx: 2 });
        const b = runner.run('protected', code, { eflags: 0x2 | BIT[f], ecx: 2 });
        return a.vector !== b.vector || a.state !== b.state ||
          ((a.eflags ^ b.eflags) & TESTED) !== BIT[f];
      });
      const writesRead = (mask(r.write) & mask(r.read)) === mask(r.read);
      if (!depends && !writesRead) wrong.push(name(r));
    }
    expect(wrong).toEqual([]);
  });
});

/** The mnemonics of the rows with a column value. */
const mnemonics = (pred: (r: Opcode) => boolean) =>
  [...new Set(OPCODES.filter(pred).map((r) => r.mnemonic))].sort();

describe('sensitive and exit columns against the manuals', () => {
  it('privileged (CPL 0): SDM vol. 3A, 5.9, and the #GP(0) conditions of vol. 2 and the APM',
    () => {
    // SDM vol. 3A, 5.9 "Privileged Instructions": LGDT, LLDT, LTR, LIDT, MOV (control
    // registers), LMSW, CLTS, MOV (debug registers), INVD, WBINVD, INVLPG, HLT, RDMSR,
    // WRMSR, RDPMC (CR4.PCE = 0), RDTSC (CR4.TSD = 1). Vol. 2: SYSEXIT, MONITOR, MWAIT,
    // XSETBV and the VMX instructions other than VMCALL are #GP(0) at CPL > 0; RDTSCP as
    // RDTSC. APM vol. 3: VMRUN, VMLOAD, VMSAVE, STGI, CLGI, SKINIT, INVLPGA likewise.
    expect(mnemonics((r) => r.priv === 'cpl0')).toEqual([
      'CLGI', 'CLTS', 'HLT', 'INVD', 'INVEPT/INVVPID', 'INVLPG', 'INVLPGA', 'LGDT', 'LIDT',
      'LLDT', 'LMSW', 'LTR',
      'MONITOR', 'MOV', 'MWAIT', 'RDMSR', 'SKINIT', 'STGI', 'SYSEXIT', 'VMCLEAR', 'VMLAUNCH',
      'VMLOAD', 'VMPTRLD', 'VMPTRST', 'VMREAD', 'VMRESUME', 'VMRUN', 'VMSAVE', 'VMWRITE',
      'VMXOFF', 'VMXON', 'WBINVD', 'WRMSR', 'XSETBV',
    ]);
    const movs = OPCODES.filter((r) => r.priv === 'cpl0' && r.mnemonic === 'MOV');
    expect([...new Set(movs.map((r) => r.operands))]
      .sort()).toEqual(['Cd,Rd', 'Dd,Rd', 'Rd,Cd', 'Rd,Dd']);
    expect(mnemonics((r) => r.priv === 'cpl0-tsd')).toEqual(['RDTSC', 'RDTSCP']);
    expect(mnemonics((r) => r.priv === 'cpl0-pce')).toEqual(['RDPMC']);
  });

  it('LOCK: SDM vol. 2A, LOCK', () => {
    // "ADD, ADC, AND, BTC, BTR, BTS, CMPXCHG, CMPXCHG8B, DEC, INC, NEG, NOT, OR, SBB, SUB,
    // XOR, XADD, and XCHG" with a memory destination (BT and CMP only read: not these).
    expect(mnemonics((r) => !!r.lock)).toEqual(['ADC', 'ADD', 'AND', 'BTC', 'BTR', 'BTS', 'CMPXCHG',
      'CMPXCHG8B', 'DEC', 'INC', 'NEG', 'NOT', 'OR', 'SBB', 'SUB', 'XADD', 'XCHG', 'XOR']);
    // Every form of these with a memory destination (E first) allows it, and no other form.
    const locked = ['ADC', 'ADD', 'AND', 'BTC', 'BTR', 'BTS', 'CMPXCHG', 'CMPXCHG8B', 'DEC', 'INC',
      'NEG', 'NOT', 'OR', 'SBB', 'SUB', 'XADD', 'XCHG', 'XOR'];
    for (const r of OPCODES.filter((x) => locked.includes(x.mnemonic))) {
      const memDest = /^[EM][a-z]*(,|$)/.test(r.operands);
      expect(!!r.lock, name(r)).toBe(memDest);
    }
  });

  it('IOPL-sensitive: SDM vol. 1, 19.5.1 (I/O) and vol. 3B, 20.2.7 (V86 mode)', () => {
    // Vol. 1, 19.5.1: IN, INS, OUT, OUTS check CPL <= IOPL (else the I/O permission bitmap);
    // CLI and STI too (vol. 2A/2B). Vol. 3B, 20.2.7: in V86 mode CLI, STI, PUSHF, POPF,
    // INT n and IRET are IOPL-sensitive; IN/OUT are not (only the bitmap).
    expect(mnemonics((r) => r.iopl === 'io')).toEqual(['IN', 'INS', 'OUT', 'OUTS']);
    expect(mnemonics((r) => r.iopl === 'if')).toEqual(['CLI', 'STI']);
    expect(mnemonics((r) => r.iopl === 'v86')).toEqual(['INT', 'IRET', 'POPF', 'PUSHF']);
  });

  it('sensitive but unprivileged: Robin and Irvine, USENIX Security 2000, 4.3', () => {
    // "Sensitive register instructions": SGDT, SIDT, SLDT, SMSW, PUSHF, POPF. "Protection
    // system references": LAR, LSL, VERR, VERW, POP, PUSH, CALL, JMP, INT n, RET, STR, MOV
    // (POP/PUSH/MOV of segment registers; far CALL, JMP and RET; IRET returns as far RET;
    // INT3 and INTO check the gate's DPL as INT n does, SDM vol. 3A, 6.12.1.1).
    expect(mnemonics((r) => r.sensitive === 'register')).toEqual(['POPF', 'PUSHF', 'SGDT', 'SIDT',
      'SLDT', 'SMSW']);
    expect(mnemonics((r) => r.sensitive === 'protection')).toEqual([
      'CALL', 'INT', 'INT3', 'INTO', 'IRET', 'JMP', 'LAR', 'LSL', 'MOV', 'POP', 'PUSH', 'RETF',
        'STR',
      'VERR', 'VERW',
    ]);
    // CALL and JMP: only the far forms; PUSH and POP: only segment registers.
    for (const r of OPCODES.filter((x) => ['CALL', 'JMP'].includes(x.mnemonic) && x.sensitive)) {
      expect(r.operands === 'Ap' || r.operands === 'Mp', name(r)).toBe(true);
    }
    for (const r of OPCODES.filter((x) => ['PUSH', 'POP',
      'MOV'].includes(x.mnemonic) && x.sensitive)) {
      expect(/ES|CS|SS|DS|FS|GS/.test(r.operands), name(r)).toBe(true);
    }
  });

  it('VMX unconditional exits: SDM vol. 3C, 26.1.2', () => {
    // CPUID, GETSEC, INVD, XSETBV, and INVEPT, INVVPID, VMCALL, VMCLEAR, VMLAUNCH, VMPTRLD,
    // VMPTRST, VMRESUME, VMXOFF, VMXON (VMREAD/VMWRITE without VMCS shadowing); RSM in SMM.
    // INVEPT and INVVPID share one row of the 0F 38 map (66 0F 38 80 / 81).
    expect(mnemonics((r) => r.vmx?.startsWith('always') ?? false)).toEqual([
      'CPUID', 'GETSEC', 'INVD', 'INVEPT/INVVPID', 'RSM', 'VMCALL', 'VMCLEAR', 'VMLAUNCH', 'VMPTRLD', 'VMPTRST',
        'VMREAD',
      'VMRESUME', 'VMWRITE', 'VMXOFF', 'VMXON', 'XSETBV',
    ]);
  });

  it('VMX exits by control: SDM vol. 3C, 26.1.3', () => {
    const controlled = (m: string) => OPCODES.filter((r) => r.mnemonic === m).map((r) => r.vmx);
    // HLT, INVLPG, MWAIT, MONITOR, RDPMC, RDTSC, PAUSE and WBINVD exiting; MOV-DR exiting;
    // CR3-load/store exiting and the CR0/CR4 guest/host masks; I/O exiting or bitmaps;
    // MSR bitmaps; descriptor-table exiting for LGDT LIDT LLDT LTR SGDT SIDT SLDT STR.
    for (const [m, control] of [['HLT', 'HLT exiting'], ['INVLPG', 'INVLPG exiting'],
      ['MWAIT', 'MWAIT exiting'], ['MONITOR', 'MONITOR exiting'], ['RDPMC', 'RDPMC exiting'],
      ['RDTSC', 'RDTSC exiting'], ['PAUSE', 'PAUSE exiting'], ['WBINVD', 'WBINVD exiting']]) {
      expect(controlled(m), m).toEqual([control]);
    }
    for (const m of ['LGDT', 'LIDT', 'LLDT', 'LTR', 'SGDT', 'SIDT', 'SLDT', 'STR']) {
      expect(controlled(m), m).toEqual(['descriptor-table exiting']);
    }
    for (const m of ['IN', 'OUT', 'INS',
      'OUTS']) expect(controlled(m).every((c) => /I\/O/.test(c ?? '')), m).toBe(true);
    for (const m of ['RDMSR', 'WRMSR']) expect(controlled(m)[0], m).toMatch(/MSR bitmaps/);
    const movs = OPCODES.filter((r) => r.map === 0x0f && r.op >= 0x20 && r.op <= 0x23).sort((x,
      y) => x.op - y.op);
    expect([0x20, 0x21, 0x22,
      0x23].map((op) => [...new Set(movs.filter((r) => r.op === op).map((r) => r.vmx))])
      .flat()).toEqual(['CR3-store / CR8-store exiting', 'MOV-DR exiting',
      'CR0/CR4 guest/host masks, CR3-load exiting', 'MOV-DR exiting']);
  });

  it('SVM intercepts: AMD APM vol. 2, 15.9-15.14 and the VMCB intercept vectors (appendix B)',
    () => {
    // Instruction intercepts of the VMCB: RDTSC, RDPMC, PUSHF, POPF, CPUID, RSM, IRET, INTn,
    // INVD, PAUSE, HLT, INVLPG, INVLPGA, IOIO_PROT, MSR_PROT, VMRUN, VMMCALL, VMLOAD, VMSAVE,
    // STGI, CLGI, SKINIT, RDTSCP, ICEBP, WBINVD, MONITOR, MWAIT, XSETBV; the CR and DR
    // read/write intercepts; IDTR/GDTR/LDTR/TR read and write intercepts.
    const svm = OPCODES.map((r) => r.svm).filter((s) => s && !s.startsWith('none'));
    expect(new Set(svm)).toEqual(new Set([
      'RDTSC', 'RDPMC', 'PUSHF', 'POPF', 'CPUID', 'RSM', 'IRET', 'INTn', 'INVD', 'PAUSE', 'HLT',
        'INVLPG',
      'INVLPGA', 'IOIO_PROT', 'MSR_PROT', 'VMRUN', 'VMMCALL', 'VMLOAD', 'VMSAVE', 'STGI', 'CLGI',
        'SKINIT',
      'RDTSCP', 'ICEBP', 'WBINVD', 'MONITOR', 'MWAIT', 'XSETBV', 'CR0_READ', 'CR0_WRITE',
        'CRn_READ',
      'CRn_WRITE', 'DRn_READ', 'DRn_WRITE', 'IDTR_READ', 'IDTR_WRITE', 'GDTR_READ', 'GDTR_WRITE',
      'LDTR_READ', 'LDTR_WRITE', 'TR_READ', 'TR_WRITE',
    ]));
  });
});

/** What a suite's source must contain to count as using row `r`: the mnemonic (string
 *  instructions with a size suffix), on one line with the segment, control or debug
 *  register the row names. */
function evidence(r: Opcode): RegExp {
  const m = r.mnemonic.split('/')[0];
  const word = ['INS', 'OUTS', 'MOVS', 'CMPS', 'STOS', 'LODS',
    'SCAS'].includes(m) ? `${m}[BWD]?` : m;
  const seg = r.operands.split(',').find((o) => /^(ES|CS|SS|DS|FS|GS)$/.test(o));
  const more = seg ? `[^\\n]*\\b${seg}\\b` : /Cd/.test(r.operands) ? '[^\\n]*\\bcr[0-7]\\b'
    : /Dd/.test(r.operands) ? '[^\\n]*\\bdr[0-7]\\b' : '';
  return new RegExp(`\\b${word}\\b${more}`, 'i');
}

describe('coverage', () => {
  it('every implemented instruction has instruction vectors or a named suite that uses it', () => {
    // Decode each captured vector's bytes to its map, opcode, ModRM.reg and mandatory prefix.
    const seen = new Set<string>();
    const PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]);
    for (const g of loadGroups()) {
      for (const v of g.vectors) {
        const b = bytesOf(v.b);
        let i = 0, rep = 0;
        while (PREFIXES.has(b[i])) { if (b[i] === 0xf3) rep = 0xf3; i++; }
        const map = b[i] === 0x0f ? 0x0f : 1;
        if (map === 0x0f) i++;
        const op = b[i];
        const reg = hasModrm(map, op) ? (b[i + 1] >> 3) & 7 : -1;
        seen.add(`${map}:${op}:${reg}`);
        if (rep) seen.add(`${map}:${op}:${reg}:${rep}`);
      }
    }
    const missing: string[] = [];
    for (const r of rows.filter(implemented)) {
      const reg = hasModrm(r.map, r.op) ? (r.reg ?? -2) : -1;
      const key = `${r.map}:${r.op}:${reg}${r.prefix ? ':' + r.prefix : ''}`;
      const byVector = r.reg === undefined && hasModrm(r.map, r.op)
        ? [...seen].some((k) => k.startsWith(`${r.map}:${r.op}:`) &&
          (r.prefix ? k.endsWith(`:${r.prefix}`) : true))
        : seen.has(key);
      if (byVector) continue;
      const suite = r.suite;
      if (!suite) { missing.push(`${name(r)}: no vector and no suite`); continue; }
      const path = fileURLToPath(new URL(`../../${suite}`, import.meta.url));
      if (!existsSync(path)) {
        missing.push(`${name(r)}: suite ${suite} does not exist`);
        continue;
      }
      if (!evidence(r).test(readFileSync(path,
        'utf8'))) missing.push(`${name(r)}: ${suite} does not use it`);
    }
    expect(missing).toEqual([]);
  });
});

describe('instructions no vector covers (semantics from the SDM, vol. 2)', () => {
  it('PUSH/POP SS, FS, GS: the selector through the stack, ESP moved by the operand size',
    async () => {
    // push 0x10; pop fs; push 0x10; pop gs; push 0x10; pop ss; push fs; pop eax;
    // push gs; pop ebx; push ss; pop ecx; hlt
    const code = [0x6a, 0x10, 0x0f, 0xa1, 0x6a, 0x10, 0x0f, 0xa9, 0x6a, 0x10, 0x17,
      0x0f, 0xa0, 0x58, 0x0f, 0xa8, 0x5b, 0x16, 0x59, 0xf4];
    const core = await snippetCore(code);
    core.setSegment('fs', { selector: 0, base: 0, limit: 0, access: 0 });
    core.setSegment('gs', { selector: 0, base: 0, limit: 0, access: 0 });
    core.run(100);
    const r = core.getRegs();
    expect([core.getSegment('fs').selector, core.getSegment('gs').selector,
      core.getSegment('ss').selector])
      .toEqual([0x10, 0x10, 0x10]);
    // PUSH Sreg with a 32-bit operand writes at least the low 16 bits (SDM vol. 2B, PUSH).
    expect([r.eax & 0xffff, r.ebx & 0xffff, r.ecx & 0xffff]).toEqual([0x10, 0x10, 0x10]);
    expect(r.esp).toBe(0x80000);
  });

  it('LES, LDS, LFS, LGS: offset and selector of a far pointer', async () => {
    // les eax, [0x5000]; lds ebx, [0x5000]; lfs ecx, [0x5000]; lgs edx, [0x5000]; hlt
    const m = (reg: number) => [(reg << 3) | 5, 0x00, 0x50, 0x00, 0x00];
    const code = [0xc4, ...m(0), 0xc5, ...m(3), 0x0f, 0xb4, ...m(1), 0x0f, 0xb5, ...m(2), 0xf4];
    const core = await snippetCore(code);
    core.writePhys(0x5000, Uint8Array.from([0x78, 0x56, 0x34, 0x12, 0x20, 0x00])); // 0023:12345678
    core.run(100);
    const r = core.getRegs();
    expect([r.eax, r.ebx, r.ecx, r.edx].map((x) => x >>> 0)).toEqual(new Array(4).fill(0x12345678));
    expect((['es', 'ds', 'fs',
      'gs'] as const).map((s) => core.getSegment(s).selector)).toEqual([0x20, 0x20, 0x20, 0x20]);
  });

  it('PREFETCH (0F 18) and the hint NOPs (0F 19-0F 1F) access nothing: no #GP past the limit',
    async () => {
    // Each with [0x5000] while DS's limit is 0xfff: an access would be #GP(0). The SDM lists
    // no exception but #UD for PREFETCHh and NOP (vol. 2B).
    for (let op = 0x18; op <= 0x1f; op++) {
      for (const reg of op === 0x18 ? [0, 1, 2, 3] : [0]) {
        const core = await snippetCore([0x0f, op, (reg << 3) | 5, 0x00, 0x50, 0x00, 0x00, 0xf4]);
        core.setSegment('ds', { selector: 0x10, base: 0, limit: 0xfff, access: 0x4093 });
        core.run(100);
        expect(core.getRegs().eip, `0f ${hex(op)} /${reg}`).toBe(CODE + 8);
      }
    }
  });
});
