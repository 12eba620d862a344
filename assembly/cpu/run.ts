// The run loop: executes instructions until something needs the host (an exit, KVM_RUN
// style), taking interrupts and exceptions at instruction boundaries.
import {
  STATE_BASE, S_EIP, S_EFLAGS, S_ESP, S_INT_SHADOW, S_NMI_PENDING, S_NMI_BLOCKED, S_INTR_PENDING,
  S_IRQ_WINDOW, S_HALTED, S_GIF_CLEAR, S_EXIT_REASON, S_EXIT_DETAIL, S_CNT_INSN, S_CNT_TLB_HIT,
  S_CNT_INTR,
  S_CNT_EXC, S_CNT_SLOW, S_TSC, S_TSC_PER_INSN, EXIT_BUDGET, EXIT_DEBUG, EXIT_HLT,
  EXIT_IRQ_WINDOW,
  EXIT_SHUTDOWN, WHY_TRIPLE_FAULT, WHY_BAD_STATE,
} from '../generated/layout';
import { ip, setIp, startIp, segUpdateAll, updateCpl } from './access';
import { flags, getFlags, setFlags, IF, TF, RF } from './flags';
import {
  debugActive, instructionHits, recordDr6, dataHits, clearDataHits, hostDebug, hostBreakAt,
} from './debug';
import { segBase, CS } from './state';
import {
  faulted, exitPending, excVector, excCode, excHasCode, clearFault, DF_VEC, vmExitRaised,
  vmExitTrap,
} from './fault';
import {
  guestMode, guestBoundary, vmExitPerform, NO_EXIT, guestIntrOpen, setInjecting,
} from '../vmm/guest';
import { icptShutdown, icptException } from '../vmm/intercept';
import { logLen, logClear, logRewind } from './iolog';
import { step } from './exec';
import { prefixPending, clearPrefixPending } from './prefixes';
import { shadowNext, clearShadowNext, softIntDelivered, clearSoftInt } from './shadow';
import { attention, needAttention, recomputeAttention } from './events';
import { takeHits } from '../mem/tlb';
import { tscRetired, setTscRetired, setTscPerInsn, setSliceCount, sliceCount } from './tsc';
import { deliver, combineFaults, EV_EXTERNAL, EV_NMI, EV_HW_EXCEPTION } from './system/interrupts';

@inline function field(off: u32): u32 { return load<u32>(STATE_BASE + off); }
@inline function setField(off: u32, v: u32): void { store<u32>(STATE_BASE + off, v); }

/** Loads the engine's working copies (EIP, EFLAGS, derived segment data) from the state block. */
export function enterState(): void {
  needAttention();
  setIp(field(S_EIP));
  setFlags(field(S_EFLAGS));
  updateCpl();
  segUpdateAll();
  setTscRetired(0);
  setTscPerInsn(<u64>field(S_TSC_PER_INSN));
}

/** Writes the working copies back so the state block is complete while the core is stopped. */
export function leaveState(): void {
  setField(S_EIP, ip);
  setField(S_EFLAGS, getFlags());
  const n = tscRetired;
  store<u64>(STATE_BASE + S_CNT_INSN, load<u64>(STATE_BASE + S_CNT_INSN) + n);
  store<u64>(STATE_BASE + S_TSC, load<u64>(STATE_BASE + S_TSC) + n * <u64>field(S_TSC_PER_INSN));
  setTscRetired(0);
  store<u64>(STATE_BASE + S_CNT_TLB_HIT, load<u64>(STATE_BASE + S_CNT_TLB_HIT) + takeHits());
}

@inline function bump(off: u32): void {
  store<u64>(STATE_BASE + off, load<u64>(STATE_BASE + off) + 1);
}

function shutdown(why: u32): u32 {
  setField(S_EXIT_REASON, EXIT_SHUTDOWN);
  setField(S_EXIT_DETAIL, why);
  return EXIT_SHUTDOWN;
}

