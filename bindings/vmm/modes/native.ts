/**
 * Native mode: the guest runs directly on the emulated CPU, which exits to the host only
 * for port and MMIO accesses, HLT and interrupt windows (today's behaviour, unchanged).
 */
import type { Core, Exit } from '../../core/types.js';
import type { ModeOps, VmmStats } from './ops.js';

export class NativeOps implements ModeOps {
  readonly mode = 'native' as const;
  constructor(private readonly core: Core) {}
  run(budget: number): Exit { return this.core.run(budget); }
  interruptsEnabled(): boolean { return (this.core.getRegs().eflags & 0x200) !== 0; }
  canInjectInterrupt(): boolean { return this.core.canInjectInterrupt(); }
  injectInterrupt(vector: number): void { this.core.injectInterrupt(vector); }
  requestInterruptWindow(on: boolean): void { this.core.requestInterruptWindow(on); }
  stats(): VmmStats | undefined { return undefined; }
}
