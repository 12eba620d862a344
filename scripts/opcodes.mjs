// The opcode table: one row per instruction form of the one-byte map (SDM vol. 2D, table
// A-2), the two-byte 0F map (table A-3) and the ModRM groups (table A-6). From it
// scripts/gen-opcodes.mjs writes the dispatch switches (assembly/generated/dispatch.ts) and
// the table for TypeScript (bindings/generated/opcodes.ts); the tests check it against the
// core and the manuals.
//
// Columns of a row:
//   map       1 (one-byte) or 0x0f (two-byte)
//   op        the opcode byte
//   reg       ModRM.reg of a group member; rm: ModRM.rm of a mod = 11b form (0F 01 C8 ...)
//   mod       'mem' or 'reg': the only ModRM.mod form that is this instruction
//   prefix    a mandatory prefix byte (F3 90 is PAUSE)
//   mnemonic, operands  as the SDM writes them (operand types of appendix A.2: E, G, I ...)
//   modrm, imm  derived by the generator from the operands: a ModRM byte follows the
//             opcode; the bytes of immediates, displacements and moffs after it with 32-bit
//             operand and address size
//   read, write, undef  EFLAGS bits the instruction reads, writes, leaves undefined
//             (SDM vol. 1, appendix A, table A-2; letters O D I T S Z A P C, A = AF)
//   lock      LOCK is allowed (with a memory destination; SDM vol. 2A, LOCK)
//   priv      'cpl0': #GP(0) unless CPL = 0 (SDM vol. 3A, 5.9); 'cpl0-tsd' / 'cpl0-pce':
//             only when CR4.TSD / CR4.PCE is clear; a string naming another rule otherwise
//   iopl      'io': CPL > IOPL consults the TSS I/O permission bitmap (SDM vol. 1, 19.5);
//             'if': #GP(0) when CPL > IOPL, and in V86 mode when IOPL < 3 (vol. 3B, 20.2.7);
//             'v86': IOPL-sensitive in V86 mode only (vol. 3B, 20.2.7)
//   sensitive 'register' or 'protection': Robin and Irvine's sensitive but unprivileged
//             instructions (USENIX Security 2000, section 4.3), by their two categories
//   vmx       'always': exits unconditionally in VMX non-root operation (SDM vol. 3C, 26.1.2);
//             otherwise the VM-execution control that makes it exit (26.1.3)
//   svm       the VMCB intercept that makes it exit under SVM (AMD APM vol. 2, 15.9-15.14)
//   ud        'always': #UD everywhere (reserved); 'real': #UD in real and V86 mode;
//             'core': a valid instruction this core does not implement yet (#UD here);
//             'vmx': a VMX instruction, #UD outside VMX operation (VMXON: while CR4.VMXE = 0)
//             and in real and V86 mode (SDM vol. 3C, chapter 31): always #UD when the CPU
//             is not configured with VMX
//   exec      the handler call the dispatch makes: `b` is the opcode byte, `OP` the opcode
//             as a constant (one case of its own), `retired` the run loop's count
//   member    in a group whose members the table dispatches (0F 00, 0F 01): the member's
//             handler, called by the generated switch on ModRM.reg (`r`) from the group's
//             exec handler
//   suite     the test file that covers it where the instruction vectors do not
//
// Rows that share an `exec` (after OP is replaced) share one case of the switch, so a
// handler sees the opcode in `b`. Groups are dispatched on ModRM.reg inside their handler,
// by a switch generated from `member` for 0F 00 and 0F 01.

const ARITH = 'OSZAPC';
const LOGIC = { write: 'OSZPC', undef: 'A' };
const CC_READ = ['O', 'O', 'C', 'C', 'Z', 'Z', 'ZC', 'ZC', 'S', 'S', 'P', 'P', 'SO', 'SO', 'SZO',
  'SZO'];
const CC = ['O', 'NO', 'B', 'AE', 'E', 'NE', 'BE', 'A', 'S', 'NS', 'P', 'NP', 'L', 'GE', 'LE', 'G'];
const ALU = ['ADD', 'OR', 'ADC', 'SBB', 'AND', 'SUB', 'XOR', 'CMP'];
const aluFlags = (i) => (i === 1 || i === 4 || i === 6 ? LOGIC : { write: ARITH,
  read: i === 2 || i === 3 ? 'C' : '' });
const SHIFT = ['ROL', 'ROR', 'RCL', 'RCR', 'SHL', 'SHR', 'SAL', 'SAR'];
const shiftFlags = (i) => (i < 4 ? { read: i >= 2 ? 'C' : '', write: 'OC',
  undef: '' } : { write: 'OSZPC', undef: 'A' });
const REG32 = ['EAX', 'ECX', 'EDX', 'EBX', 'ESP', 'EBP', 'ESI', 'EDI'];
const SREG = ['ES', 'CS', 'SS', 'DS'];
const ONE = 1, TWO = 0x0f;
const IO = { iopl: 'io', vmx: 'unconditional I/O exiting or I/O bitmaps', svm: 'IOIO_PROT' };
const SEGLOAD = 'loads a segment register, as MOV Sreg does (not in the list of Robin and Irvine)';

/** Every EFLAGS bit a far transfer, a task switch or an interrupt may load or change. */
const ALL = 'ODITSZAPC';

const rows = [];
const row = (map, op, mnemonic, operands, exec, more = {}) =>
  rows.push({ map, op, mnemonic, operands, exec, read: '', write: '', undef: '', ...more });
const one = (op, mnemonic, operands, exec, more) => row(ONE, op, mnemonic, operands, exec, more);
const two = (op, mnemonic, operands, exec, more) => row(TWO, op, mnemonic, operands, exec, more);