/** deliverEvent() outcomes: delivered, shutdown (triple fault), a VM exit was raised. */
const DLV_OK: u32 = 0;
const DLV_SHUTDOWN: u32 = 1;
const DLV_VMEXIT: u32 = 2;

/**
 * Delivers an event; a fault during delivery becomes #DF or, during #DF, a shutdown
 * (SDM vol. 3A, 6.15, interrupt 8). In non-root operation the delivery may end in a VM exit
 * (an intercepted exception, an EPT violation, the triple fault: SDM vol. 3C, 26.2).
 */
function deliverEvent(vector: u32, type: u32, code: u32, hasCode: bool): u32 {
  let v: i32 = <i32>vector, t = type, c = code, h = hasCode;
  for (let tries = 0; tries < 3; tries++) {
    deliver(<u32>v, t, c, h);
    if (!faulted) { setField(S_HALTED, 0); return DLV_OK; }
    if (exitPending) {
      const vm = vmExitRaised;
      clearFault(); logClear();
      return vm ? DLV_VMEXIT : DLV_SHUTDOWN;
    }
    const second = excVector;
    const sc = excCode, sh = excHasCode;
    clearFault();
    if (guestMode != 0) {
      // Only the first attempt of an injected event is exempt from the intercepts; an
      // exception raised while delivering exits on its own before it is combined into a
      // #DF (SDM vol. 3C, 26.2 and 28.2.4; AMD APM vol. 2, 15.7.2 and 15.12).
      setInjecting(false);
      if (second >= 0 && icptException(<u32>second, sc, sh, EV_HW_EXCEPTION)) {
        clearFault(); logClear();
        return DLV_VMEXIT;
      }
    }
    const soft = t != EV_HW_EXCEPTION && t != EV_EXTERNAL && t != EV_NMI;
    const next = soft ? second : combineFaults(v, second);
    if (next < 0) break;
    if (next == DF_VEC) { v = DF_VEC; t = EV_HW_EXCEPTION; c = 0; h = true; }
    else { v = next; t = EV_HW_EXCEPTION; c = sc; h = sh; }
  }
  // A triple fault in non-root operation is a VM exit (SDM vol. 3C, 26.2, "triple fault").
  if (guestMode != 0 && icptShutdown()) { clearFault(); return DLV_VMEXIT; }
  return DLV_SHUTDOWN;
}

/** Event delivery for the vendor code (VM-entry event injection): NO_EXIT when delivered,
 *  else what the run loop returns (a shutdown, or the outcome of the VM exit). */
export function deliverForVmm(vector: u32, type: u32, code: u32, hasCode: bool): u32 {
  // Counted like the events the run loop delivers, so the counters mean deliveries to the
  // running software in root and non-root operation alike (an injected interrupt or NMI,
  // a virtual interrupt, an injected or reflected hardware exception).
  if (type == EV_EXTERNAL || type == EV_NMI) bump(S_CNT_INTR);
  else if (type == EV_HW_EXCEPTION) bump(S_CNT_EXC);
  const d = deliverEvent(vector, type, code, hasCode);
  if (d == DLV_OK) return NO_EXIT;
  if (d == DLV_VMEXIT) return vmExitPerform();
  return shutdown(WHY_TRIPLE_FAULT);
}

/** The reason runSlice() breaks with after an event delivery that did not succeed, or
 *  NO_EXIT to go on (a nested VM exit loaded the guest's VMM). */
function afterDelivery(d: u32): u32 {
  if (d == DLV_VMEXIT) return vmExitPerform();
  return shutdown(WHY_TRIPLE_FAULT);
}


/** Instructions of one slice: small enough that runSlice() is entered often, which lets
 *  the WebAssembly engine tier it up to optimized code (engines swap code on entry only). */
const SLICE: u32 = 4096;

let sliceDone: u32 = 0;
/** Instructions and event deliveries completed on the slow path (every one of them while
 *  non-root operation checks each boundary: the monitor trap flag, the preemption timer). */
