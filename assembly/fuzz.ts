// A fuzz driver inside the core, so that a million random instruction streams run in a
// few seconds (a round trip to the host per stream would dominate). It reuses one
// instance: each stream resets the CPU into a random mode, fills the code with random
// bytes, runs a small budget, answers port and MMIO exits with random values, and checks
// the invariants the host relies on. The test (test/core/fuzz.test.ts) calls it; the wasm
// engine itself guarantees no access outside the instance's memory traps silently.
import {
  STATE_BASE, S_EIP, S_EFLAGS, S_CR0, S_CR3, S_CR4, S_CPL, S_SEG, SEG_ACCESS, SEG_LIMIT, SEG_SEL,
  S_IDTR_BASE, S_IDTR_LIMIT, S_GDTR_BASE, S_GDTR_LIMIT, S_EXIT_REASON, EXIT_IO, EXIT_MMIO,
  EXIT_SHUTDOWN, RAM_BASE, S_RAM_BYTES, S_STRIO, SEG_SIZE, GUARD_BASE, GUARD_SIZE,
  STATE_USED_END, STATE_SIZE, IOLOG_USED_END, IOLOG_BASE, IOLOG_SIZE, RANGES_USED_END,
  RANGES_BASE, RANGES_SIZE, SEGX_USED_END, SEGX_BASE, SEGX_SIZE, TLB_USED_END, TLB_BASE,
  TLB_SIZE, PIO_DATA_BASE, PIO_DATA_SIZE, DATA_BASE, S_VMX, S_VMX_OP, S_FEATURE_CONTROL,
  S_VMXON_PTR, S_VMCS_PTR, VMCS_BASE, VMCS_SIZE, VMCS_USED_END, VMM_STATS_BASE, VMM_STATS_SIZE,
  VMM_STATS_USED_END, NESTED_BASE, NESTED_SIZE, NESTED_USED_END, TLBSAVE_BASE, TLBSAVE_SIZE,
  TLBSAVE_USED_END, S_FPU_CW, S_FPU_SW, S_FPU_TW, S_FPU_MAN, S_FPU_FDS,
} from './generated/layout';
import { VMCS_ENCODINGS, VMCS_FIELD_COUNT } from './generated/vmx';
import { reset } from './index';
import { run } from './cpu/run';
import { completeRead } from './cpu/iolog';
import { setSegRaw, setReg32, CS, SS, DS, ES, FS, GS, TR } from './cpu/state';

let rng: u32 = 1;
@inline function next(): u32 {
  let x = rng;
  x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
  rng = x;
  return x;
}

/**
 * The guard areas, [start, end) pairs: the space of the core's memory that no structure
 * uses (scripts/layout.mjs), i.e. the guard page, the unused tail of each block and the
 * space between the string I/O data and AssemblyScript's static data.
 */
const GUARDS: StaticArray<u32> = [
  GUARD_BASE, GUARD_BASE + GUARD_SIZE,
  STATE_USED_END, STATE_BASE + STATE_SIZE,
  IOLOG_USED_END, IOLOG_BASE + IOLOG_SIZE,
  RANGES_USED_END, RANGES_BASE + RANGES_SIZE,
  SEGX_USED_END, SEGX_BASE + SEGX_SIZE,
  TLB_USED_END, TLB_BASE + TLB_SIZE,
  PIO_DATA_BASE + PIO_DATA_SIZE, VMCS_BASE,
  VMCS_USED_END, VMCS_BASE + VMCS_SIZE,
  VMCS_BASE + VMCS_SIZE, VMM_STATS_BASE,
  VMM_STATS_USED_END, VMM_STATS_BASE + VMM_STATS_SIZE,
  NESTED_USED_END, NESTED_BASE + NESTED_SIZE,
  TLBSAVE_USED_END, TLBSAVE_BASE + TLBSAVE_SIZE,
  TLBSAVE_BASE + TLBSAVE_SIZE, DATA_BASE,
];

/** Number of invariant violations found, and the first one (a code for the test to name). */
export let fuzzViolations: u32 = 0;
export let fuzzFirst: u32 = 0;
export let fuzzFirstStream: u32 = 0;
export let fuzzInstructions: u64 = 0;

/** Violation codes (bit n: code n) not counted: an SVM guest's state comes from its VMCB,
 *  which VMRUN does not check for CS usability, CPL = SS.DPL or RIP within the CS limit
 *  (AMD APM vol. 2, 15.5.1 lists no such rule): assembly/svm/fuzz.ts relaxes 3, 4 and 6
 *  while the CPU is in guest mode. */
export let relaxed: u32 = 0;
export function setRelaxed(mask: u32): void { relaxed = mask; }
export function violation(code: u32, stream: u32): void {
  if (((relaxed >> code) & 1) != 0) return;
  if (fuzzViolations == 0) { fuzzFirst = code; fuzzFirstStream = stream; }
  fuzzViolations++;
}