// ---- one-byte map (SDM vol. 2D, table A-2) ----
for (let i = 0; i < 8; i++) {
  const base = i << 3, m = ALU[i], f = aluFlags(i), lock = i !== 7;
  one(base + 0, m, 'Eb,Gb', 'aluEbGb(b)', { ...f, lock });
  one(base + 1, m, 'Ev,Gv', 'aluEvGv(OP)', { ...f, lock });
  one(base + 2, m, 'Gb,Eb', 'aluGbEb(b)', f);
  one(base + 3, m, 'Gv,Ev', 'aluGvEv(OP)', f);
  one(base + 4, m, 'AL,Ib', 'aluALIb(b)', f);
  one(base + 5, m, 'rAX,Iz', 'aluAccImm(OP)', f);
}
for (const [i, s] of SREG.entries()) {
  one((i << 3) + 6, 'PUSH', s, 'pushSeg(b >> 3)', { sensitive: 'protection' });
  if (i !== 1) one((i << 3) + 7, 'POP', s, 'popSeg(b >> 3)', { sensitive: 'protection' });
}
for (const op of [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]) {
  const name = { 0x66: 'operand size', 0x67: 'address size', 0xf0: 'LOCK', 0xf2: 'REPNE',
    0xf3: 'REP' };
  one(op, 'prefix', name[op] ?? 'segment', 'prefixes(b)', { prefixByte: true });
}
one(0x0f, 'escape', '0F map', 'twoByte(retired)', { prefixByte: true });
one(0x27, 'DAA', '', 'daa()', { read: 'AC', write: 'SZAPC', undef: 'O' });
one(0x2f, 'DAS', '', 'das()', { read: 'AC', write: 'SZAPC', undef: 'O' });
one(0x37, 'AAA', '', 'aaa()', { read: 'A', write: 'AC', undef: 'OSZP' });
one(0x3f, 'AAS', '', 'aas()', { read: 'A', write: 'AC', undef: 'OSZP' });
for (let r = 0; r < 8; r++) {
  one(0x40 + r, 'INC', REG32[r], 'incDecReg(b)', { write: 'OSZAP' });
  one(0x48 + r, 'DEC', REG32[r], 'incDecReg(b)', { write: 'OSZAP' });
  one(0x50 + r, 'PUSH', REG32[r], 'pushReg(b)');
  one(0x58 + r, 'POP', REG32[r], 'popReg(b)');
}
one(0x60, 'PUSHA', '', 'pusha()');
one(0x61, 'POPA', '', 'popa()');
one(0x62, 'BOUND', 'Gv,Ma', 'bound()', { mod: 'mem' });
one(0x63, 'ARPL', 'Ew,Gw', 'arplEwGw()', { write: 'Z', ud: 'real' });
one(0x68, 'PUSH', 'Iz', 'pushIz()');
one(0x69, 'IMUL', 'Gv,Ev,Iz', 'imulGvEvI(b)', { write: 'OC', undef: 'SZAP' });
one(0x6a, 'PUSH', 'Ib', 'pushIb()');
one(0x6b, 'IMUL', 'Gv,Ev,Ib', 'imulGvEvI(b)', { write: 'OC', undef: 'SZAP' });
one(0x6c, 'INS', 'Yb,DX', 'insString(b)', { read: 'D', ...IO });
one(0x6d, 'INS', 'Yz,DX', 'insString(b)', { read: 'D', ...IO });
one(0x6e, 'OUTS', 'DX,Xb', 'outsString(b)', { read: 'D', ...IO });
one(0x6f, 'OUTS', 'DX,Xz', 'outsString(b)', { read: 'D', ...IO });
for (let c = 0; c < 16; c++) {
  one(0x70 + c, 'J' + CC[c], 'Jb', c === 4 || c === 5 ? 'jzJnz(b)' : 'jccRel8(b)',
    { read: CC_READ[c] });
}
for (const op of [0x80, 0x81, 0x82, 0x83]) {
  const operands = ['Eb,Ib', 'Ev,Iz', 'Eb,Ib', 'Ev,Ib'][op - 0x80];
  for (let r = 0; r < 8; r++) {
    one(op, ALU[r], operands, op & 1 ? 'group1Ev(b)' : 'group1Eb(b)',
      { reg: r, ...aluFlags(r), lock: r !== 7,
        note: op === 0x82 ? 'alias of 80 (SDM vol. 2D, table A-6)' : undefined });
  }
}
one(0x84, 'TEST', 'Eb,Gb', 'testEG(b)', LOGIC);
one(0x85, 'TEST', 'Ev,Gv', 'testEG(b)', LOGIC);
one(0x86, 'XCHG', 'Eb,Gb', 'xchgEG(b)', { lock: true });
one(0x87, 'XCHG', 'Ev,Gv', 'xchgEG(b)', { lock: true });
one(0x88, 'MOV', 'Eb,Gb', 'movEbGb()');
one(0x89, 'MOV', 'Ev,Gv', 'movEvGv()');
one(0x8a, 'MOV', 'Gb,Eb', 'movGbEb()');
one(0x8b, 'MOV', 'Gv,Ev', 'movGvEv()');
for (let s = 0; s < 6; s++) {
  one(0x8c, 'MOV', 'Ev,' + ['ES', 'CS', 'SS', 'DS', 'FS', 'GS'][s], 'movEvSw()', { reg: s,
    sensitive: 'protection' });
  if (s !== 1) {
    one(0x8e, 'MOV', ['ES', 'CS', 'SS', 'DS', 'FS', 'GS'][s] + ',Ew', 'movSwEw()', { reg: s,
      sensitive: 'protection' });
  }
}
one(0x8d, 'LEA', 'Gv,M', 'lea()', { mod: 'mem' });
one(0x8f, 'POP', 'Ev', 'popEv()', { reg: 0 });
one(0x90, 'NOP', '', 'nopInsn()');
one(0x90, 'PAUSE', '', 'nopInsn()', { prefix: 0xf3, vmx: 'PAUSE exiting', svm: 'PAUSE' });
for (let r = 1; r < 8; r++) one(0x90 + r, 'XCHG', 'rAX,' + REG32[r], 'xchgAcc(b)');
one(0x98, 'CBW/CWDE', '', 'cbw()');
one(0x99, 'CWD/CDQ', '', 'cwd()');
one(0x9a, 'CALL', 'Ap', 'callFarImm()', { write: ALL, sensitive: 'protection',
  note: 'far; a task gate switches tasks' });
one(0x9b, 'FWAIT', '', 'fwait()');
one(0x9c, 'PUSHF', 'Fv', 'pushf()', { read: ALL, iopl: 'v86', sensitive: 'register',
  svm: 'PUSHF' });
one(0x9d, 'POPF', 'Fv', 'popfInsn()', { write: ALL, iopl: 'v86', sensitive: 'register',
  svm: 'POPF' });
