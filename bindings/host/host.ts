/**
 * A host: many VMs at once, each in its own Node worker thread with its own WebAssembly
 * instance, scheduled onto `threads` host threads by a credit scheduler in virtual time
 * (scheduler.ts). The management API (libvirt's verbs): start, list, pause, resume, stop,
 * console, input, stats, save. A VM's guest may do anything; it ends its own VM with a
 * reason (triple fault, a limit, its thread's failure) and the others go on.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { StopReason } from '../vmm/vcpu.js';
import type { MachineStats } from '../machine/machine.js';
import { CreditScheduler, jainIndex, DEFAULT_WEIGHT, type SchedulerStats } from './scheduler.js';
import type { FromVmWorker, ToVmWorker, VmSource } from './protocol.js';

export interface VmSpec {
  name?: string;
  /** A vm.json (as `wasmvisor ovf import` writes it). */
  config?: string;
  /** A Multiboot kernel. */
  kernel?: string;
  /** A snapshot file to continue. */
  snapshot?: string;
  /** The bundled JeOS (the default when no other source is given). */
  jeos?: boolean;
  cmdline?: string;
  /** Guest RAM in MiB for jeos and kernel sources (default 64). */
  memMiB?: number;
  /** Credit-scheduler weight (default 256, Xen's) and cap (percent of one thread, 0 none). */
  weight?: number;
  cap?: number;
  /** The VM is stopped (reason "limit") after this many instructions. */
  maxInstructions?: number;
  /** The VM is stopped (reason "console-flood") once it wrote this many console bytes. */
  consoleLimit?: number;
  /** COM1 input may come: a halted guest waits in real time instead of ending. */
  interactive?: boolean;
}

export type VmState = 'starting' | 'running' | 'idle' | 'paused' | 'ended' | 'failed';

/** Why a VM ended: the guest's own stop, or the host's. */
export type EndReason =
  | StopReason
  | { kind: 'stopped'; why: string }
  | { kind: 'console-flood'; bytes: number }
  | { kind: 'failed'; why: string };

export interface VmInfo {
  id: number;
  name: string;
  state: VmState;
  reason?: EndReason;
  what?: string;
  ramBytes: number;
  instructions: number;
  virtualNs: number;
  weight: number;
  cap: number;
  /** Credit left (instructions) and slices run. */
  credit: number;
  slices: number;
  /** Work charged by the scheduler, and its share of all VMs' work. */
  work: number;
  share: number;
  /** Console bytes written in all, and the ones the host no longer keeps. */
  consoleBytes: number;
  consoleDropped: number;
  /** Wall-clock wait between becoming runnable and running (the scheduling jitter). */
  waitMsMean: number;
  waitMsMax: number;
  /** Wall-clock seconds the VM's thread spent running slices. */
  runSeconds: number;
}

export interface HostOptions {
  /** Host threads (default: the machine's available parallelism). */
  threads?: number;
  slice?: number;
  period?: number;
  /** Total guest RAM the host grants (default 2 GiB); a VM beyond it is refused. */
  memoryBudget?: number;
  /** Console bytes kept per VM (default 1 MiB; older ones are dropped and counted). */
  consoleKeep?: number;
  /** V8 heap limit of each VM's thread in MiB (default 256). */
  workerHeapMiB?: number;
}

const IDLE_POLL_MS = 10;

interface Vm {
  id: number;
  name: string;
  spec: VmSpec;
  worker: Worker;
  state: VmState;
  reason?: EndReason;
  what?: string;
  ramBytes: number;
  instructions: number;
  virtualNs: number;
  console: Uint8Array[];
  consoleKept: number;
  consoleBytes: number;
  consoleDropped: number;
  readyAt: number;
  waits: number;
  waitTotal: number;
  waitMax: number;
  runMs: number;
  dispatchedAt: number;
  listeners: Set<(b: Uint8Array) => void>;
  pending: Map<string, (m: FromVmWorker) => void>;
  done: Promise<void>;
  finish: () => void;
}

/** The VM thread: the built vm-worker.js, or (running from the sources, as the tests do)
 *  vm-worker.ts through tsx's loader. */
