/**
 * One VM's run loop, off the page's main thread. It boots what the page asks, runs the
 * machine in slices of about 30 ms so messages (input, pause, reset) get through, and posts
 * the console bytes, a sample of the counters every 250 ms and each JeOS workload's
 * counters as its line completes.
 */
import {
  Machine, costCounters, parseWorkloadLines, modeOptions, saveSnapshot, restoreSnapshot,
} from 'wasmvisor';
import type { BootPlan } from './files.js';
import type { BootRequest, FromWorker, Sample, ToWorker } from './protocol.js';

const post = (m: FromWorker, transfer: Transferable[] = []): void =>
  (self as unknown as Worker).postMessage(m, transfer);

/** Instructions per run() call, and wall time per slice of calls. */
const RUN_CHUNK = 1_000_000;
const SLICE_MS = 30;
const SAMPLE_MS = 250;

let machine: Machine | undefined;
let request: BootRequest | undefined;
let running = false;
let generation = 0;
let wallMs = 0;
let lastSample = 0;
let outBuf: number[] = [];
let lastState = '';
// Running time: wall clock since boot with the pauses left out.
let bootAt = 0;
let pausedAt = 0;
let pausedTotal = 0;
const elapsed = (): number => performance.now() - bootAt - pausedTotal;

const here = (file: string): string => new URL(file, self.location.href).href;
const cache = new Map<string, Promise<Uint8Array>>();
function fetchBytes(file: string): Promise<Uint8Array> {
  let p = cache.get(file);
  if (!p) {
    p = fetch(here(file)).then(async (r) => {
      if (!r.ok) throw new Error(`${file}: HTTP ${r.status}`);
      return new Uint8Array(await r.arrayBuffer());
    });
    cache.set(file, p);
  }
  return p;
}

// What the workload measurement keeps (as the package's runWorkloads does): the counters
// at the end of the previous line and at the first byte of the current one.
interface Snap { counters: Record<string, number>; exits: number; misses: number }
let line = '';
let prevEnd: Snap | undefined;
let lineStart: Snap | undefined;

function snap(): Snap | undefined {
  if (!machine) return undefined;
  const s = machine.stats();
  const counters = costCounters(s) as Record<string, number>;
  let exits = 0;
  for (const k in s.exits) if (k !== 'budget') exits += s.exits[k];
  if ((counters.vmExits ?? 0) > 0) exits = counters.vmExits;
  return { counters, exits, misses: s.core.tlbMisses };
}

function onLine(text: string): void {
  const end = snap();
  if (text.startsWith('wl ') && prevEnd && lineStart) {
    const [row] = parseWorkloadLines(text);
    if (row && row.iters && row.iters > 0) {
      const counters: Record<string, number> = {};
      for (const [k, v] of Object.entries(lineStart.counters)) {
        counters[k] = v - (prevEnd.counters[k] ?? 0);
      }
      post({ type: 'workload', result: {
        workload: row.name, iterations: row.iters, counters,
        exits: lineStart.exits - prevEnd.exits, tlbMisses: lineStart.misses - prevEnd.misses,
        guestPerIter: row.perIter, status: row.status,
      } });
    }
  }
  prevEnd = end;
  lineStart = undefined;
}

function serialOut(b: number): void {
  outBuf.push(b);
  if (b === 10) { onLine(line); line = ''; return; }
  if (line === '') lineStart = snap();
  if (b !== 13) line += String.fromCharCode(b);
}

function flushOut(): void {
  if (!outBuf.length) return;
  const bytes = Uint8Array.from(outBuf);
  outBuf = [];
  post({ type: 'out', bytes }, [bytes.buffer]);
}