one(0x9e, 'SAHF', '', 'sahf()', { write: 'SZAPC' });
one(0x9f, 'LAHF', '', 'lahf()', { read: 'SZAPC' });
one(0xa0, 'MOV', 'AL,Ob', 'movAccMoffs(b)');
one(0xa1, 'MOV', 'rAX,Ov', 'movAccMoffs(b)');
one(0xa2, 'MOV', 'Ob,AL', 'movMoffsAcc(b)');
one(0xa3, 'MOV', 'Ov,rAX', 'movMoffsAcc(b)');
one(0xa4, 'MOVS', 'Yb,Xb', 'movsString(b)', { read: 'D' });
one(0xa5, 'MOVS', 'Yv,Xv', 'movsString(b)', { read: 'D' });
one(0xa6, 'CMPS', 'Xb,Yb', 'cmpsString(b)', { read: 'D', write: ARITH });
one(0xa7, 'CMPS', 'Xv,Yv', 'cmpsString(b)', { read: 'D', write: ARITH });
one(0xa8, 'TEST', 'AL,Ib', 'testAccImm(b)', LOGIC);
one(0xa9, 'TEST', 'rAX,Iz', 'testAccImm(b)', LOGIC);
one(0xaa, 'STOS', 'Yb,AL', 'stosString(b)', { read: 'D' });
one(0xab, 'STOS', 'Yv,rAX', 'stosString(b)', { read: 'D' });
one(0xac, 'LODS', 'AL,Xb', 'lodsString(b)', { read: 'D' });
one(0xad, 'LODS', 'rAX,Xv', 'lodsString(b)', { read: 'D' });
one(0xae, 'SCAS', 'AL,Yb', 'scasString(b)', { read: 'D', write: ARITH });
one(0xaf, 'SCAS', 'rAX,Yv', 'scasString(b)', { read: 'D', write: ARITH });
for (let r = 0; r < 8; r++) {
  one(0xb0 + r, 'MOV', ['AL', 'CL', 'DL', 'BL', 'AH', 'CH', 'DH', 'BH'][r] + ',Ib', 'movR8Ib(b)');
  one(0xb8 + r, 'MOV', REG32[r] + ',Iv', 'movRIv(b)');
}
for (const op of [0xc0, 0xc1, 0xd0, 0xd1, 0xd2, 0xd3]) {
  const src = op < 0xd0 ? 'Ib' : op < 0xd2 ? '1' : 'CL';
  for (let r = 0; r < 8; r++) {
    one(op, SHIFT[r], (op & 1 ? 'Ev,' : 'Eb,') + src, op & 1 ? 'group2Ev(b)' : 'group2Eb(b)',
      { reg: r, ...shiftFlags(r),
        note: r === 6 ? 'alias of SHL (SDM vol. 2D, table A-6)' : undefined });
  }
}
one(0xc2, 'RET', 'Iw', 'retNear(b)');
one(0xc3, 'RET', '', 'retNear(b)');
one(0xc4, 'LES', 'Gz,Mp', 'lesLds(b)', { mod: 'mem', note: SEGLOAD });
one(0xc5, 'LDS', 'Gz,Mp', 'lesLds(b)', { mod: 'mem', note: SEGLOAD });
one(0xc6, 'MOV', 'Eb,Ib', 'movEIm(b)', { reg: 0 });
one(0xc7, 'MOV', 'Ev,Iz', 'movEIm(b)', { reg: 0 });
one(0xc8, 'ENTER', 'Iw,Ib', 'enter()');
one(0xc9, 'LEAVE', '', 'leave()');
one(0xca, 'RETF', 'Iw', 'retFar(b)', { write: ALL, sensitive: 'protection' });
one(0xcb, 'RETF', '', 'retFar(b)', { write: ALL, sensitive: 'protection' });
// INT3 and INTO check the gate's DPL against CPL as INT n does (SDM vol. 3A, 6.12.1.1):
// the same protection-system reference (Robin and Irvine name the family "INT n").
one(0xcc, 'INT3', '', 'int3()', { write: 'IT', sensitive: 'protection' });
one(0xcd, 'INT', 'Ib', 'intN()', { write: 'IT', iopl: 'v86', sensitive: 'protection',
  svm: 'INTn' });
one(0xce, 'INTO', '', 'into()', { read: 'O', write: 'IT', sensitive: 'protection' });
one(0xcf, 'IRET', '', 'iretInsn()', { write: ALL, iopl: 'v86', sensitive: 'protection', svm: 'IRET',
  note: 'far return that loads EFLAGS as POPF does' });