export let boundaryTick: u32 = 0;
/** A single-step trap delayed by MOV SS / POP SS to the next instruction. */
let stepPending: bool = false;
/** RF and TF as the current instruction found them (kept only while debugging is active). */
let rfBefore: u32 = 0, tfBefore: u32 = 0;

/** Runs at most `budget` instructions; returns the exit reason (details in the state block). */
export function run(budget: u32): u32 {
  enterState();
  clearFault();
  logRewind(); // the instruction that exited replays its completed accesses
  let done: u32 = 0;
  let reason: u32 = EXIT_BUDGET;
  while (true) {
    const left = budget - done;
    const r = runSlice(left < SLICE ? left : SLICE);
    done += sliceDone;
    if (r != NO_EXIT) { reason = r; break; }
    if (done >= budget) {
      // One last boundary check so pending events are still taken before a budget exit.
      const r2 = runSlice(0);
      reason = r2 != NO_EXIT ? r2 : EXIT_BUDGET;
      break;
    }
  }
  setField(S_EXIT_REASON, reason);
  leaveState();
  return reason;
}

/** Executes up to `n` instructions; returns an exit reason or NO_EXIT. */
function runSlice(n: u32): u32 {
  let done: u32 = 0;     // budget used: instructions and delivered exceptions
  let events: u32 = 0;   // the exceptions among them (retired instructions: done - events)
  let reason: u32 = NO_EXIT;
  while (true) {
    // `attention` covers everything a boundary may have to do: events, shadows, debug,
    // prefixes. Events are taken between instructions, never while an instruction waits
    // for the host. Without it, instructions stay in the inner loop below.
    if (!attention) {
      if (done >= n) break;
    } else if (!prefixPending) { // between a prefix and its opcode nothing is taken
      bump(S_CNT_SLOW);
      if (logLen == 0 && guestMode != 0) {
        // Non-root operation: exits between instructions and event injection come first.
        const g = guestBoundary();
        if (g != NO_EXIT) { reason = g; break; }
      }
      if (logLen == 0) {
        const shadow = field(S_INT_SHADOW) != 0;
        // GIF (AMD APM vol. 2, 15.17): while clear, NMIs and interrupts stay pending.
        const gif = field(S_GIF_CLEAR) == 0;
        if (gif && field(S_NMI_PENDING) != 0 && field(S_NMI_BLOCKED) == 0 && !shadow) {
          setField(S_NMI_PENDING, 0);
          bump(S_CNT_INTR);
          const d = deliverEvent(2, EV_NMI, 0, false);
          if (d != DLV_OK) {
            reason = afterDelivery(d);
            if (reason != NO_EXIT) break;
            needAttention(); continue;
          }
        } else if (gif && ((flags & IF) != 0 || guestIntrOpen) && !shadow) {
          const p = field(S_INTR_PENDING);
          if ((p & 0x100) != 0) {
            setField(S_INTR_PENDING, 0);
            bump(S_CNT_INTR);
            const d = deliverEvent(p & 0xff, EV_EXTERNAL, 0, false);
            if (d != DLV_OK) {
              reason = afterDelivery(d);
              if (reason != NO_EXIT) break;
              needAttention(); continue;
            }
          } else if (field(S_IRQ_WINDOW) != 0) {
            setField(S_IRQ_WINDOW, 0);
            reason = EXIT_IRQ_WINDOW;
            break;
          }
        }
        // HLT exits to the host (which waits for an interrupt, as KVM's user-space HLT exit
        // does); the next run() continues after the HLT.
        if (field(S_HALTED) != 0) { setField(S_HALTED, 0); reason = EXIT_HLT; break; }
        recomputeAttention((flags & IF) != 0);
        if (debugActive || stepPending || hostDebug) needAttention();
      }
      if (done >= n) break;
      // The host debugger's breakpoints, before the instruction (nothing of it has run):
      // under attention, which hostDebug keeps set, as debugActive's checks below.
      if (attention && hostDebug && logLen == 0 && hostBreakAt(segBase(CS) + ip)) {
        reason = EXIT_DEBUG;
        break;
      }
      if (attention && debugActive) {
        rfBefore = flags & RF;
        // Instruction breakpoints fault before the instruction unless RF is set
        // (SDM vol. 3B, 17.3.1.1).
        if (rfBefore == 0 && logLen == 0) {
          const h = instructionHits(segBase(CS) + ip);
          if (h != 0) {
            recordDr6(h, false);
            bump(S_CNT_EXC);
            const d = deliverEvent(1, EV_HW_EXCEPTION, 0, false);
            done++; events++;
            if (d != DLV_OK) {
              reason = afterDelivery(d);
              if (reason != NO_EXIT) break;
              needAttention();
            }
            continue;
          }
        }
        tfBefore = flags & TF;
        clearDataHits();
        clearSoftInt();
      }
    }
    // Instructions that leave `attention` clear retire in this inner loop without coming
    // back to the boundary above. A fault or exit, a replayed host access and an interrupt
    // shadow all raise `attention` (fault.ts, run() via enterState(), shadow.ts).
    let esp0: u32 = 0;
    while (true) {
      esp0 = field(S_ESP);
      step(done - events);
      if (attention) break;
      done++;
      if (done >= n) break;
    }
    if (!attention) break; // the budget is spent
    if (faulted) {
      clearPrefixPending();
      if (!vmExitTrap) {
        setIp(startIp);
        setField(S_ESP, esp0);
      }
      clearShadowNext();
      if (exitPending) {
        if (vmExitRaised) {
          // A VM exit (raiseVmExit): it uses budget like a delivered exception, so a guest
          // that exits forever still returns to the host.
          clearFault();
          logClear();
          done++; events++;
          reason = vmExitPerform();
          if (reason != NO_EXIT) break;
          needAttention();
          continue;
        }
        clearFault();
        reason = field(S_EXIT_REASON);
        break;
      }
      const v = excVector, c = excCode, h = excHasCode;
      clearFault();
      logClear();
      bump(S_CNT_EXC);
      setField(S_INT_SHADOW, 0);
      needAttention();
      const d = deliverEvent(<u32>v, EV_HW_EXCEPTION, c, h);
      // A delivered exception uses budget (it is not a retired instruction), so a handler
      // that faults forever still returns to the host.
      done++; events++;
      boundaryTick++;
      if (d != DLV_OK) {
        reason = afterDelivery(d);
        if (reason != NO_EXIT) break;
        needAttention();
      }
      continue;
    }
    if (prefixPending) continue; // the opcode follows in the next step
    if (logLen != 0) logClear();
    done++;
    boundaryTick++;
    if (debugActive || stepPending) {
      // RF covers exactly one instruction; single-step and data breakpoints trap after the
      // instruction (SDM vol. 3B, 17.3.1.2-17.3.1.4); after MOV SS / POP SS the single-step
      // trap waits one more instruction.
      if (rfBefore != 0 && (flags & RF) != 0) setFlags(getFlags() & ~RF);
      let step1 = stepPending;
      stepPending = false;
      if (tfBefore != 0 && !softIntDelivered) {
        if (shadowNext) stepPending = true; else step1 = true;
      }
      tfBefore = 0; rfBefore = 0;
      const hits = dataHits;
      if (step1 || hits != 0) {
        recordDr6(hits, step1);
        clearDataHits();
        bump(S_CNT_EXC);
        const d = deliverEvent(1, EV_HW_EXCEPTION, 0, false);
        if (d != DLV_OK) {
          reason = afterDelivery(d);
          if (reason != NO_EXIT) break;
          needAttention(); continue;
        }
      }
    }
    // The shadow covers exactly the instruction after STI / MOV SS / POP SS.
    setField(S_INT_SHADOW, shadowNext ? 1 : 0);
    clearShadowNext();
    needAttention();
  }
  sliceDone = done;
  setTscRetired(tscRetired + <u64>(done - events));
  setSliceCount(0);
  return reason;
}

export function badState(): u32 { return shutdown(WHY_BAD_STATE); }