function sample(): void {
  if (!machine) return;
  const s = machine.stats();
  const out: Sample = {
    wallMs, virtualNs: s.virtualNs, haltedNs: s.haltedNs, instructions: s.instructions,
    exits: s.exits, interruptsInjected: s.interruptsInjected, core: { ...s.core },
    costCounters: costCounters(s) as Record<string, number>,
    extra: {},
  };
  const known = new Set(['instructions', 'virtualNs', 'haltedNs', 'exits', 'ioPorts',
    'interruptsInjected', 'postCodes', 'postCodesDropped', 'core', 'bus']);
  for (const [k, v] of Object.entries(s as unknown as Record<string, unknown>)) {
    if (known.has(k)) continue;
    if (typeof v === 'number') out.extra[k] = v;
    else if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v)) {
        if (typeof v2 === 'number') out.extra[`${k}.${k2}`] = v2;
      }
    }
  }
  post({ type: 'sample', sample: out });
}

/** A raw disk in memory (JeOS's), without loading the image formats. */
function memoryDisk(bytes: Uint8Array): BootPlan['disks'] extends (infer D)[] | undefined ? D
  : never {
  const check = (o: number, n: number) => {
    if (o < 0 || o + n > bytes.length) throw new RangeError(`disk access ${o}+${n} out of range`);
  };
  return {
    size: bytes.length, readOnly: false,
    read: (o, dst) => { check(o, dst.length); dst.set(bytes.subarray(o, o + dst.length)); },
    write: (o, src) => { check(o, src.length); bytes.set(src, o); },
    flush: () => {}, close: () => {},
  };
}

async function plan(r: BootRequest): Promise<BootPlan> {
  if (r.source.kind === 'jeos') {
    const [kernel, img] = await Promise.all([fetchBytes('jeos.elf'), fetchBytes('jeos-disk.img')]);
    // A private copy of the disk: the disk workload writes to it.
    return { what: 'the bundled JeOS', kernel, disks: [memoryDisk(img.slice())],
      cmdline: r.source.cmdline };
  }
  // The disk formats and the OVA reader load only for a dropped file.
  const { planFile } = await import('./files.js');
  // A copy: the guest writes to its disks, and a reset starts from the file as dropped.
  const p = await planFile(r.source.name, r.source.bytes.slice(0), r.ramMiB);
  if (p.kernel && !p.cmdline) p.cmdline = r.source.cmdline;
  return p;
}

async function boot(r: BootRequest): Promise<void> {
  const gen = ++generation;
  running = false;
  machine = undefined;
  line = ''; prevEnd = undefined; lineStart = undefined; outBuf = [];
  wallMs = 0; lastSample = 0; pausedTotal = 0; bootAt = performance.now();
  let p: BootPlan;
  try {
    p = await plan(r);
    const opts = modeOptions(r.mode, { paging: r.paging, switches: r.switches });
    const [wasm, firmware] = await Promise.all([
      fetchBytes('core.wasm'), p.firmware ? fetchBytes('bios.bin') : undefined,
    ]);
    const m = await Machine.create({
      ramBytes: (p.ramMiB ?? r.ramMiB) << 20,
      wasm: wasm.slice(),
      kernel: p.kernel,
      cmdline: p.cmdline,
      firmware,
      disks: p.disks,
      serialOut,
      apic: r.apic,
      ...opts,
    });
    if (gen !== generation) return;
    m.inputOpen = true; // the terminal may type at any time
    machine = m;
  } catch (e) {
    if (gen === generation) post({ type: 'error', message: (e as Error).message });
    return;
  }
  start(gen, p.what);
}

/** A VM from a snapshot file (made here, by `wasmvisor run --snapshot-at` or the library). */
async function restore(name: string, bytes: ArrayBuffer): Promise<void> {
  const gen = ++generation;
  running = false;
  machine = undefined;
  request = undefined;
  line = ''; prevEnd = undefined; lineStart = undefined; outBuf = [];
  wallMs = 0; lastSample = 0; pausedTotal = 0; bootAt = performance.now();
  try {
    const wasm = await fetchBytes('core.wasm');
    const m = await restoreSnapshot(new Uint8Array(bytes), { wasm: wasm.slice(), serialOut });
    if (gen !== generation) return;
    m.inputOpen = true;
    machine = m;
  } catch (e) {
    if (gen === generation) post({ type: 'error', message: `${name}: ${(e as Error).message}` });
    return;
  }
  start(gen, `the snapshot ${name}`);
}