one(0xd4, 'AAM', 'Ib', 'aamIb()', { write: 'SZP', undef: 'OAC' });
one(0xd5, 'AAD', 'Ib', 'aadIb()', { write: 'SZP', undef: 'OAC' });
one(0xd6, 'SALC', '', 'salc()', { read: 'C', note: 'undocumented by Intel; sets AL from CF' });
one(0xd7, 'XLAT', '', 'xlat()');
// The x87 escapes (SDM vol. 2D, A.4, tables ), one row per ModRM.reg in memory
// and register form; register forms that differ by ModRM.rm have a row per rm. All run in
// assembly/cpu/fpu (#NM when CR0.EM or CR0.TS); the reserved forms are #UD there. FISTTP
// (DB/DD/DF /1) is SSE3: #UD on this P6. The undocumented aliases of real CPUs (FSTP1,
// FCOM2, FCOMP3, FXCH4, FCOMP5, FFREEP, FXCH7, FSTP8, FSTP9) are kept.
const X87 = { modrm: true, exec: 'x87Escape(b)' };
const ARITH8 = ['FADD', 'FMUL', 'FCOM', 'FCOMP', 'FSUB', 'FSUBR', 'FDIV', 'FDIVR'];
const IARITH8 = ['FIADD', 'FIMUL', 'FICOM', 'FICOMP', 'FISUB', 'FISUBR', 'FIDIV', 'FIDIVR'];
const x87mem = {
  0xd8: ARITH8.map((m) => [m, 'm32fp']), 0xdc: ARITH8.map((m) => [m, 'm64fp']),
  0xda: IARITH8.map((m) => [m, 'm32int']), 0xde: IARITH8.map((m) => [m, 'm16int']),
  0xd9: [['FLD', 'm32fp'], null, ['FST', 'm32fp'], ['FSTP', 'm32fp'], ['FLDENV', 'm14/28'],
    ['FLDCW', 'm2byte'], ['FNSTENV', 'm14/28'], ['FNSTCW', 'm2byte']],
  0xdb: [['FILD', 'm32int'], null, ['FIST', 'm32int'], ['FISTP', 'm32int'], null,
    ['FLD', 'm80fp'], null, ['FSTP', 'm80fp']],
  0xdd: [['FLD', 'm64fp'], null, ['FST', 'm64fp'], ['FSTP', 'm64fp'], ['FRSTOR', 'm94/108'],
    null, ['FNSAVE', 'm94/108'], ['FNSTSW', 'm2byte']],
  0xdf: [['FILD', 'm16int'], null, ['FIST', 'm16int'], ['FISTP', 'm16int'], ['FBLD', 'm80bcd'],
    ['FILD', 'm64int'], ['FBSTP', 'm80bcd'], ['FISTP', 'm64int']],
};
// Register forms: a mnemonic for the whole reg value, or an array by rm (null: #UD).
const x87reg = {
  0xd8: ARITH8.map((m) => [m, 'ST,ST(i)']),
  0xdc: ['FADD', 'FMUL', 'FCOM2', 'FCOMP3', 'FSUBR', 'FSUB', 'FDIVR', 'FDIV']
    .map((m) => [m, 'ST(i),ST']),
  0xde: [['FADDP', 'ST(i),ST'], ['FMULP', 'ST(i),ST'], ['FCOMP5', 'ST(i)'],
    [null, ['FCOMPP', ''], null, null, null, null, null, null], ['FSUBRP', 'ST(i),ST'],
    ['FSUBP', 'ST(i),ST'], ['FDIVRP', 'ST(i),ST'], ['FDIVP', 'ST(i),ST']],
  0xd9: [['FLD', 'ST(i)'], ['FXCH', 'ST(i)'], [['FNOP', ''], null, null, null, null, null,
    null, null], ['FSTP1', 'ST(i)'],
    [['FCHS', ''], ['FABS', ''], null, null, ['FTST', ''], ['FXAM', ''], null, null],
    [['FLD1', ''], ['FLDL2T', ''], ['FLDL2E', ''], ['FLDPI', ''], ['FLDLG2', ''],
      ['FLDLN2', ''], ['FLDZ', ''], null],
    [['F2XM1', ''], ['FYL2X', ''], ['FPTAN', ''], ['FPATAN', ''], ['FXTRACT', ''],
      ['FPREM1', ''], ['FDECSTP', ''], ['FINCSTP', '']],
    [['FPREM', ''], ['FYL2XP1', ''], ['FSQRT', ''], ['FSINCOS', ''], ['FRNDINT', ''],
      ['FSCALE', ''], ['FSIN', ''], ['FCOS', '']]],
  0xda: [['FCMOVB', 'ST,ST(i)'], ['FCMOVE', 'ST,ST(i)'], ['FCMOVBE', 'ST,ST(i)'],
    ['FCMOVU', 'ST,ST(i)'], null, [null, ['FUCOMPP', ''], null, null, null, null, null, null],
    null, null],
  0xdb: [['FCMOVNB', 'ST,ST(i)'], ['FCMOVNE', 'ST,ST(i)'], ['FCMOVNBE', 'ST,ST(i)'],
    ['FCMOVNU', 'ST,ST(i)'],
    [['FENI', ''], ['FDISI', ''], ['FNCLEX', ''], ['FNINIT', ''], ['FSETPM', ''], null, null,
      null],
    ['FUCOMI', 'ST,ST(i)'], ['FCOMI', 'ST,ST(i)'], null],
  0xdd: [['FFREE', 'ST(i)'], ['FXCH4', 'ST(i)'], ['FST', 'ST(i)'], ['FSTP', 'ST(i)'],
    ['FUCOM', 'ST(i)'], ['FUCOMP', 'ST(i)'], null, null],
  0xdf: [['FFREEP', 'ST(i)'], ['FXCH7', 'ST(i)'], ['FSTP8', 'ST(i)'], ['FSTP9', 'ST(i)'],
    [['FNSTSW', 'AX'], null, null, null, null, null, null, null], ['FUCOMIP', 'ST,ST(i)'],
    ['FCOMIP', 'ST,ST(i)'], null],
};
// FCOMI and friends write ZF, PF, CF; FCMOVcc read them, which the flag test cannot see
// with an empty register stack (the stack fault comes first): a note, not the read column.
const x87flags = (m) => (/^FU?COMIP?$/.test(m) ? { write: 'ZPC' } : /^FCMOV/.test(m)
  ? { note: `reads ${m.includes('U') ? 'PF' : m.includes('BE') ? 'CF and ZF' : m.includes('E')
    ? 'ZF' : 'CF'}` } : {});
for (let op = 0xd8; op <= 0xdf; op++) {
  for (let reg = 0; reg < 8; reg++) {
    const mm = x87mem[op] ?? x87mem[0xd8];
    const mrow = (op === 0xd8 || op === 0xdc || op === 0xda || op === 0xde) ? x87mem[op][reg]
      : mm[reg];
    if (mrow) one(op, mrow[0], mrow[1], X87.exec, { ...X87, reg, mod: 'mem' });
    else one(op, 'ESC', 'reserved', undefined, { modrm: true, reg, mod: 'mem', ud: 'always' });
    const r = x87reg[op][reg];
    if (r === null) {
      one(op, 'ESC', 'reserved', undefined, { modrm: true, reg, mod: 'reg', ud: 'always' });
    } else if (typeof r[0] === 'string') {
      one(op, r[0], r[1], X87.exec, { ...X87, reg, mod: 'reg', ...x87flags(r[0]) });
    } else {
      for (let rm = 0; rm < 8; rm++) {
        const f = r[rm];
        if (f) one(op, f[0], f[1], X87.exec, { ...X87, reg, rm, mod: 'reg' });
        else one(op, 'ESC', 'reserved', undefined, { modrm: true, reg, rm, mod: 'reg',
          ud: 'always' });
      }
    }
  }
}
one(0xe0, 'LOOPNE', 'Jb', 'loop(b)', { read: 'Z' });
one(0xe1, 'LOOPE', 'Jb', 'loop(b)', { read: 'Z' });
one(0xe2, 'LOOP', 'Jb', 'loop(b)');
one(0xe3, 'JECXZ', 'Jb', 'jcxz()');
one(0xe4, 'IN', 'AL,Ib', 'inImm(b)', IO);
one(0xe5, 'IN', 'eAX,Ib', 'inImm(b)', IO);
one(0xe6, 'OUT', 'Ib,AL', 'outImm(b)', IO);
one(0xe7, 'OUT', 'Ib,eAX', 'outImm(b)', IO);
one(0xe8, 'CALL', 'Jz', 'callRel()');
one(0xe9, 'JMP', 'Jz', 'jmpRel()');
one(0xea, 'JMP', 'Ap', 'jmpFarImm()', { write: ALL, sensitive: 'protection',
  note: 'far; a task gate switches tasks' });
