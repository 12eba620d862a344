// Control and debug registers: MOV to/from CRn and DRn, LMSW, SMSW, CLTS, INVLPG
// (SDM vol. 2B, MOV—Move to/from Control Registers; vol. 3A, 2.5).
import {
  STATE_BASE, S_CR0, S_CR2, S_CR3, S_CR4, S_DR, S_DR6, S_DR7, S_CPL,
} from '../../generated/layout';
import {
  CR0_PE, CR0_PG, CR0_WP, CR0_TS, CR0_ET, CR4_PSE, CR4_PGE, CR4_PAE, CR4_DE,
} from '../state';
import { CR4_VALID } from '../state';
import { segUpdateAll } from '../access';
import { raiseGP, raiseUD, raise, DB } from '../fault';
import { tlbFlushAll, tlbFlushPage } from '../../mem/tlb';
import { noteInvlpg } from '../../mem/shadow';
import { v86Mode } from './segments';
import { updateDebug } from '../debug';
import { vmxEnabled, crAllowedInVmx, CR4_VMXE } from './vmx';
import { guestMode } from '../../vmm/guest';
import {
  icptCrRead, icptCrWrite, icptClts, icptLmsw, icptDr, icptInvlpg, icptInvd, icptWbinvd,
  guestCrRead, guestCrWrite,
} from '../../vmm/intercept';

/** DR7.GD (bit 13) and DR6.BD (bit 13), SDM vol. 3B, 17.2.3-17.2.4. */
const DR7_GD: u32 = 1 << 13;
const DR6_BD: u32 = 1 << 13;

/** CR0 bits that exist (PE MP EM TS ET NE WP AM NW CD PG); writes to the reserved ones are
 *  ignored (SDM vol. 3A, 2.5: "reserved bits ... should be written with the values read"). */
const CR0_DEFINED: u32 = 0xe005003f;

function privileged(): bool {
  if (v86Mode() || load<u32>(STATE_BASE + S_CPL) != 0) { raiseGP(0); return false; }
  return true;
}

/** MOV to CR`n` of `v` from general register `gpr`. In non-root operation the exit comes
 *  after the CPL check and before the checks on the value (SDM vol. 3C, 26.1.1); bits the
 *  host owns keep their values. */
export function movToCr(n: u32, v: u32, gpr: u32 = 0): void {
  if (!privileged()) return;
  if (guestMode != 0 && n != 2 && n <= 4) {
    if (icptCrWrite(n, gpr, v)) return;
    if (n == 0) v = guestCrWrite(0, load<u32>(STATE_BASE + S_CR0), v);
    else if (n == 4) v = guestCrWrite(4, load<u32>(STATE_BASE + S_CR4), v);
  }
  switch (n) {
    case 0: {
      if ((v & CR0_PG) != 0 && (v & CR0_PE) == 0) { raiseGP(0); return; }
      if ((v & 0x60000000) == 0x20000000) { raiseGP(0); return; } // NW without CD
      const old = load<u32>(STATE_BASE + S_CR0);
      v = (v & CR0_DEFINED) | CR0_ET; // ET is hardwired to 1 on P6 and later
      if (!crAllowedInVmx(0, v)) { raiseGP(0); return; } // SDM vol. 3C, 24.8
      store<u32>(STATE_BASE + S_CR0, v);
      if (((old ^ v) & (CR0_PG | CR0_WP | CR0_PE)) != 0) tlbFlushAll(false);
      if (((old ^ v) & CR0_PE) != 0) segUpdateAll();
      // CR0.AM decides alignment checking (the engine's debug.ts keeps it off the fast path).
      updateDebug();
      return;
    }
    case 2: store<u32>(STATE_BASE + S_CR2, v); return;
    case 3: store<u32>(STATE_BASE + S_CR3, v); tlbFlushAll(true); return;
    case 4: {
      // CR4.VMXE (bit 13) exists when the CPU has VMX (CPUID.1:ECX.VMX).
      if ((v & ~(CR4_VALID | (vmxEnabled() ? CR4_VMXE : 0))) != 0) { raiseGP(0); return; }
      if (!crAllowedInVmx(4, v)) { raiseGP(0); return; } // SDM vol. 3C, 24.8
      const old = load<u32>(STATE_BASE + S_CR4);
      store<u32>(STATE_BASE + S_CR4, v);
      if (((old ^ v) & (CR4_PSE | CR4_PGE)) != 0) tlbFlushAll(false);
      return;
    }
    default: raiseUD();
  }
}

