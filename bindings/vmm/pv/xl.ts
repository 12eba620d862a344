/**
 * The management domain (Xen's Dom0 with its toolstack, `xl`): it runs in the host, in
 * TypeScript, owns the devices and the backends, and creates, lists and destroys PV
 * domains. Each DomU is a machine of its own (one WebAssembly instance, its own memory and
 * VMM), so one DomU's crash ends that domain alone: the others and the management domain go
 * on. They run round-robin, a slice of instructions each, on one host thread.
 */
import { Machine, type MachineConfig } from '../../machine/machine.js';
import type { StopReason } from '../vcpu.js';
import type { PvDomain, PvStats } from './domain.js';

export type DomainState = 'running' | 'blocked' | 'shutdown' | 'crashed' | 'destroyed';

export interface DomainInfo {
  id: number;
  name: string;
  state: DomainState;
  memMiB: number;
  /** Guest instructions executed so far. */
  instructions: number;
  /** How it stopped (for shutdown and crashed domains). */
  stop?: string;
  hypercalls: number;
}

interface Dom {
  id: number;
  name: string;
  machine: Machine;
  console: string;
  memMiB: number;
  stop?: StopReason;
  destroyed?: boolean;
}

const stopText = (s: StopReason): string =>
  s.kind === 'shutdown' || s.kind === 'invalid' || s.kind === 'halted' ? `${s.kind}: ${s.why}`
    : s.kind === 'exit' ? `exit ${s.status}` : s.kind;

export class ManagementDomain {
  private readonly doms = new Map<number, Dom>();
  /** Domain 0 is the management domain itself (xl list shows it first, as Xen's does). */
  private next = 1;

  /** Console bytes of domain `id` as they come (xl console), besides the kept text. */
  onConsole?: (id: number, text: string) => void;

  /** xl create: builds a PV domain from a machine configuration (its kernel must be a PV
   *  kernel); returns its id. */
  async create(name: string, config: MachineConfig): Promise<number> {
    const id = this.next++;
    const dom = { id, name, console: '', memMiB: config.ramBytes / 2 ** 20 } as Dom;
    dom.machine = await Machine.create({
      ...config, mode: 'pv',
      pv: { domid: id, peers: (d) => this.doms.get(d)?.machine.pvDomain },
      serialOut: (b) => {
        const c = String.fromCharCode(b);
        dom.console += c;
        this.onConsole?.(id, c);
      },
    });
    this.doms.set(id, dom);
    return id;
  }

  /** xl list: Domain-0 first, then every domain created, destroyed ones left out. */
  list(): DomainInfo[] {
    const out: DomainInfo[] = [{ id: 0, name: 'Domain-0', state: 'running', memMiB: 0,
      instructions: 0, hypercalls: 0 }];
    for (const d of this.doms.values()) {
      if (d.destroyed) continue;
      const s = d.machine.stats();
      const pv = s.vmm?.pv as PvStats | undefined;
      const state: DomainState = !d.stop ? (d.machine.isHalted ? 'blocked' : 'running')
        : d.stop.kind === 'poweroff' || d.stop.kind === 'reset' ? 'shutdown' : 'crashed';
      out.push({ id: d.id, name: d.name, state, memMiB: d.memMiB,
        instructions: s.instructions, hypercalls: pv ? Object.values(pv.hypercalls)
          .reduce((a, b) => a + b, 0) : 0, ...(d.stop ? { stop: stopText(d.stop) } : {}) });
    }
    return out;
  }

  /** The PV domain `id` (its hypercalls, event channels, frames), undefined when gone. */
  domain(id: number): PvDomain | undefined {
    const d = this.doms.get(id);
    return d && !d.destroyed ? d.machine.pvDomain : undefined;
  }

  /** xl console: what domain `id` has printed so far. */
  console(id: number): string {
    const d = this.doms.get(id);
    if (!d || d.destroyed) throw new RangeError(`xl: no domain ${id}`);
    return d.console;
  }

  /** xl destroy: the domain ends at once; its machine is dropped. */
  destroy(id: number): void {
    const d = this.doms.get(id);
    if (!d || d.destroyed) throw new RangeError(`xl: no domain ${id}`);
    d.destroyed = true;
    d.machine.halt({ kind: 'shutdown', why: 'destroyed by the management domain' });
  }

  /** Runs every live domain round-robin, `slice` instructions at a time, until all have
   *  stopped or each has had `maxInstructions`. */
  run(maxInstructions = Infinity, slice = 200_000): void {
    const budget = new Map<number, number>();
    for (;;) {
      let ran = false;
      for (const d of this.doms.values()) {
        if (d.destroyed || d.stop) continue;
        const used = budget.get(d.id) ?? 0;
        if (used >= maxInstructions) continue;
        const n = Math.min(slice, maxInstructions - used);
        const before = d.machine.stats().instructions;
        // A blocked domain waits on the virtual clock: a slice of time, not instructions.
        const stop = d.machine.run(n, d.machine.stats().virtualNs + 10_000_000);
        budget.set(d.id, used + Math.max(d.machine.stats().instructions - before, 1));
        if (stop.kind !== 'limit') d.stop = stop;
        ran = true;
      }
      if (!ran) return;
    }
  }
}
