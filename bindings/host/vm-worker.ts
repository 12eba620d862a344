/**
 * One VM in its own worker thread: its own WebAssembly instance (RAM, CPU) and devices.
 * It runs only the slices the host's scheduler grants, and reports what it ran, its
 * console bytes and how it stopped. Whatever the guest does stays in this thread; a
 * failure of this thread ends this VM alone (the host sees the worker's error or exit).
 */
import { parentPort } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Machine } from '../machine/machine.js';
import { jeos } from '../node.js';
import { prepareMachine } from '../config/node-machine.js';
import { restoreSnapshot, saveSnapshot } from '../snapshot/index.js';
import type { FromVmWorker, ToVmWorker, WorkerInit } from './protocol.js';

const port = parentPort!;
const post = (m: FromVmWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

let machine: Machine | undefined;
let interactive = false;
let out: number[] = [];
let wallStart = 0;
let virtualStart = 0;
/** How far virtual time may run ahead of the wall clock while an interactive guest idles. */
const IDLE_SLACK_NS = 20e6;

async function init(i: WorkerInit): Promise<void> {
  const serialOut = (b: number) => { out.push(b); };
  const src = i.source;
  let what: string;
  if (src.kind === 'snapshot') {
    machine = await restoreSnapshot(new Uint8Array(readFileSync(src.path)), { serialOut });
    what = `snapshot ${src.path}`;
  } else if (src.kind === 'config') {
    const json = JSON.parse(readFileSync(src.path, 'utf8'));
    const p = prepareMachine(json, dirname(src.path));
    machine = await Machine.create({ ...p.machine, serialOut });
    what = `${src.path}${p.unsupported.length ? ` (left out: ${p.unsupported.join('; ')})` : ''}`;
  } else if (src.kind === 'kernel') {
    machine = await Machine.create({
      ramBytes: i.ramBytes, kernel: new Uint8Array(readFileSync(src.path)),
      cmdline: src.cmdline, serialOut,
    });
    what = src.path;
  } else {
    const j = jeos();
    machine = await Machine.create({
      ramBytes: i.ramBytes, kernel: j.kernel, disks: [j.disk], cmdline: src.cmdline, serialOut,
    });
    what = 'the bundled JeOS';
  }
  interactive = i.interactive;
  machine.inputOpen = interactive;
  wallStart = performance.now();
  virtualStart = machine.clock.now;
  post({ type: 'ready', ramBytes: machine.config.ramBytes, what });
}

function run(budget: number): void {
  const m = machine!;
  const before = m.workDone;
  const paced = interactive && m.inputOpen;
  const until = paced
    ? Math.floor(virtualStart + (performance.now() - wallStart) * 1e6 + IDLE_SLACK_NS)
    : Infinity;
  const stop = m.run(budget, Math.max(until, m.clock.now));
  const work = m.workDone - before;
  const bytes = out.length ? Uint8Array.from(out) : undefined;
  out = [];
  post({
    type: 'ran', work, stop, halted: m.isHalted, instructions: m.core.instructions(),
    virtualNs: m.clock.now, out: bytes, idle: paced && m.isHalted && stop.kind === 'limit' &&
      work < budget,
  }, bytes ? [bytes.buffer as ArrayBuffer] : []);
}

port.on('message', (msg: ToVmWorker) => {
  try {
    switch (msg.type) {
      case 'init':
        init(msg.init).catch((e) => post({ type: 'failed', error: (e as Error).message }));
        return;
      case 'run': run(msg.budget); return;
      case 'input': machine?.input(msg.bytes); return;
      case 'stats': if (machine) post({ type: 'stats', stats: machine.stats() }); return;
      case 'save': {
        if (!machine) return;
        try {
          const bytes = saveSnapshot(machine, { label: 'wasmvisor host' });
          post({ type: 'saved', bytes }, [bytes.buffer as ArrayBuffer]);
        } catch (e) {
          post({ type: 'saved', error: (e as Error).message });
        }
        return;
      }
    }
  } catch (e) {
    // The VM's own failure (its core, a device): reported, the thread stays well.
    post({ type: 'ran', work: 0, stop: { kind: 'invalid', why: `host error: ${(e as Error)
      .message}` }, halted: false, instructions: 0, virtualNs: 0, idle: false });
  }
});