/** Clears the guard areas; `guardsIntact()` checks that nothing wrote there. */
export function fuzzArmGuards(): void {
  for (let i = 0; i < GUARDS.length; i += 2) {
    memory.fill(GUARDS[i], 0, GUARDS[i + 1] - GUARDS[i]);
  }
}
export function guardsIntact(): bool {
  for (let i = 0; i < GUARDS.length; i += 2) {
    for (let p = GUARDS[i]; p < GUARDS[i + 1]; p += 4) if (load<u32>(p) != 0) return false;
  }
  return true;
}

/** Sets up one stream: random mode, registers and code; returns the code's physical address. */
function setup(stream: u32): void {
  // x87 runs: the FPU's registers, control, status and tag words and pointers (S_FPU_MAN
  // up to S_FPU_FDS) survive the reset, so each stream starts where the last one left it.
  if (fuzzX87 != 0) memory.copy(fpuSaved, STATE_BASE + S_FPU_MAN, FPU_BYTES);
  reset();
  if (fuzzX87 != 0) memory.copy(STATE_BASE + S_FPU_MAN, fpuSaved, FPU_BYTES);
  const ram = load<u32>(STATE_BASE + S_RAM_BYTES);
  for (let r: u32 = 0; r < 8; r++) setReg32(r, next());
  // Random code: 128 random bytes at a random place of a random page of the first 64 KiB
  // (the pages keep the random bytes of earlier streams). The IVT's first 32 vectors too.
  const page = (next() & 0xf) << 12;
  const at = next() & 0xf80;
  for (let p: u32 = 0; p < 128; p += 4) store<u32>(RAM_BASE + page + at + p, next());
  for (let p: u32 = 0; p < 0x80; p += 4) store<u32>(RAM_BASE + p, next());
  const mode = next() & 3;
  store<u32>(STATE_BASE + S_STRIO, next() & 1); // string I/O exits batched or not
  store<u32>(STATE_BASE + S_EFLAGS, (next() & 0x0cd5) | 2 | (next() & 0x200));
  if (mode == 0) {
    // Real mode, CS:IP at the window.
    setSegRaw(CS, page >> 4, page, 0xffff, 0x9b);
    store<u32>(STATE_BASE + S_EIP, at + (next() & 0x3f));
  } else {
    // Protected mode (mode 1: flat 32-bit; 2: 16-bit code; 3: flat 32-bit with paging
    // identity-mapped through a page directory of random bytes at 0x10000), CPL 0 or 3.
    store<u32>(STATE_BASE + S_CR0, 0x60000011 | (mode == 3 ? 0x80010000 : 0));
    if (mode == 3) {
      store<u32>(STATE_BASE + S_CR3, 0x10000);
      store<u32>(STATE_BASE + S_CR4, next() & 0x90);
      // A few random PDEs (4 MiB pages, absent entries) and PTEs with random rights.
      for (let k: u32 = 0; k < 8; k++) {
        store<u32>(RAM_BASE + 0x10000 + ((next() & 0x3ff) << 2), next() & 0x3ff0019f);
      }
      store<u32>(RAM_BASE + 0x10000, 0x11007); // PDE 0 -> page table at 0x11000
      for (let k: u32 = 0; k < 16; k++) {
        const pteAt = RAM_BASE + 0x11000 + ((next() & 0x3ff) << 2);
        store<u32>(pteAt, ((next() & 0xff) << 12) | (next() & 0x167));
      }
    }
    const c = (next() & 7) == 0 ? 3 : 0;
    const d: u32 = mode == 2 ? 0 : 0x4000;
    setSegRaw(CS, 0x08 | c, 0, mode == 2 ? 0xffff : 0xffffffff, 0x809b | d | (c << 5));
    const data: u32 = 0x8093 | 0x4000 | (c << 5);
    setSegRaw(SS, 0x10 | c, 0, 0xffffffff, data);
    setSegRaw(DS, 0x10 | c, 0, 0xffffffff, data);
    setSegRaw(ES, 0x10 | c, 0, 0xffffffff, data);
    setSegRaw(FS, 0x10 | c, 0, 0xffffffff, data);
    setSegRaw(GS, 0, 0, 0, 0x10000);
    setSegRaw(TR, 0x18, page, 0x67 + (next() & 0x1fff), 0x8b);
    store<u32>(STATE_BASE + S_CPL, c);
    store<u32>(STATE_BASE + S_EIP, page + at + (next() & 0x3f));
    store<u32>(STATE_BASE + S_GDTR_BASE, page);
    store<u32>(STATE_BASE + S_GDTR_LIMIT, next() & 0xfff);
    store<u32>(STATE_BASE + S_IDTR_BASE, page);
    store<u32>(STATE_BASE + S_IDTR_LIMIT, next() & 0x7ff);
  }
  // Half the streams have VMX; of those with paging, half start in VMX root operation with
  // random VMXON and VMCS pointers (all ones: no current VMCS) in the first 64 KiB, PDE 0 an
  // identity 4 MiB page, and a VMX instruction (random prefix, ModRM, operands) at EIP.
  const vmx = next() & 1;
  store<u32>(STATE_BASE + S_VMX, vmx);
  if (vmx != 0 && mode == 3 && (next() & 1) != 0) {
    store<u32>(STATE_BASE + S_VMX_OP, 1);
    store<u32>(STATE_BASE + S_FEATURE_CONTROL, 5);
    store<u32>(STATE_BASE + S_CR0, load<u32>(STATE_BASE + S_CR0) | 0x20);
    store<u32>(STATE_BASE + S_CR4, load<u32>(STATE_BASE + S_CR4) | 0x2010);
    store<u32>(RAM_BASE + 0x10000, 0x87);
    store<u64>(STATE_BASE + S_VMXON_PTR, <u64>((next() & 0xf) << 12));
    const none = (next() & 1) != 0;
    store<u64>(STATE_BASE + S_VMCS_PTR, none ? 0xffffffffffffffff : <u64>((next() & 0xf) << 12));
    for (let k: u32 = 0; k < 2; k++) store<u32>(RAM_BASE + ((next() & 0xf) << 12), 1);
    setReg32(next() & 7, unchecked(VMCS_ENCODINGS[next() % <u32>VMCS_FIELD_COUNT]));
    const eip = load<u32>(STATE_BASE + S_EIP);
    const kind = next() % 6, m = next() & 0xff;
    // Little endian: F3 0F C7 m, 66 0F C7 m, 0F C7 m, 0F 78 m, 0F 79 m, 0F 01 C0+r.
    let insn: u32;
    if (kind == 0) insn = 0xc70ff3 | m << 24;
    else if (kind == 1) insn = 0xc70f66 | m << 24;
    else if (kind == 2) insn = 0xc70f | m << 16;
    else if (kind == 3) insn = 0x780f | m << 16;
    else if (kind == 4) insn = 0x790f | m << 16;
    else insn = 0xc0010f | (m & 7) << 16;
    if (eip < 0x10000 - 4) store<u32>(RAM_BASE + eip, insn);
  }
  // Half the streams are x87 streams (fuzzX87 on): the window is rewritten with
  // escape opcodes D8-DF (SDM vol. 2, A.5) with random ModRM and operand bytes, FWAIT,
  // operand-size prefixes and 0F AE (FXSAVE/FXRSTOR and the rest of group 15), and CR0.EM,
  // MP, TS and NE are random (SDM vol. 3A, 2.5: #NM, #MF or IRQ 13 paths); the FPU's state
  // carries over from stream to stream, so its stack, tags and control word are whatever
  // earlier streams left.
  if (fuzzX87 != 0 && (next() & 1) == 0) {
    const eip = load<u32>(STATE_BASE + S_EIP);
    const start = mode == 0 ? page + eip : eip; // real mode: CS's base is `page`
    for (let p: u32 = 0; p < 96 && start + p + 8 < 0x10000;) {
      const k = next() & 15;
      const at = RAM_BASE + start + p;
      if (k < 11) {
        store<u8>(at, <u8>(0xd8 + (next() & 7)));
        store<u32>(at + 1, next());
        p += 2 + (next() & 3) * ((next() & 1) + 1);
      } else if (k == 11) { store<u8>(at, 0x9b); p += 1; }
      else if (k == 12) { store<u8>(at, 0x66); p += 1; }
      else if (k == 13) { store<u8>(at, 0xf3 - (next() & 1)); p += 1; } // REP prefixes
      else { store<u16>(at, 0xae0f); store<u32>(at + 2, next()); p += 3 + (next() & 3); }
    }
    store<u32>(STATE_BASE + S_CR0, load<u32>(STATE_BASE + S_CR0) | (next() & 0x2e));
    x87Streams++;
  }
  void ram; void stream;
}

