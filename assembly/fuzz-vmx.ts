// The VT-x fuzz driver (build/fuzz.wasm only): random VMCS contents and random guest
// instruction streams through the host-owned path (vmcsWrite, vmxHostEnter, run,
// hostEmulate). Each case starts from a valid VMCS for a flat 32-bit guest with identity EPT
// (as test/vmm/vmx-guest.ts builds it), then mutates random fields, random control bits and
// random EPT entries, and puts random bytes at the guest's RIP. Invariants: VM entry returns
// 0, a VM-instruction error of the control checks (7) or an entry failure (0x80000000 | 33 /
// 34); run() returns a known exit; every VM exit leaves non-root operation with a basic exit
// reason the VMX code produces; a host-owned guest never shuts the CPU down (a triple fault
// exits); nothing writes outside the VM's memory (the guard areas of ./fuzz.ts).
import {
  STATE_BASE, RAM_BASE, S_GUEST_MODE, S_EXIT_REASON, EXIT_IO, EXIT_MMIO, EXIT_VMEXIT,
  EXIT_BUDGET, EXIT_HLT, EXIT_IRQ_WINDOW, EXIT_SHUTDOWN, S_INTR_PENDING, S_NMI_PENDING,
  S_TLB_TAGS, S_NESTED_CACHES,
} from './generated/layout';
import { VMCS_ENCODINGS, VMCS_FIELD_COUNT } from './generated/vmx';
import {
  reset, addVmmRam, vmcsWrite, vmcsRead, vmcsClearHost, vmxHostEnter, hostEmulate, run,
} from './index';
import { completeRead } from './cpu/iolog';
import { guestMode } from './vmm/guest';
import { nestedCachesChanged } from './mem/nested';
import { physRead32, physWrite32 } from './mem/phys';

let rng: u32 = 1;
@inline function next(): u32 {
  let x = rng;
  x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
  rng = x;
  return x;
}

let eptBase: u32 = 0;
export let vmxViolations: u32 = 0;
export let vmxFirst: u32 = 0;
export let vmxFirstCase: u32 = 0;
/** Outcomes counted: entries that succeeded, VM exits, entry failures. */
export let vmxEntered: u32 = 0;
export let vmxExits: u32 = 0;
export let vmxFailed: u32 = 0;

function violation(code: u32, c: u32): void {
  if (vmxViolations == 0) { vmxFirst = code; vmxFirstCase = c; }
  vmxViolations++;
}

/** Identity EPT with 4 KiB pages for the first 4 MiB (PML4, PDPT, PD, two PTs). */
function buildEpt(): void {
  const b = eptBase;
  for (let p: u32 = 0; p < 5 * 4096; p += 4) physWrite32(b + p, 0);
  physWrite32(b, (b + 0x1000) | 7);
  physWrite32(b + 0x1000, (b + 0x2000) | 7);
  physWrite32(b + 0x2000, (b + 0x3000) | 7);
  physWrite32(b + 0x2008, (b + 0x4000) | 7);
  for (let i: u32 = 0; i < 1024; i++) physWrite32(b + 0x3000 + (i << 3), (i << 12) | 0x37);
}

@inline function w(enc: u32, v: u64): void { vmcsWrite(enc, v); }

/** The valid base VMCS (encodings: SDM vol. 3C, appendix B). */
function baseVmcs(): void {
  vmcsClearHost();
  w(0x4000, 0x16 | (next() & 0x69));                         // pin-based
  w(0x4002, 0x84006172 | (next() & 0x7bc01e8c));             // primary (+ secondary)
  w(0x401e, 0x82 | (next() & 0x64));                          // EPT, unrestricted, ...
  w(0x400c, 0x36dff | (next() & 0x408000));                  // exit
  w(0x4012, 0x11ff);                                          // entry
  w(0x201a, <u64>(eptBase | 0x1e | (next() & 0x40)));         // EPTP: WB, 4 levels, A/D?
  w(0x0000, 1 + (next() & 0xf));                              // VPID
  w(0x2800, 0xffffffffffffffff);                              // link pointer
  w(0x6800, 0x31 | (next() & 0x80050000));                    // CR0 (PE NE ET, PG? WP?)
  w(0x6802, 0x10000);
  w(0x6804, 0x2000 | (next() & 0x190));                       // CR4 VMXE (+PSE PGE PCE)
  w(0x681a, 0x400);
  w(0x6820, 2 | (next() & 0x0cd5) | (next() & 0x200));        // RFLAGS
  w(0x681e, 0x1000 + (next() & 0xfff));                       // RIP
  w(0x681c, 0x8000);
  for (let s: u32 = 0; s < 6; s++) {
    w(0x0800 + (s << 1), s == 1 ? 8 : 0x10);
    w(0x6806 + (s << 1), 0);
    w(0x4800 + (s << 1), 0xffffffff);
    w(0x4814 + (s << 1), s == 1 ? 0xc09b : 0xc093);
  }
  w(0x4820, 0x10000);                                         // LDTR unusable
  w(0x080e, 0x18); w(0x4822, 0x8b); w(0x480e, 0x67);          // TR
  w(0x4810, 0x1f); w(0x4812, next() & 0x7ff); w(0x6818, 0x2000);
  w(0x4004, next());                                          // exception bitmap
  w(0x4006, next() & 0x1f); w(0x4008, next() & 0x1f);         // #PF mask / match
  w(0x6000, next() & 0x8000003f); w(0x6004, next() & 0x8000003f);  // CR0 mask / shadow
  w(0x482e, next() & 0xff);                                   // preemption timer
  w(0x2000, 0x30000); w(0x2002, 0x31000); w(0x2004, 0x32000); // I/O, MSR bitmaps
}

