/**
 * A tiny host for test guests: runs a Multiboot kernel on a wasmvisor `Core` with just
 * enough platform to report results the way QEMU shows them:
 * - writes to COM1's transmit register (port 0x3f8) are collected as text;
 * - COM1's line status register (0x3fd) reads 0x60 (transmitter empty, 16550A datasheet,
 *   LSR bits 5 and 6), every other port read returns 0xff (an empty ISA bus);
 * - a write to QEMU's isa-debug-exit port 0xf4 ends the run with status (value << 1) | 1;
 * - writes to the checkpoint port (0xE9 by default) record the registers;
 * - external interrupts only where the caller scripts them (`interrupts`, standing in for
 *   the PIC): in order, each either at the next HLT or as soon as the guest can take one
 *   (the core's interrupt-window exit); otherwise HLT ends the run;
 * - a shutdown, an invalid state or the step budget end the run.
 * No devices: guests that need a PC use the machine, not this harness.
 */

import type { Core, Exit, Regs } from '../core/types.js';
import { bootMultiboot, type MultibootOptions } from '../boot/multiboot.js';

export const COM1_THR = 0x3f8;
export const COM1_LSR = 0x3fd;
export const DEBUG_EXIT_PORT = 0xf4;
/**
 * Checkpoint port: the 0xE9 debug port of Bochs and QEMU (ignored by QEMU without
 * -debugcon, a no-op in v86). A guest writes `out 0xe9, eax`, which clobbers no register.
 */
export const CHECKPOINT_PORT = 0xe9;

/** The registers a checkpoint records (the same set the v86 side can read). */
export interface Checkpoint {
  /** The value written to the checkpoint port (AL, AX or EAX). */
  value: number;
  eax: number; ecx: number; edx: number; ebx: number;
  esp: number; ebp: number; esi: number; edi: number;
  eflags: number;
  /**
   * EIP of the checkpoint OUT itself: wasmvisor reports an I/O exit with EIP still at the
   * instruction (it completes on the next run()); v86 keeps it in `previous_ip`.
   */
  eip: number;
  /** The emulator's instruction counter at the checkpoint (v86's lags by up to a batch). */
  instructions?: number;
}

export type EndReason = 'exit' | 'budget' | 'hlt' | 'shutdown' | 'invalid';

export interface GuestRun {
  output: string;
  /** QEMU-style exit status ((value << 1) | 1) when the guest wrote port 0xf4, else null. */
  exitStatus: number | null;
  end: EndReason;
  /** Why the run ended, for messages ("shutdown: triple fault", ...). */
  detail: string;
  instructions: number;
  checkpoints: Checkpoint[];
}

export interface HarnessOptions extends Omit<MultibootOptions, 'ramBytes'> {
  /** Step budget: instructions executed before the run is stopped (default 50 million). */
  maxInstructions?: number;
  checkpointPort?: number;
  /**
   * Scripted external interrupts, in order: `hlt` delivers the vector at the next HLT
   * (which must have IF=1); `window` delivers it as soon as the guest can take an
   * interrupt (IF=1 and no interrupt shadow), through the core's 'irq-window' exit.
   */
  interrupts?: { when: 'hlt' | 'window'; vector: number }[];
}

export function checkpointOf(regs: Regs, value: number): Checkpoint {
  return {
    value,
    eax: regs.eax >>> 0, ecx: regs.ecx >>> 0, edx: regs.edx >>> 0, ebx: regs.ebx >>> 0,
    esp: regs.esp >>> 0, ebp: regs.ebp >>> 0, esi: regs.esi >>> 0, edi: regs.edi >>> 0,
    eflags: regs.eflags >>> 0,
    eip: regs.eip >>> 0,
  };
}

/** Boots `image` on `core` (which is reset) and runs it to its end. */
export function runGuest(core: Core, image: Uint8Array, opts: HarnessOptions = {}): GuestRun {
  const budget = opts.maxInstructions ?? 50_000_000;
  const ckPort = opts.checkpointPort ?? CHECKPOINT_PORT;
  bootMultiboot(core, image, opts);
  const start = core.counters().instructions;
  const chars: string[] = [];
  const checkpoints: Checkpoint[] = [];
  const script = (opts.interrupts ?? []).slice();
  const armWindow = () => core.requestInterruptWindow(script[0]?.when === 'window');
  armWindow();
  const result = (end: EndReason, detail: string, exitStatus: number | null = null): GuestRun => ({
    output: chars.join(''),
    exitStatus,
    end,
    detail,
    instructions: core.counters().instructions - start,
    checkpoints,
  });
  for (;;) {
    const used = core.counters().instructions - start;
    if (used >= budget) return result('budget', `step budget of ${budget} instructions spent`);
    const exit: Exit = core.run(Math.min(budget - used, 1_000_000));
    switch (exit.reason) {
      case 'budget':
        continue;
      case 'io':
        if (exit.write) {
          if (exit.port === COM1_THR) chars.push(String.fromCharCode(exit.value & 0xff));
          else if (exit.port === DEBUG_EXIT_PORT) {
            const code = exit.value & 0xff;
            return result('exit', `isa-debug-exit ${code}`, (code << 1) | 1);
          }
          else if (exit.port === ckPort) {
            const instructions = core.counters().instructions - start;
            checkpoints.push({ ...checkpointOf(core.getRegs(), exit.value >>> 0), instructions });
          }
        } else {
          const v = exit.port === COM1_LSR ? 0x60 : 0xff;
          // The byte repeated over the access size.
          core.completeIo(exit.size === 1 ? v : exit.size === 2 ? v * 0x101
            : (v * 0x1010101) >>> 0);
        }
        continue;
      case 'mmio':
        if (!exit.write) {
          core.completeIo(exit.size === 4 ? 0xffffffff : exit.size === 2 ? 0xffff : 0xff);
        }
        continue;
      case 'hlt': {
        if (script[0]?.when !== 'hlt') return result('hlt', 'HLT with no interrupt source');
        const { vector } = script.shift()!;
        if (!core.canInjectInterrupt()) {
          return result('hlt', `HLT with interrupts off (vector ${vector} not delivered)`);
        }
        core.injectInterrupt(vector);
        armWindow();
        continue;
      }
      case 'irq-window': {
        if (script[0]?.when === 'window' && core.canInjectInterrupt()) {
          core.injectInterrupt(script.shift()!.vector);
          armWindow();
        }
        continue;
      }
      case 'shutdown':
        return result('shutdown', `shutdown: ${exit.why}`);
      case 'invalid':
        return result('invalid', `invalid state: ${exit.why}`);
    }
  }
}