function start(gen: number, what: string): void {
  post({ type: 'booted', what });
  bootAt = performance.now();
  prevEnd = snap();
  sample();
  running = true;
  lastState = 'running';
  post({ type: 'state', state: 'running' });
  setTimeout(() => tick(gen), 0);
}

function stopText(s: ReturnType<Machine['run']>): [string, string] {
  switch (s.kind) {
    case 'poweroff': return ['powered off', 'the guest powered the machine off (ACPI S5)'];
    case 'exit': {
      const v = s.status >> 1;
      return [`exited with status ${s.status}`, `the guest wrote ${v} to isa-debug-exit ` +
        `(port 0xF4)${v === 0 ? '' : ': for JeOS, 1 is a failed check and 2 a panic'}`];
    }
    case 'shutdown': return ['shut down', `the CPU shut down: ${s.why}`];
    case 'reset': return ['reset', 'the guest reset the CPU (the run ends, as QEMU -no-reboot)'];
    case 'halted': return ['halted', `the CPU halted for good: ${s.why}`];
    case 'invalid': return ['died', `the core cannot go on: ${s.why}`];
    default: return [s.kind, ''];
  }
}

function tick(gen: number): void {
  if (gen !== generation || !running || !machine) return;
  const m = machine;
  const t0 = performance.now();
  let stop: ReturnType<Machine['run']> = { kind: 'limit' };
  let waiting = false;
  try {
    while (performance.now() - t0 < SLICE_MS) {
      const before = m.stats();
      // While halted, virtual time runs at most 10 ms ahead per call.
      stop = m.run(RUN_CHUNK, m.clock.now + 10e6);
      if (stop.kind !== 'limit') break;
      const after = m.stats();
      // Halted the whole call: the guest waits for input or a timer.
      if (after.haltedNs > before.haltedNs && after.instructions - before.instructions < 20_000) {
        waiting = true;
        break;
      }
    }
  } catch (e) {
    stop = { kind: 'invalid', why: (e as Error).message };
  }
  wallMs = elapsed();
  flushOut();
  const state = waiting ? 'waiting' : 'running';
  if (wallMs - lastSample >= SAMPLE_MS || stop.kind !== 'limit' || state !== lastState) {
    lastSample = wallMs;
    sample();
  }
  if (stop.kind !== 'limit') {
    running = false;
    const [reason, detail] = stopText(stop);
    const abnormal = stop.kind === 'shutdown' || stop.kind === 'invalid' ||
      (stop.kind === 'exit' && stop.status >> 1 !== 0);
    post({ type: 'stopped', reason, detail, abnormal });
    return;
  }
  if (state !== lastState) { lastState = state; post({ type: 'state', state }); }
  // A guest waiting for input or a timer sleeps in real time instead of racing ahead.
  setTimeout(() => tick(gen), waiting ? 10 : 0);
}

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  switch (msg.type) {
    case 'boot': request = msg.request; void boot(msg.request); break;
    case 'input': machine?.input(msg.bytes); break;
    case 'pause':
      if (running) {
        running = false;
        pausedAt = performance.now();
        post({ type: 'state', state: 'paused' });
      }
      break;
    case 'resume':
      if (!running && machine) {
        running = true;
        pausedTotal += performance.now() - pausedAt;
        lastState = 'running';
        post({ type: 'state', state: 'running' });
        setTimeout(() => tick(generation), 0);
      }
      break;
    case 'reset': if (request) void boot(request); break;
    case 'save':
      // Messages arrive between slices: the machine is between two runs.
      if (machine) {
        try {
          const bytes = saveSnapshot(machine, { label: 'wasmvisor web page' });
          post({ type: 'snapshot', bytes }, [bytes.buffer]);
        } catch (e) {
          post({ type: 'error', message: `cannot save: ${(e as Error).message}` });
        }
      }
      break;
    case 'restore': void restore(msg.name, msg.bytes); break;
  }
};