/** Random mutations: fields, EPT entries, the event to inject. */
function mutate(): void {
  const n = next() & 7;
  for (let k: u32 = 0; k < n; k++) {
    const enc = unchecked(VMCS_ENCODINGS[next() % <u32>VMCS_FIELD_COUNT]);
    const r = next();
    const v: u64 = (r & 3) == 0 ? <u64>next() : (r & 3) == 1 ? <u64>(next() & 0xff)
      : (<u64>next() << 32) | <u64>next();
    w(enc, v);
  }
  if ((next() & 3) == 0) {
    // An event to inject: random type, vector, error-code bit, length.
    w(0x4016, 0x80000000 | (next() & 0xfff));
    w(0x4018, next() & 0xffff);
    w(0x401a, next() & 0xf);
  }
  if ((next() & 7) == 0) {
    // A random EPT entry somewhere in the tables.
    const at = eptBase + ((next() % (5 * 512)) << 3);
    physWrite32(at, next());
    if ((next() & 3) == 0) physWrite32(at + 4, next() & 0xf);
  }
}

/** The basic exit reasons the VMX code produces (SDM vol. 3C, appendix C). */
function knownReason(r: u32): bool {
  if (r <= 2) return true;
  if (r >= 7 && r <= 32) return r != 11 && r != 17;
  return r == 36 || r == 37 || r == 39 || r == 40 || r == 46 || r == 47 || r == 48 ||
    r == 49 || r == 50 || r == 52 || r == 53 || r == 54;
}

/** Runs `cases` cases from `seed`; returns the number of violations. */
export function fuzzVmx(seed: u32, cases: u32, budget: u32, maxExits: u32): u32 {
  rng = seed | 1;
  vmxViolations = 0; vmxFirst = 0; vmxFirstCase = 0;
  vmxEntered = 0; vmxExits = 0; vmxFailed = 0;
  if (eptBase == 0) eptBase = addVmmRam(5 * 4096);
  if (eptBase == 0) { violation(30, 0); return vmxViolations; }
  for (let p: u32 = 0; p < 0x10000; p += 4) store<u32>(RAM_BASE + p, next());
  let eptDirty = true;
  for (let c: u32 = 0; c < cases; c++) {
    reset();
    store<u32>(STATE_BASE + S_TLB_TAGS, next() & 1);
    store<u32>(STATE_BASE + S_NESTED_CACHES, next() & 3);
    nestedCachesChanged();
    if (eptDirty) { buildEpt(); eptDirty = false; }
    // Random code at the guest's RIP.
    const at = RAM_BASE + 0x1000 + (next() & 0xfc0);
    for (let p: u32 = 0; p < 64; p += 4) store<u32>(at + p, next());
    baseVmcs();
    if ((next() & 1) != 0) { mutate(); eptDirty = true; }
    if ((next() & 7) == 0) store<u32>(STATE_BASE + S_INTR_PENDING, 0x100 | (next() & 0xff));
    if ((next() & 15) == 0) store<u32>(STATE_BASE + S_NMI_PENDING, 1);
    for (let e: u32 = 0; e < maxExits; e++) {
      const r = vmxHostEnter();
      if (r != 0) {
        if (r != 7 && r != 0x80000021 && r != 0x80000022) violation(20, c);
        if (guestMode != 0) violation(21, c);
        vmxFailed++;
        break;
      }
      vmxEntered++;
      if (load<u32>(STATE_BASE + S_GUEST_MODE) != 1) violation(22, c);
      let reason = run(budget);
      let more: u32 = 0;
      while ((reason == EXIT_IO || reason == EXIT_MMIO) && more < 8) {
        completeRead(next()); reason = run(budget); more++;
      }
      if (load<u32>(STATE_BASE + S_EXIT_REASON) != reason) violation(23, c);
      if (reason == EXIT_SHUTDOWN) { violation(24, c); break; }
      if (reason != EXIT_VMEXIT && reason != EXIT_BUDGET && reason != EXIT_HLT &&
        reason != EXIT_IO && reason != EXIT_MMIO && reason != EXIT_IRQ_WINDOW) {
        violation(25, c); break;
      }
      if (reason != EXIT_VMEXIT) break;
      vmxExits++;
      if (guestMode != 0 || load<u32>(STATE_BASE + S_GUEST_MODE) != 0) violation(26, c);
      const basic = <u32>vmcsRead(0x4402);
      if ((basic & 0x7fff0000) != 0 || !knownReason(basic & 0xffff)) violation(27, c);
      // Resume past the instruction, or let the emulator run a few of them.
      if ((next() & 3) == 0) {
        const x = hostEmulate(next() & 7);
        if (x == EXIT_IO || x == EXIT_MMIO) completeRead(next());
      } else {
        w(0x681e, vmcsRead(0x681e) + vmcsRead(0x440c));
      }
    }
  }
  return vmxViolations;
}
export function fuzzVmxFirst(): u32 { return vmxFirst; }
export function fuzzVmxFirstCase(): u32 { return vmxFirstCase; }
export function fuzzVmxEntered(): u32 { return vmxEntered; }
export function fuzzVmxExits(): u32 { return vmxExits; }
export function fuzzVmxFailed(): u32 { return vmxFailed; }
// physRead32 is kept for debugging the tables from a driver.
export function fuzzVmxPeek(pa: u32): u32 { return physRead32(pa); }