const FPU_BYTES: u32 = S_FPU_FDS + sizeof<u32>() - S_FPU_MAN;
const fpuSaved: usize = memory.data(<i32>FPU_BYTES);
/** x87 streams: on or off (fuzzSetX87), and how many were run. */
export let fuzzX87: u32 = 0;
export let x87Streams: u32 = 0;
export function fuzzSetX87(on: u32): void { fuzzX87 = on; }
export function fuzzX87Streams(): u32 { return x87Streams; }

/** Checks the state the host sees after run() returned. */
export function check(stream: u32): void {
  const fl = load<u32>(STATE_BASE + S_EFLAGS);
  if ((fl & 2) == 0 || (fl & 0xffc08028) != 0) violation(1, stream); // EFLAGS fixed/reserved
  const cs = STATE_BASE + S_SEG + SEG_SIZE * CS;
  const ar = load<u32>(cs + SEG_ACCESS);
  if ((ar & 0xfffe0f00) != 0) violation(2, stream); // access-rights format
  const pe = (load<u32>(STATE_BASE + S_CR0) & 1) != 0;
  const vm = (fl & (1 << 17)) != 0;
  if (pe && !vm) {
    if ((ar & 0x10000) != 0 || (ar & 0x18) != 0x18) violation(3, stream); // CS usable code
    // CPL = SS.DPL (the VM-entry guest-state check, SDM vol. 3C, 26.3.1.2). CS.RPL may still
    // hold a real-mode selector right after CR0.PE was set.
    const ssAr = load<u32>(STATE_BASE + S_SEG + SEG_SIZE * SS + SEG_ACCESS);
    if (load<u32>(STATE_BASE + S_CPL) != ((ssAr >> 5) & 3)) violation(4, stream);
  }
  if (!pe && load<u32>(STATE_BASE + S_CPL) != 0) violation(5, stream);
  const eip = load<u32>(STATE_BASE + S_EIP);
  if (<u64>eip > <u64>load<u32>(cs + SEG_LIMIT) + 15) violation(6, stream); // EIP within CS limit
  for (let s: u32 = 0; s < 8; s++) {
    const sel = load<u32>(STATE_BASE + S_SEG + SEG_SIZE * s + SEG_SEL);
    if ((sel & 0xffff0000) != 0) violation(7, stream);
  }
  // x87: the control word keeps its reserved bits (12-15 and 7 zero, bit 6 one: SDM vol. 1,
  // 8.1.5), the status and tag words are 16-bit (8.1.3, 8.1.7).
  const cw = load<u32>(STATE_BASE + S_FPU_CW);
  if ((cw & 0xffffe080) != 0 || (cw & 0x40) == 0 ||
    ((load<u32>(STATE_BASE + S_FPU_SW) | load<u32>(STATE_BASE + S_FPU_TW)) >> 16) != 0) {
    violation(11, stream);
  }
  // VMX operation only with VMX, and with CR0.PE/NE/PG and CR4.VMXE set (SDM vol. 3C, 24.8).
  if (load<u32>(STATE_BASE + S_VMX_OP) != 0) {
    const cr0 = load<u32>(STATE_BASE + S_CR0), cr4 = load<u32>(STATE_BASE + S_CR4);
    if (load<u32>(STATE_BASE + S_VMX) == 0 || (cr0 & 0x80000021) != 0x80000021 ||
      (cr4 & 0x2000) == 0) violation(10, stream);
  }
}