export function movFromCr(n: u32, gpr: u32 = 0): u32 {
  if (!privileged()) return 0;
  if (guestMode != 0 && n != 2 && n <= 4 && icptCrRead(n, gpr)) return 0;
  switch (n) {
    case 0: return crRead(0, load<u32>(STATE_BASE + S_CR0));
    case 2: return load<u32>(STATE_BASE + S_CR2);
    case 3: return load<u32>(STATE_BASE + S_CR3);
    case 4: return crRead(4, load<u32>(STATE_BASE + S_CR4));
    default: raiseUD(); return 0;
  }
}

/** CR0/CR4 as the program reads them (read shadows in non-root operation). */
@inline function crRead(n: u32, v: u32): u32 { return guestMode != 0 ? guestCrRead(n, v) : v; }

/**
 * DR7.GD (general detect, SDM vol. 3B, 17.2.4): a MOV to or from a debug register is a #DB
 * fault instead, with DR6.BD set and GD cleared for the handler. Returns false after #DB.
 */
function generalDetect(): bool {
  const dr7 = load<u32>(STATE_BASE + S_DR7);
  if ((dr7 & DR7_GD) == 0) return true;
  store<u32>(STATE_BASE + S_DR6, load<u32>(STATE_BASE + S_DR6) | DR6_BD);
  store<u32>(STATE_BASE + S_DR7, dr7 & ~DR7_GD);
  updateDebug();
  raise(DB, 0, false);
  return false;
}

/** MOV to DR`n`. Its exit (MOV-DR exiting) comes before the CPL #GP and the DR4/DR5 #UD
 *  (SDM vol. 3C, 26.1.3) and before general detect. */
export function movToDr(n: u32, v: u32, gpr: u32 = 0): void {
  if (guestMode != 0 && icptDr(n, gpr, true)) return;
  if (!privileged()) return;
  if ((n == 4 || n == 5) && (load<u32>(STATE_BASE + S_CR4) & CR4_DE) != 0) { raiseUD(); return; }
  if (!generalDetect()) return;
  if (n < 4) store<u32>(STATE_BASE + S_DR + (n << 2), v);
  else if (n == 6 || n == 4) store<u32>(STATE_BASE + S_DR6, (v & 0xe00f) | 0xffff0ff0);
  else store<u32>(STATE_BASE + S_DR7, (v & 0xffff2bff) | 0x400);
  // Breakpoints enabled in DR7 (and their addresses in DR0-DR3) take effect at once.
  updateDebug();
}

export function movFromDr(n: u32, gpr: u32 = 0): u32 {
  if (guestMode != 0 && icptDr(n, gpr, false)) return 0;
  if (!privileged()) return 0;
  if ((n == 4 || n == 5) && (load<u32>(STATE_BASE + S_CR4) & CR4_DE) != 0) { raiseUD(); return 0; }
  if (!generalDetect()) return 0;
  if (n < 4) return load<u32>(STATE_BASE + S_DR + (n << 2));
  if (n == 6 || n == 4) return load<u32>(STATE_BASE + S_DR6);
  return load<u32>(STATE_BASE + S_DR7);
}

/** LMSW: loads CR0 bits 0-3; cannot clear PE (SDM vol. 2A, LMSW). */
export function lmsw(v: u32, lin: u32 = 0, isMem: bool = false): void {
  if (!privileged()) return;
  if (guestMode != 0 && icptLmsw(v, lin, isMem)) return;
  const old = load<u32>(STATE_BASE + S_CR0);
  let nv = (old & ~0xe) | (v & 0xf) | (old & CR0_PE);
  if (guestMode != 0) nv = guestCrWrite(0, old, nv);
  store<u32>(STATE_BASE + S_CR0, nv);
  if (((old ^ nv) & CR0_PE) != 0) segUpdateAll();
}

/** SMSW: low 16 bits of CR0 (register form with 32-bit operand gives all of CR0). */
export function smsw(): u32 { return crRead(0, load<u32>(STATE_BASE + S_CR0)); }

export function clts(): void {
  if (!privileged()) return;
  if (guestMode != 0 && icptClts()) return;
  const old = load<u32>(STATE_BASE + S_CR0);
  const v = old & ~CR0_TS;
  store<u32>(STATE_BASE + S_CR0, guestMode != 0 ? guestCrWrite(0, old, v) : v);
}

export function invlpg(lin: u32): void {
  if (!privileged()) return;
  if (guestMode != 0 && icptInvlpg(lin)) return;
  noteInvlpg(lin);
  tlbFlushPage(lin);
}

/** INVD/WBINVD: privileged, no cache to act on. INVD always exits in non-root operation,
 *  WBINVD with WBINVD exiting (SDM vol. 3C, 26.1.2, 26.1.3). */
export function invd(): void {
  if (!privileged()) return;
  if (guestMode != 0) icptInvd();
}
export function wbinvd(): void {
  if (!privileged()) return;
  if (guestMode != 0) icptWbinvd();
}
