// The AMD-V part of the fuzz driver (build/fuzz.wasm only; test/vmm/svm-fuzz.test.ts):
// each case is an L1 hypervisor in flat protected mode that VMRUNs a random VMCB (a valid
// one with random fields spoiled, random intercept vectors, IOPM, MSRPM, EVENTINJ, nested
// paging over random tables) whose L2 guest runs random bytes, then halts. Checked after
// every run(): the state invariants of assembly/fuzz.ts; guest mode only with SVM and
// EFER.SVME; and when the L1 is back (its HLT after VMRUN), that EXITCODE holds
// VMEXIT_INVALID or an exit code of APM vol. 2 appendix C that this CPU can raise.
import {
  STATE_BASE, S_EFER, S_SVM, S_VM_HSAVE_PA, S_EIP, S_EFLAGS, S_CR0, S_EXIT_REASON, EXIT_IO,
  EXIT_MMIO, EXIT_SHUTDOWN, EXIT_HLT, RAM_BASE, S_EAX, S_GDTR_BASE, S_GDTR_LIMIT,
  S_IDTR_BASE, S_IDTR_LIMIT,
} from '../generated/layout';
import { reset } from '../index';
import { run } from '../cpu/run';
import { completeRead } from '../cpu/iolog';
import { setSegRaw, CS, SS, DS, ES, FS, GS, TR } from '../cpu/state';
import { check, violation, fuzzViolations, setRelaxed } from '../fuzz';
import { inSvmGuest } from './mode';
import { EFER_SVME } from './svm';
import {
  VMCB_INTERCEPT_CR, VMCB_INTERCEPT_MISC2, VMCB_GUEST_ASID, VMCB_CS_SELECTOR,
  VMCB_EFER, VMCB_CR0, VMCB_CR3, VMCB_CR4, VMCB_DR6, VMCB_DR7, VMCB_RFLAGS, VMCB_RIP,
  VMCB_RSP, VMCB_IOPM_BASE_PA, VMCB_MSRPM_BASE_PA, VMCB_EVENTINJ, VMCB_NP_CONTROL,
  VMCB_N_CR3, VMCB_EXITCODE, VMCB_GDTR_BASE, VMCB_GDTR_LIMIT, VMCB_IDTR_BASE,
  VMCB_IDTR_LIMIT, VMCB_CPL, VMCB_TLB_CONTROL, VMCB_VINTR_CONTROL, VMCB_VINTR_VECTOR,
} from '../generated/svm';

let rng: u32 = 1;
@inline function next(): u32 {
  let x = rng;
  x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
  rng = x;
  return x;
}
@inline function w32(pa: u32, v: u32): void { store<u32>(RAM_BASE + pa, v); }
@inline function w64(pa: u32, v: u64): void { store<u64>(RAM_BASE + pa, v); }

const VMCB: u32 = 0x12000, HSAVE: u32 = 0x13000, L1_CODE: u32 = 0x14000;
/** Exit codes this CPU raises (appendix C): 00h-8Fh, NPF (400h), VMEXIT_INVALID (-1). */
function documented(code: i64): bool {
  return code == -1 || (code >= 0 && code <= 0x8f) || code == 0x400;
}

export let svmFuzzExits: u32 = 0;
export let svmFuzzInvalid: u32 = 0;