function newWorker(heapMiB: number): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: heapMiB };
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./vm-worker.js', import.meta.url), { resourceLimits });
  }
  const entry = new URL('./vm-worker.ts', import.meta.url).href;
  const code = `import('tsx/esm/api').then((t) => { t.register(); return import(${
    JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, resourceLimits });
}

export class Host {
  readonly scheduler: CreditScheduler;
  private readonly vms = new Map<number, Vm>();
  private nextId = 1;
  private readonly memoryBudget: number;
  private readonly consoleKeep: number;
  private readonly heapMiB: number;
  private closed = false;

  constructor(opts: HostOptions = {}) {
    this.scheduler = new CreditScheduler({
      threads: opts.threads ?? availableParallelism(), slice: opts.slice, period: opts.period,
    });
    this.memoryBudget = opts.memoryBudget ?? 2 ** 31;
    this.consoleKeep = opts.consoleKeep ?? 1 << 20;
    this.heapMiB = opts.workerHeapMiB ?? 256;
  }

  /** RAM granted to the VMs that have not ended. */
  get memoryInUse(): number {
    let n = 0;
    for (const v of this.vms.values()) if (!this.over(v)) n += v.ramBytes;
    return n;
  }

  /** Starts a VM in its own thread; resolves with its id once it has booted (or fails). */
  async start(spec: VmSpec): Promise<number> {
    if (this.closed) throw new Error('the host is closed');
    const sources = ['config', 'kernel', 'snapshot'].filter((k) => spec[k as keyof VmSpec]);
    if (sources.length > 1) throw new RangeError(`give one of config, kernel, snapshot`);
    const source: VmSource = spec.config ? { kind: 'config', path: resolve(spec.config) }
      : spec.kernel ? { kind: 'kernel', path: resolve(spec.kernel), cmdline: spec.cmdline }
      : spec.snapshot ? { kind: 'snapshot', path: resolve(spec.snapshot) }
      : { kind: 'jeos', cmdline: spec.cmdline };
    const ramBytes = (spec.memMiB ?? 64) * 2 ** 20;
    if (source.kind !== 'config' && source.kind !== 'snapshot' &&
        this.memoryInUse + ramBytes > this.memoryBudget) {
      throw new RangeError(`${spec.name ?? 'VM'}: ${ramBytes / 2 ** 20} MiB of RAM exceeds ` +
        `the host's memory budget (${(this.memoryBudget - this.memoryInUse) / 2 ** 20} MiB ` +
        'left)');
    }
    const id = this.nextId++;
    const worker = newWorker(this.heapMiB);
    let finish!: () => void;
    const done = new Promise<void>((r) => { finish = r; });
    const vm: Vm = {
      id, name: spec.name ?? `vm${id}`, spec, worker, state: 'starting', ramBytes,
      instructions: 0, virtualNs: 0, console: [], consoleKept: 0, consoleBytes: 0,
      consoleDropped: 0, readyAt: 0, waits: 0, waitTotal: 0, waitMax: 0, runMs: 0,
      dispatchedAt: 0, listeners: new Set(), pending: new Map(), done, finish,
    };
    this.vms.set(id, vm);
    const ready = new Promise<void>((ok, fail) => {
      vm.pending.set('ready', (m) => {
        if (m.type === 'ready') {
          vm.ramBytes = m.ramBytes;
          vm.what = m.what;
          ok();
        } else fail(new Error(`${vm.name}: ${m.type === 'failed' ? m.error : 'failed'}`));
      });
    });
    worker.on('message', (m: FromVmWorker) => this.onMessage(vm, m));
    worker.on('error', (e) => this.end(vm, { kind: 'failed', why: `its thread failed: ${
      (e as Error).message}` }, 'failed'));
    worker.on('exit', (code) => {
      if (!this.over(vm)) this.end(vm, { kind: 'failed', why: `its thread exited (${code})` },
        'failed');
    });
    worker.postMessage({ type: 'init', init: {
      name: vm.name, source, ramBytes, interactive: spec.interactive ?? false,
    } } satisfies ToVmWorker);
    try {
      await ready;
    } catch (e) {
      this.end(vm, { kind: 'failed', why: (e as Error).message }, 'failed');
      throw e;
    }
    if (this.over(vm)) throw new Error(`${vm.name}: ${JSON.stringify(vm.reason)}`);
    this.scheduler.add(id, spec.weight ?? DEFAULT_WEIGHT, spec.cap ?? 0);
    vm.state = 'running';
    vm.readyAt = performance.now();
    this.pump();
    return id;
  }

  private over(vm: Vm): boolean { return vm.state === 'ended' || vm.state === 'failed'; }

  private onMessage(vm: Vm, m: FromVmWorker): void {
    if (m.type === 'ready' || m.type === 'failed') {
      const p = vm.pending.get('ready');
      vm.pending.delete('ready');
      p?.(m);
      return;
    }
    if (m.type === 'stats' || m.type === 'saved') {
      const p = vm.pending.get(m.type);
      vm.pending.delete(m.type);
      p?.(m);
      return;
    }
    // 'ran': a slice is over.
    vm.runMs += performance.now() - vm.dispatchedAt;
    this.scheduler.charge(vm.id, m.work);
    vm.instructions = m.instructions || vm.instructions;
    vm.virtualNs = m.virtualNs || vm.virtualNs;
    if (m.out) this.consoleIn(vm, m.out);
    const max = vm.spec.maxInstructions;
    const limit = vm.spec.consoleLimit;
    if (this.over(vm)) { this.pump(); return; }
    if (m.stop.kind !== 'limit') this.end(vm, m.stop, 'ended');
    else if (limit !== undefined && vm.consoleBytes >= limit) {
      this.end(vm, { kind: 'console-flood', bytes: vm.consoleBytes }, 'ended');
    } else if (max !== undefined && vm.instructions >= max) {
      this.end(vm, { kind: 'limit' }, 'ended');
    } else if (m.idle && vm.state === 'running') {
      vm.state = 'idle';
      this.scheduler.setRunnable(vm.id, false);
      setTimeout(() => {
        if (vm.state !== 'idle') return;
        vm.state = 'running';
        this.scheduler.setRunnable(vm.id, true);
        vm.readyAt = performance.now();
        this.pump();
      }, IDLE_POLL_MS);
    } else {
      vm.readyAt = performance.now();
    }
    this.pump();
  }

  private consoleIn(vm: Vm, bytes: Uint8Array): void {
    vm.consoleBytes += bytes.length;
    vm.console.push(bytes);
    vm.consoleKept += bytes.length;
    while (vm.consoleKept > this.consoleKeep && vm.console.length) {
      const first = vm.console[0];
      const extra = vm.consoleKept - this.consoleKeep;
      if (first.length <= extra) {
        vm.console.shift();
        vm.consoleKept -= first.length;
        vm.consoleDropped += first.length;
      } else {
        vm.console[0] = first.subarray(extra);
        vm.consoleKept -= extra;
        vm.consoleDropped += extra;
      }
    }
    for (const l of vm.listeners) l(bytes);
  }

  /** Dispatches slices to free threads. */
  private pump(): void {
    for (;;) {
      const e = this.scheduler.pick();
      if (!e) return;
      const vm = this.vms.get(e.id)!;
      const now = performance.now();
      const wait = now - vm.readyAt;
      vm.waits++;
      vm.waitTotal += wait;
      vm.waitMax = Math.max(vm.waitMax, wait);
      vm.dispatchedAt = now;
      let budget = this.scheduler.budgetOf(e);
      if (vm.spec.maxInstructions !== undefined) {
        budget = Math.max(1, Math.min(budget, vm.spec.maxInstructions - vm.instructions));
      }
      vm.worker.postMessage({ type: 'run', budget } satisfies ToVmWorker);
    }
  }

  private end(vm: Vm, reason: EndReason, state: 'ended' | 'failed'): void {
    if (this.over(vm)) return;
    vm.state = state;
    vm.reason = reason;
    const e = this.scheduler.get(vm.id);
    if (e) { e.runnable = false; }
    // A slice in flight is lost with the thread: its thread is freed now.
    if (e?.running) this.scheduler.charge(vm.id, 0);
    void vm.worker.terminate();
    const why = 'why' in reason ? reason.why : reason.kind;
    for (const [, p] of vm.pending) p({ type: 'failed', error: why });
    vm.pending.clear();
    vm.finish();
    this.pump();
  }

  private find(id: number | string): Vm {
    const vm = typeof id === 'number' ? this.vms.get(id)
      : [...this.vms.values()].find((v) => v.name === id || String(v.id) === id);
    if (!vm) throw new RangeError(`no VM ${id}`);
    return vm;
  }

  /** The VMs with their state and counters. */
  list(): VmInfo[] {
    const entities = this.scheduler.entities();
    const total = entities.reduce((n, e) => n + e.used, 0);
    return [...this.vms.values()].map((v) => {
      const e = this.scheduler.get(v.id);
      return {
        id: v.id, name: v.name, state: v.state, ...(v.reason ? { reason: v.reason } : {}),
        ...(v.what ? { what: v.what } : {}), ramBytes: v.ramBytes,
        instructions: v.instructions, virtualNs: v.virtualNs,
        weight: e?.weight ?? v.spec.weight ?? DEFAULT_WEIGHT, cap: e?.cap ?? v.spec.cap ?? 0,
        credit: e?.credit ?? 0, slices: e?.slices ?? 0, work: e?.used ?? 0,
        share: total ? (e?.used ?? 0) / total : 0,
        consoleBytes: v.consoleBytes, consoleDropped: v.consoleDropped,
        waitMsMean: v.waits ? v.waitTotal / v.waits : 0, waitMsMax: v.waitMax,
        runSeconds: v.runMs / 1000,
      };
    });
  }

  info(id: number | string): VmInfo {
    const vm = this.find(id);
    return this.list().find((i) => i.id === vm.id)!;
  }

  /** The scheduler's parameters and fairness: Jain's index over the VMs that ran. */
  schedulerStats(): SchedulerStats & { fairness: number } {
    const ran = this.scheduler.entities().filter((e) => e.used > 0);
    return { ...this.scheduler.stats(), fairness: jainIndex(ran) };
  }

  pause(id: number | string): void {
    const vm = this.find(id);
    if (this.over(vm) || vm.state === 'paused') return;
    vm.state = 'paused';
    this.scheduler.setRunnable(vm.id, false);
  }

  resume(id: number | string): void {
    const vm = this.find(id);
    if (vm.state !== 'paused') return;
    vm.state = 'running';
    vm.readyAt = performance.now();
    this.scheduler.setRunnable(vm.id, true);
    this.pump();
  }

  stop(id: number | string, why = 'stopped by the host'): void {
    this.end(this.find(id), { kind: 'stopped', why }, 'ended');
  }

  /** The console bytes the host keeps (the last `consoleKeep`). */
  console(id: number | string): Uint8Array {
    const vm = this.find(id);
    const out = new Uint8Array(vm.consoleKept);
    let at = 0;
    for (const c of vm.console) { out.set(c, at); at += c.length; }
    return out;
  }

  /** Calls `listener` with each new console chunk; returns the function that detaches. */
  attach(id: number | string, listener: (bytes: Uint8Array) => void): () => void {
    const vm = this.find(id);
    vm.listeners.add(listener);
    return () => vm.listeners.delete(listener);
  }

  input(id: number | string, bytes: Uint8Array): void {
    const vm = this.find(id);
    if (!this.over(vm)) vm.worker.postMessage({ type: 'input', bytes } satisfies ToVmWorker);
  }

  private ask<T extends FromVmWorker['type']>(vm: Vm, type: T, msg: ToVmWorker):
    Promise<Extract<FromVmWorker, { type: T }>> {
    if (this.over(vm)) return Promise.reject(new Error(`${vm.name} has ended`));
    return new Promise((ok, fail) => {
      vm.pending.set(type, (m) => {
        if (m.type === 'failed') fail(new Error(`${vm.name}: ${m.error}`));
        else ok(m as Extract<FromVmWorker, { type: T }>);
      });
      vm.worker.postMessage(msg);
    });
  }

  /** The VM's full machine counters (MachineStats). */
  async stats(id: number | string): Promise<MachineStats> {
    return (await this.ask(this.find(id), 'stats', { type: 'stats' })).stats;
  }

  /** A snapshot of the VM (docs/snapshots.md), taken between two of its slices. */
  async save(id: number | string): Promise<Uint8Array> {
    const r = await this.ask(this.find(id), 'saved', { type: 'save' });
    if (!r.bytes) throw new Error(r.error ?? 'save failed');
    return r.bytes;
  }

  /** Resolves when VM `id` has ended. */
  async wait(id: number | string): Promise<VmInfo> {
    const vm = this.find(id);
    await vm.done;
    return this.info(vm.id);
  }

  /** Resolves when every VM has ended. */
  async waitAll(): Promise<VmInfo[]> {
    await Promise.all([...this.vms.values()].map((v) => v.done));
    return this.list();
  }

  /** Stops every VM and ends their threads. */
  async close(): Promise<void> {
    this.closed = true;
    for (const vm of this.vms.values()) {
      if (!this.over(vm)) this.end(vm, { kind: 'stopped', why: 'the host closed' }, 'ended');
    }
    await Promise.all([...this.vms.values()].map((v) => v.worker.terminate()));
  }
}