one(0xeb, 'JMP', 'Jb', 'jmpShort()');
one(0xec, 'IN', 'AL,DX', 'inDx(b)', IO);
one(0xed, 'IN', 'eAX,DX', 'inDx(b)', IO);
one(0xee, 'OUT', 'DX,AL', 'outDx(b)', IO);
one(0xef, 'OUT', 'DX,eAX', 'outDx(b)', IO);
one(0xf1, 'INT1', '', 'int1()', { write: 'IT', svm: 'ICEBP', note: 'ICEBP' });
one(0xf4, 'HLT', '', 'hlt()', { priv: 'cpl0', vmx: 'HLT exiting', svm: 'HLT' });
one(0xf5, 'CMC', '', 'cmc()', { read: 'C', write: 'C' });
const G3 = ['TEST', 'TEST', 'NOT', 'NEG', 'MUL', 'IMUL', 'DIV', 'IDIV'];
const g3Flags = [LOGIC, LOGIC, {}, { write: ARITH }, { write: 'OC', undef: 'SZAP' },
  { write: 'OC', undef: 'SZAP' },
  { undef: ARITH }, { undef: ARITH }];
for (const op of [0xf6, 0xf7]) {
  for (let r = 0; r < 8; r++) {
    const operands = (op & 1 ? 'Ev' : 'Eb') + (r < 2 ? (op & 1 ? ',Iz' : ',Ib') : '');
    one(op, G3[r], operands, 'group3Insn(b)',
      { reg: r, ...g3Flags[r], lock: r === 2 || r === 3,
        note: r === 1 ? 'alias of /0 on real CPUs' : undefined });
  }
}
one(0xf8, 'CLC', '', 'clc()', { write: 'C' });
one(0xf9, 'STC', '', 'stc()', { write: 'C' });
one(0xfa, 'CLI', '', 'cli()', { write: 'I', iopl: 'if' });
one(0xfb, 'STI', '', 'sti()', { write: 'I', iopl: 'if' });
one(0xfc, 'CLD', '', 'cld()', { write: 'D' });
one(0xfd, 'STD', '', 'stdInsn()', { write: 'D' });
one(0xfe, 'INC', 'Eb', 'group4()', { reg: 0, write: 'OSZAP', lock: true });
one(0xfe, 'DEC', 'Eb', 'group4()', { reg: 1, write: 'OSZAP', lock: true });
one(0xff, 'INC', 'Ev', 'group5()', { reg: 0, write: 'OSZAP', lock: true });
one(0xff, 'DEC', 'Ev', 'group5()', { reg: 1, write: 'OSZAP', lock: true });
one(0xff, 'CALL', 'Ev', 'group5()', { reg: 2 });
one(0xff, 'CALL', 'Mp', 'group5()', { reg: 3, mod: 'mem', write: ALL, sensitive: 'protection',
  note: 'far' });
one(0xff, 'JMP', 'Ev', 'group5()', { reg: 4 });
one(0xff, 'JMP', 'Mp', 'group5()', { reg: 5, mod: 'mem', write: ALL, sensitive: 'protection',
  note: 'far' });
one(0xff, 'PUSH', 'Ev', 'group5()', { reg: 6 });

// ---- two-byte map 0F (SDM vol. 2D, table A-3) ----
const DT = { vmx: 'descriptor-table exiting' };
const g6 = [['SLDT', 'Mw/Rv', 'register', 'LDTR_READ'], ['STR', 'Mw/Rv', 'protection', 'TR_READ'],
  ['LLDT', 'Ew', null, 'LDTR_WRITE'], ['LTR', 'Ew', null, 'TR_WRITE'], ['VERR', 'Ew', 'protection'],
  ['VERW', 'Ew', 'protection']];
for (const [r, [m, operands, sensitive, svm]] of g6.entries()) {
  two(0x00, m, operands, 'group6()', {
    member: ['storeLdtrTr(r)', 'loadLdtrTr(r)', 'verifySeg(r)'][r >> 1],
    reg: r, ud: 'real', write: r >= 4 ? 'Z' : '', priv: r === 2 || r === 3 ? 'cpl0' : undefined,
    sensitive: sensitive ?? undefined, ...(r < 4 ? { ...DT, svm } : {}),
  });
}
two(0x01, 'SGDT', 'Ms', 'group7()', { member: 'descTable(r)', reg: 0, mod: 'mem',
  sensitive: 'register', ...DT, svm: 'GDTR_READ' });
two(0x01, 'SIDT', 'Ms', 'group7()', { member: 'descTable(r)', reg: 1, mod: 'mem',
  sensitive: 'register', ...DT, svm: 'IDTR_READ' });
two(0x01, 'LGDT', 'Ms', 'group7()', { member: 'descTable(r)', reg: 2, mod: 'mem', priv: 'cpl0',
  ...DT, svm: 'GDTR_WRITE' });
two(0x01, 'LIDT', 'Ms', 'group7()', { member: 'descTable(r)', reg: 3, mod: 'mem', priv: 'cpl0',
  ...DT, svm: 'IDTR_WRITE' });
two(0x01, 'SMSW', 'Mw/Rv', 'group7()', { member: 'smswInsn()', reg: 4, sensitive: 'register',
  svm: 'CR0_READ' });
two(0x01, 'LMSW', 'Ew', 'group7()', { member: 'lmswInsn()', reg: 6, priv: 'cpl0',
  vmx: 'CR0 guest/host mask', svm: 'CR0_WRITE' });
two(0x01, 'INVLPG', 'Mb', 'group7()', { member: 'invlpgInsn()', reg: 7, mod: 'mem', priv: 'cpl0',
  vmx: 'INVLPG exiting', svm: 'INVLPG' });