function setup(st: u32): void {
  reset();
  store<u32>(STATE_BASE + S_SVM, 1 | (next() & 2));
  store<u32>(STATE_BASE + S_EFER, EFER_SVME);
  store<u64>(STATE_BASE + S_VM_HSAVE_PA, <u64>HSAVE);
  // The L1: flat 32-bit protected mode at CPL 0, VMRUN [EAX = VMCB] then HLT.
  store<u32>(STATE_BASE + S_CR0, 0x11);
  setSegRaw(CS, 0x08, 0, 0xffffffff, 0xc09b);
  for (let s: u32 = 0; s < 6; s++) if (s != CS) setSegRaw(s, 0x10, 0, 0xffffffff, 0xc093);
  setSegRaw(TR, 0x18, 0, 0x67, 0x8b);
  store<u32>(STATE_BASE + S_GDTR_BASE, 0x11000); store<u32>(STATE_BASE + S_GDTR_LIMIT, 0xfff);
  store<u32>(STATE_BASE + S_IDTR_BASE, 0x11000); store<u32>(STATE_BASE + S_IDTR_LIMIT, 0x7ff);
  store<u32>(STATE_BASE + S_EIP, L1_CODE);
  store<u32>(STATE_BASE + S_EFLAGS, 2);
  store<u32>(STATE_BASE + S_EAX, VMCB);
  w32(L1_CODE, 0xf4d8010f); // VMRUN; HLT
  // The VMCB: zeros, then a valid guest (APM 15.5.1), then random spoils.
  memory.fill(RAM_BASE + VMCB, 0, 0x1000);
  w32(VMCB + VMCB_INTERCEPT_CR, next() & next());
  for (let o: u32 = 4; o < 0x10; o += 4) w32(VMCB + o, next() & next());
  w32(VMCB + VMCB_INTERCEPT_MISC2, (next() & 0xffe) | 1);
  w32(VMCB + VMCB_GUEST_ASID, 1 + (next() & 7));
  w32(VMCB + VMCB_TLB_CONTROL, (next() & 3) == 0 ? next() & 7 : 0);
  w64(VMCB + VMCB_IOPM_BASE_PA, <u64>((next() & 0xc) << 12));
  w64(VMCB + VMCB_MSRPM_BASE_PA, <u64>((next() & 0xe) << 12));
  w32(VMCB + VMCB_VINTR_CONTROL, next() & 0x11f010f);
  w32(VMCB + VMCB_VINTR_VECTOR, next() & 0xff);
  if ((next() & 3) == 0) {
    w32(VMCB + VMCB_EVENTINJ, 0x80000000 | (next() & 0xfff));
    w32(VMCB + VMCB_EVENTINJ + 4, next());
  }
  if ((next() & 1) != 0) {
    w64(VMCB + VMCB_NP_CONTROL, 1);
    w64(VMCB + VMCB_N_CR3, <u64>((next() & 0xf) << 12));
  }
  const mode = next() & 3;
  const cpl: u32 = mode == 3 ? 3 : 0;
  const pe = mode != 0;
  for (let s: u32 = 0; s < 4; s++) {
    const at = VMCB + VMCB_CS_SELECTOR - 0x10 + s * 0x10; // ES, CS, SS, DS
    const code = s == 1;
    const attr: u32 = pe ? (code ? 0xc9b : 0xc93) | (cpl << 5) : (code ? 0x9b : 0x93);
    store<u16>(RAM_BASE + at, <u16>(pe ? (code ? 0x08 : 0x10) | cpl : (next() & 0xff0)));
    store<u16>(RAM_BASE + at + 2, <u16>attr);
    w32(at + 4, pe ? 0xffffffff : 0xffff);
    w64(at + 8, pe ? 0 : <u64>((next() & 0xff) << 4));
  }
  w64(VMCB + VMCB_GDTR_BASE, 0x11000);
  w32(VMCB + VMCB_GDTR_LIMIT, next() & 0xfff);
  w64(VMCB + VMCB_IDTR_BASE, <u64>((next() & 0xf) << 12));
  w32(VMCB + VMCB_IDTR_LIMIT, next() & 0x7ff);
  w64(VMCB + VMCB_EFER, <u64>EFER_SVME);
  w64(VMCB + VMCB_CR0, pe ? (mode == 2 ? 0x80000011 : 0x11) : 0x10);
  w64(VMCB + VMCB_CR3, 0x10000);
  w64(VMCB + VMCB_CR4, <u64>(next() & 0x90));
  w64(VMCB + VMCB_DR6, 0xffff0ff0); w64(VMCB + VMCB_DR7, 0x400);
  w64(VMCB + VMCB_RFLAGS, <u64>((next() & 0x0cd5) | 2 | (next() & 0x200)));
  const page = (next() & 0xf) << 12;
  const at = next() & 0xf80;
  for (let p: u32 = 0; p < 128; p += 4) w32(page + at + p, next());
  w64(VMCB + VMCB_RIP, <u64>(pe ? page + at : at));
  w64(VMCB + VMCB_RSP, <u64>(next() & 0xfffc));
  store<u8>(RAM_BASE + VMCB + VMCB_CPL, <u8>cpl);
  // Spoil up to three random qwords of the VMCB (control or save area).
  const spoils = next() & 3;
  for (let k: u32 = 0; k < spoils; k++) {
    const off = (next() & 0x1ff) << 3;
    if (off == VMCB_EXITCODE) continue;
    w64(VMCB + off, (<u64>next() << 32 | next()) & ((next() & 1) != 0 ? 0xffffffff : <u64>-1));
  }
  void st;
}

/**
 * Runs `cases` random VMRUNs from `seed`, each with at most `budget` instructions per run()
 * and `maxExits` run() calls. Returns the violations (assembly/fuzz.ts codes, plus 11: guest
 * mode without SVM, 12: an undocumented exit code).
 */
export function fuzzSvm(seed: u32, cases: u32, budget: u32, maxExits: u32): u32 {
  rng = seed | 1;
  for (let p: u32 = 0; p < 0x10000; p += 4) store<u32>(RAM_BASE + p, next());
  for (let i: u32 = 0; i < 1024; i++) {
    store<u32>(RAM_BASE + 0x10000 + i * 4, (i << 22) | (next() & 0x67) | 0x81);
  }
  svmFuzzExits = 0; svmFuzzInvalid = 0;
  const before = fuzzViolations;
  for (let st: u32 = 0; st < cases; st++) {
    setup(st);
    for (let e: u32 = 0; e < maxExits; e++) {
      const reason = run(budget);
      setRelaxed(inSvmGuest() ? (1 << 3) | (1 << 4) | (1 << 6) : 0);
      check(st);
      setRelaxed(0);
      if (inSvmGuest() && ((load<u32>(STATE_BASE + S_SVM) & 1) == 0 ||
        (load<u32>(STATE_BASE + S_EFER) & EFER_SVME) == 0)) violation(11, st);
      if (reason == EXIT_IO || reason == EXIT_MMIO) { completeRead(next()); continue; }
      if (reason == EXIT_SHUTDOWN) break;
      if (load<u32>(STATE_BASE + S_EXIT_REASON) != reason) violation(8, st);
      if (reason == EXIT_HLT && !inSvmGuest() &&
        load<u32>(STATE_BASE + S_EIP) == L1_CODE + 4) {
        const code = load<i64>(RAM_BASE + VMCB + VMCB_EXITCODE);
        if (!documented(code)) violation(12, st);
        svmFuzzExits++;
        if (code == -1) svmFuzzInvalid++;
        break;
      }
    }
  }
  return fuzzViolations - before;
}
export function svmFuzzExitCount(): u32 { return svmFuzzExits; }
export function svmFuzzInvalidCount(): u32 { return svmFuzzInvalid; }