/**
 * Runs `streams` random instruction streams from `seed`, each with at most `budget`
 * instructions per run() and `maxExits` host exits. Returns the number of violations
 * (details in fuzzFirst / fuzzFirstStream).
 */
export function fuzz(seed: u32, streams: u32, budget: u32, maxExits: u32, stopAtFirst: bool): u32 {
  rng = seed | 1;
  // Fill the first 64 KiB with random bytes once, and an identity page table at 0x11000.
  for (let p: u32 = 0; p < 0x10000; p += 4) store<u32>(RAM_BASE + p, next());
  for (let p: u32 = 0; p < 4096; p += 4) {
    store<u32>(RAM_BASE + 0x10000 + p, (next() & 0x3ff0019f) | 1);
  }
  for (let i: u32 = 0; i < 1024; i++) {
    store<u32>(RAM_BASE + 0x11000 + i * 4, (i << 12) | (next() & 0x167) | 1);
  }
  fuzzViolations = 0; fuzzFirst = 0; fuzzFirstStream = 0; fuzzInstructions = 0;
  for (let st: u32 = 0; st < streams; st++) {
    setup(st);
    for (let e: u32 = 0; e < maxExits; e++) {
      const reason = run(budget);
      check(st);
      if (fuzzViolations != 0 && stopAtFirst) return fuzzViolations;
      if (reason == EXIT_IO || reason == EXIT_MMIO) { completeRead(next()); continue; }
      if (reason == EXIT_SHUTDOWN) break;
      if (load<u32>(STATE_BASE + S_EXIT_REASON) != reason) violation(8, st);
      if (reason != EXIT_IO) break;
    }
  }
  if (!guardsIntact()) violation(9, streams);
  return fuzzViolations;
}
export function fuzzFirstCode(): u32 { return fuzzFirst; }
export function fuzzFirstAt(): u32 { return fuzzFirstStream; }