// Forms of group 7 with mod = 11b (SDM vol. 2D, table A-6). Those of reg 0 are VMX
// instructions, run by descTable (assembly/cpu/system/vmx.ts); those of reg 3 (VMRUN ..
// INVLPGA), MONITOR/MWAIT and RDTSCP exist only on a CPU configured with SVM or VMX
// (assembly/svm/svm.ts; 'core' here: #UD on the default CPU); XGETBV/XSETBV are not
// implemented.
const VMXI = { exec: 'group7()', member: 'descTable(r)', ud: 'vmx' };
const g7r = [
  [0, 1, 'VMCALL', { vmx: 'always', svm: 'none (#UD on AMD)', ...VMXI }],
  [0, 2, 'VMLAUNCH', { vmx: 'always', priv: 'cpl0', ...VMXI }], [0, 3, 'VMRESUME',
    { vmx: 'always', priv: 'cpl0', ...VMXI }],
  [0, 4, 'VMXOFF', { vmx: 'always', priv: 'cpl0', ...VMXI }],
  // MONITOR and MWAIT: only on the VMX CPU model (CPUID.1:ECX.MONITOR with Core.setVmx),
  // run by descTable as hints; #UD otherwise, as the table says.
  [1, 0, 'MONITOR', { priv: 'cpl0', vmx: 'MONITOR exiting', svm: 'MONITOR' }],
  [1, 1, 'MWAIT', { priv: 'cpl0', vmx: 'MWAIT exiting', svm: 'MWAIT' }],
  [2, 0, 'XGETBV', {}], [2, 1, 'XSETBV', { priv: 'cpl0', vmx: 'always', svm: 'XSETBV' }],
  [3, 0, 'VMRUN', { priv: 'cpl0', vmx: 'none (#UD on Intel)', svm: 'VMRUN' }],
  [3, 1, 'VMMCALL', { svm: 'VMMCALL' }],
  [3, 2, 'VMLOAD', { priv: 'cpl0', svm: 'VMLOAD' }], [3, 3, 'VMSAVE', { priv: 'cpl0',
    svm: 'VMSAVE' }],
  [3, 4, 'STGI', { priv: 'cpl0', svm: 'STGI' }], [3, 5, 'CLGI', { priv: 'cpl0', svm: 'CLGI' }],
  [3, 6, 'SKINIT', { priv: 'cpl0', svm: 'SKINIT' }], [3, 7, 'INVLPGA', { priv: 'cpl0',
    svm: 'INVLPGA' }],
  [7, 1, 'RDTSCP', { priv: 'cpl0-tsd', vmx: 'RDTSC exiting (with enable RDTSCP)', svm: 'RDTSCP' }],
];
for (const [reg, rm, m, more] of g7r) two(0x01, m, '', more.exec, { reg, rm, mod: 'reg',
  ud: 'core', ...more });
two(0x02, 'LAR', 'Gv,Ew', 'larLsl(b)', { write: 'Z', ud: 'real', sensitive: 'protection' });
two(0x03, 'LSL', 'Gv,Ew', 'larLsl(b)', { write: 'Z', ud: 'real', sensitive: 'protection' });
two(0x06, 'CLTS', '', 'clts()', { priv: 'cpl0', vmx: 'CR0 guest/host mask (TS)',
  svm: 'CR0_WRITE' });
two(0x08, 'INVD', '', 'invd()', { priv: 'cpl0', vmx: 'always', svm: 'INVD' });
two(0x09, 'WBINVD', '', 'wbinvd()', { priv: 'cpl0', vmx: 'WBINVD exiting', svm: 'WBINVD' });
two(0x0b, 'UD2', '', undefined, { ud: 'always' });
two(0x18, 'PREFETCH', 'Mb', 'hintNop()',
  { note: 'hint: reg 0-3 PREFETCHh, the others reserved NOPs' });
for (let op = 0x19; op <= 0x1f; op++) two(op, 'NOP', 'Ev', 'hintNop()',
  { note: op === 0x1f ? 'multi-byte NOP' : 'reserved hint NOP' });
const CRF = { undef: ARITH };
// MOV CRn: CR0, CR2, CR3, CR4 (CR1, CR5-CR7 are #UD: SDM vol. 2B, MOV Control Registers).
// MOV DRn: all eight (DR4/DR5 alias DR6/DR7 while CR4.DE = 0). ModRM.mod is ignored.
for (const r of [0, 2, 3, 4]) {
  two(0x20, 'MOV', 'Rd,Cd', 'movCrDr(b)', { reg: r, ...CRF, priv: 'cpl0', svm: 'CRn_READ',
    vmx: 'CR3-store / CR8-store exiting' });
}
for (const r of [0, 2, 3, 4]) {
  two(0x22, 'MOV', 'Cd,Rd', 'movCrDr(b)', { reg: r, ...CRF, priv: 'cpl0', svm: 'CRn_WRITE',
    vmx: 'CR0/CR4 guest/host masks, CR3-load exiting' });
}
two(0x21, 'MOV', 'Rd,Dd', 'movCrDr(b)', { ...CRF, priv: 'cpl0', vmx: 'MOV-DR exiting',
  svm: 'DRn_READ' });
two(0x23, 'MOV', 'Dd,Rd', 'movCrDr(b)', { ...CRF, priv: 'cpl0', vmx: 'MOV-DR exiting',
  svm: 'DRn_WRITE' });
two(0x30, 'WRMSR', '', 'wrmsr()', { priv: 'cpl0', vmx: 'MSR bitmaps (all MSRs without them)',
  svm: 'MSR_PROT' });
two(0x31, 'RDTSC', '', 'rdtsc()', { priv: 'cpl0-tsd', vmx: 'RDTSC exiting', svm: 'RDTSC' });
two(0x32, 'RDMSR', '', 'rdmsr()', { priv: 'cpl0', vmx: 'MSR bitmaps (all MSRs without them)',
  svm: 'MSR_PROT' });
two(0x33, 'RDPMC', '', 'rdpmc()', { priv: 'cpl0-pce', vmx: 'RDPMC exiting', svm: 'RDPMC' });
two(0x34, 'SYSENTER', '', 'sysenter()', { write: 'I' });
two(0x35, 'SYSEXIT', '', 'sysexit()', { priv: 'cpl0' });
two(0x37, 'GETSEC', '', undefined, { ud: 'core', vmx: 'always' });
// 0F 38: of the three-byte map only INVEPT (66 0F 38 80 /r) and INVVPID (66 0F 38 81 /r),
// decoded by map0f38() (assembly/cpu/system/vmx.ts); everything else there is #UD.
two(0x38, 'INVEPT/INVVPID', '', 'map0f38()', { prefix: 0x66, ud: 'vmx', priv: 'cpl0',
  vmx: 'always' });
for (let c = 0; c < 16; c++) {
  two(0x40 + c, 'CMOV' + CC[c], 'Gv,Ev', 'cmov(b)', { read: CC_READ[c] });
  two(0x80 + c, 'J' + CC[c], 'Jz', 'jccRel(b)', { read: CC_READ[c] });
  two(0x90 + c, 'SET' + CC[c], 'Eb', 'setcc(b)', { read: CC_READ[c] });
}
two(0x78, 'VMREAD', 'Ey,Gy', 'vmread()', { ud: 'vmx', priv: 'cpl0', vmx: 'always' });
two(0x79, 'VMWRITE', 'Gy,Ey', 'vmwrite()', { ud: 'vmx', priv: 'cpl0', vmx: 'always' });
two(0xa0, 'PUSH', 'FS', 'pushFs()', { sensitive: 'protection' });
two(0xa1, 'POP', 'FS', 'popFs()', { sensitive: 'protection' });
two(0xa2, 'CPUID', '', 'cpuid()', { vmx: 'always', svm: 'CPUID' });
const BT = { write: 'C', undef: 'OSAP' };
two(0xa3, 'BT', 'Ev,Gv', 'btEvGv(b)', BT);
two(0xa4, 'SHLD', 'Ev,Gv,Ib', 'shiftDoubleInsn(b)', { write: 'OSZPC', undef: 'A' });
two(0xa5, 'SHLD', 'Ev,Gv,CL', 'shiftDoubleInsn(b)', { write: 'OSZPC', undef: 'A' });
two(0xa8, 'PUSH', 'GS', 'pushGs()', { sensitive: 'protection' });
two(0xa9, 'POP', 'GS', 'popGs()', { sensitive: 'protection' });
two(0xaa, 'RSM', '', undefined, { ud: 'core', write: ALL, vmx: 'always (in SMM only)',
  svm: 'RSM' });
two(0xab, 'BTS', 'Ev,Gv', 'btEvGv(b)', { ...BT, lock: true });
two(0xac, 'SHRD', 'Ev,Gv,Ib', 'shiftDoubleInsn(b)', { write: 'OSZPC', undef: 'A' });
two(0xad, 'SHRD', 'Ev,Gv,CL', 'shiftDoubleInsn(b)', { write: 'OSZPC', undef: 'A' });
// Group 15 (0F AE): FXSAVE and FXRSTOR only (a P6 with FXSR, without SSE).
two(0xae, 'FXSAVE', 'M', 'group15()', { reg: 0, mod: 'mem' });
two(0xae, 'FXRSTOR', 'M', 'group15()', { reg: 1, mod: 'mem' });
two(0xaf, 'IMUL', 'Gv,Ev', 'imulGvEv()', { write: 'OC', undef: 'SZAP' });
two(0xb0, 'CMPXCHG', 'Eb,Gb', 'cmpxchg(b)', { write: ARITH, lock: true });
two(0xb1, 'CMPXCHG', 'Ev,Gv', 'cmpxchg(b)', { write: ARITH, lock: true });
two(0xb2, 'LSS', 'Gv,Mp', 'lss()', { mod: 'mem', note: SEGLOAD });
two(0xb3, 'BTR', 'Ev,Gv', 'btEvGv(b)', { ...BT, lock: true });
two(0xb4, 'LFS', 'Gv,Mp', 'lfs()', { mod: 'mem', note: SEGLOAD });
two(0xb5, 'LGS', 'Gv,Mp', 'lgs()', { mod: 'mem', note: SEGLOAD });
two(0xb6, 'MOVZX', 'Gv,Eb', 'movx(b)');
two(0xb7, 'MOVZX', 'Gv,Ew', 'movx(b)');
two(0xb9, 'UD1', 'Gv,Ev', undefined, { ud: 'always' });
for (let r = 4; r < 8; r++) {
  two(0xba, ['BT', 'BTS', 'BTR', 'BTC'][r - 4], 'Ev,Ib', 'group8()', { reg: r, ...BT,
    lock: r > 4 });
}
two(0xbb, 'BTC', 'Ev,Gv', 'btEvGv(b)', { ...BT, lock: true });
two(0xbc, 'BSF', 'Gv,Ev', 'bitScanInsn(b)', { write: 'Z', undef: 'OSAPC' });
two(0xbd, 'BSR', 'Gv,Ev', 'bitScanInsn(b)', { write: 'Z', undef: 'OSAPC' });
two(0xbe, 'MOVSX', 'Gv,Eb', 'movx(b)');
two(0xbf, 'MOVSX', 'Gv,Ew', 'movx(b)');
two(0xc0, 'XADD', 'Eb,Gb', 'xadd(b)', { write: ARITH, lock: true });
two(0xc1, 'XADD', 'Ev,Gv', 'xadd(b)', { write: ARITH, lock: true });
// Group 9 (0F C7): CMPXCHG8B and the VMX instructions on a memory operand.
two(0xc7, 'CMPXCHG8B', 'Mq', 'group9()', { reg: 1, mod: 'mem', write: 'Z', lock: true });
two(0xc7, 'VMPTRLD', 'Mq', 'group9()', { reg: 6, mod: 'mem', ud: 'vmx', priv: 'cpl0',
  vmx: 'always' });
two(0xc7, 'VMCLEAR', 'Mq', 'group9()', { reg: 6, mod: 'mem', prefix: 0x66, ud: 'vmx',
  priv: 'cpl0', vmx: 'always' });
two(0xc7, 'VMXON', 'Mq', 'group9()', { reg: 6, mod: 'mem', prefix: 0xf3, ud: 'vmx', priv: 'cpl0',
  vmx: 'always' });
two(0xc7, 'VMPTRST', 'Mq', 'group9()', { reg: 7, mod: 'mem', ud: 'vmx', priv: 'cpl0',
  vmx: 'always' });
for (let r = 0; r < 8; r++) two(0xc8 + r, 'BSWAP', REG32[r], 'bswapInsn(b)');
two(0xff, 'UD0', 'Gv,Ev', undefined, { ud: 'always' });

// The suites that cover the instructions the captured vectors (test/fixtures/vectors, user
// mode only) do not: by mnemonic, or mnemonic and operands.
const ST = 'guests/systests/';
const SELF = 'test/core/opcodes.test.ts';
const SUITES = {
  'PUSH ES': ST + 'v86.asm', 'POP ES': ST + 'v86.asm', 'PUSH CS': ST + 'gates.asm',
  'PUSH DS': ST + 'rings.asm', 'POP DS': ST + 'rings.asm', 'PUSH SS': SELF, 'POP SS': SELF,
  'PUSH FS': SELF, 'POP FS': SELF, 'PUSH GS': SELF, 'POP GS': SELF,
  LES: SELF, LDS: SELF, LFS: SELF, LGS: SELF, LSS: ST + 'segments.asm', PREFETCH: SELF,
  'NOP Ev': SELF, INS: 'test/core/string-io.test.ts', OUTS: 'test/core/string-io.test.ts',
  'MOV Ev,ES': ST + 'gates.asm', 'MOV ES,Ew': ST + 'gates.asm', 'MOV Ev,CS': ST + 'gates.asm',
  'MOV Ev,SS': ST + 'gates.asm', 'MOV SS,Ew': ST + 'gates.asm', 'MOV Ev,DS': ST + 'gates.asm',
  'MOV DS,Ew': ST + 'gates.asm', 'MOV Ev,FS': ST + 'gates.asm', 'MOV FS,Ew': ST + 'gates.asm',
  'MOV Ev,GS': ST + 'gates.asm', 'MOV GS,Ew': ST + 'gates.asm',
  'CALL Ap': ST + 'gates.asm', 'JMP Ap': ST + 'gates.asm', 'CALL Mp': ST + 'gates.asm',
  'JMP Mp': ST + 'gates.asm', RETF: ST + 'gates.asm', 'INT Ib': ST + 'gates.asm',
    IRET: ST + 'gates.asm',
  FWAIT: 'test/core/decoder.test.ts', FXSAVE: 'test/x87/fxsave.test.ts',
  FXRSTOR: 'test/x87/fxsave.test.ts', IN: ST + 'boot.inc', OUT: ST + 'boot.inc',
  INT1: ST + 'strict.asm', HLT: ST + 'boot.inc', CLI: ST + 'boot.inc', STI: ST + 'irq.asm',
  SLDT: ST + 'segload.asm', STR: ST + 'sysregs.asm', LLDT: ST + 'segload.asm',
    LTR: ST + 'sysregs.asm',
  VERR: ST + 'segments.asm', VERW: ST + 'segments.asm', SGDT: ST + 'gates.asm',
  SIDT: ST + 'sysregs.asm', LGDT: ST + 'boot.inc', LIDT: ST + 'boot.inc', SMSW: ST + 'sysregs.asm',
  LMSW: ST + 'sysregs.asm', INVLPG: ST + 'paging.asm', LAR: ST + 'segload.asm',
  LSL: ST + 'segload.asm', CLTS: ST + 'sysregs.asm', INVD: ST + 'sysinsns.asm',
  WBINVD: ST + 'sysinsns.asm', 'MOV Rd,Cd': ST + 'sysregs.asm', 'MOV Cd,Rd': ST + 'sysregs.asm',
  'MOV Rd,Dd': ST + 'sysregs.asm', 'MOV Dd,Rd': ST + 'sysregs.asm',
  WRMSR: 'test/core/system/cpuid-msr.test.ts', RDMSR: 'test/core/system/cpuid-msr.test.ts',
  RDTSC: 'test/core/system/cpuid-msr.test.ts', CPUID: 'test/core/system/cpuid-msr.test.ts',
  SYSENTER: ST + 'sysregs.asm', SYSEXIT: ST + 'sysregs.asm',
  VMXON: ST + 'vmxinsns.asm', VMXOFF: ST + 'vmxinsns.asm', VMCLEAR: ST + 'vmxinsns.asm',
  VMPTRLD: ST + 'vmxinsns.asm', VMPTRST: ST + 'vmxinsns.asm', VMREAD: ST + 'vmxinsns.asm',
  VMWRITE: ST + 'vmxinsns.asm', VMCALL: ST + 'vmxinsns.asm', VMLAUNCH: ST + 'vmxinsns.asm',
  VMRESUME: ST + 'vmxinsns.asm', RDPMC: 'test/vmm/vmx-exits.test.ts',
  'INVEPT/INVVPID': ST + 'vmx-ept.asm',
};
// The x87 instructions: the vectors captured on the host CPU (tools/x87/capture.c).
for (const m of ['FADD', 'FMUL', 'FCOM', 'FCOMP', 'FSUB', 'FSUBR', 'FDIV', 'FDIVR', 'FIADD',
  'FIMUL', 'FICOM', 'FICOMP', 'FISUB', 'FISUBR', 'FIDIV', 'FIDIVR', 'FLD', 'FST', 'FSTP',
  'FILD', 'FIST', 'FISTP', 'FBLD', 'FBSTP', 'FXCH', 'FCHS', 'FABS', 'FTST', 'FXAM', 'FLD1',
  'FLDL2T', 'FLDL2E', 'FLDPI', 'FLDLG2', 'FLDLN2', 'FLDZ', 'F2XM1', 'FYL2X', 'FPTAN', 'FPATAN',
  'FXTRACT', 'FPREM1', 'FDECSTP', 'FINCSTP', 'FPREM', 'FYL2XP1', 'FSQRT', 'FSINCOS', 'FRNDINT',
  'FSCALE', 'FSIN', 'FCOS', 'FCMOVB', 'FCMOVE', 'FCMOVBE', 'FCMOVU', 'FCMOVNB', 'FCMOVNE',
  'FCMOVNBE', 'FCMOVNU', 'FUCOMPP', 'FCOMPP', 'FNCLEX', 'FNINIT', 'FUCOMI', 'FCOMI', 'FUCOMIP',
  'FCOMIP', 'FUCOM', 'FNSTSW', 'FLDCW', 'FADDP', 'FDIVP', 'FSUBRP', 'FST', 'FCOMP', 'FICOM',
  'FNINIT', 'FNCLEX']) SUITES[m] = 'test/x87/vectors.test.ts';
for (const m of ['FLDENV', 'FNSTENV', 'FNSTCW', 'FRSTOR', 'FNSAVE', 'FNOP', 'FENI', 'FDISI',
  'FSETPM', 'FFREE', 'FFREEP', 'FXCH4', 'FXCH7', 'FSTP1', 'FSTP8', 'FSTP9', 'FCOM2', 'FCOMP3',
  'FCOMP5', 'FUCOMP', 'FLDZ', 'FDIVRP', 'FMULP', 'FSUBP', 'FICOMP', 'FISUBR', 'FIST']) {
  SUITES[m] = 'test/x87/insns.test.ts';
}
for (const r of rows) {
  if (r.exec === undefined) continue;
  r.suite = SUITES[`${r.mnemonic} ${r.operands}`] ?? SUITES[r.mnemonic];
}

export const opcodes = rows;
