/**
 * Node's pool of deflate workers for streamOptimized VMDK (codec.ts DeflatePool).
 *
 * Measured (README, "Speed"): deflate is nearly all of the conversion's CPU time, and
 * grains are independent zlib streams (VMDK 5.0: each compressed grain is a zlib stream
 * of its own), so they compress in parallel; qemu-img compresses them one after the other
 * on one thread. Each slot is a control word and an input and output buffer in one
 * SharedArrayBuffer; worker w takes slots w, w + W, w + 2W... in order, so the main thread
 * (which reads the source and writes the records) and the workers hand grains over with
 * Atomics.wait/notify and nothing is copied through messages. Each worker keeps one zlib
 * state and resets it per grain (as node.ts does on the main thread): the same zlib at
 * the same level as the one-thread path, so the bytes are the same.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { DeflatePool } from './codec.js';

/** Slot states in the control word. */
const FREE = 0, SUBMITTED = 1, DONE = 2, STOP = 3;
/** Control words per slot: state, input length, level, output length (-1: zlib failed). */
const CTRL = 4;
/** Slots per worker: enough that the main thread reads ahead while every worker compresses. */
const SLOTS_PER_WORKER = 4;

/** zlib's deflateBound for the default window and memLevel, plus the zlib wrapper. */
function bound(n: number): number {
  return n + (n >> 12) + (n >> 14) + (n >> 25) + 13 + 6;
}

const WORKER = `
const { workerData } = require('node:worker_threads');
const zlib = require('node:zlib');
const { sab, slots, workers, index, inBytes, outBytes } = workerData;
const ctrl = new Int32Array(sab, 0, slots * ${CTRL});
const base = slots * ${CTRL} * 4;
const stride = inBytes + outBytes;
const states = new Map();
function state(level) {
  let s = states.get(level);
  if (!s) {
    const d = zlib.createDeflate({ level });
    s = { h: d._handle, st: d._writeState };
    states.set(level, s);
  }
  return s;
}
for (let i = index;; i = (i + workers) % slots) {
  const c = i * ${CTRL};
  // A slot still DONE (not yet taken) is waited on as FREE is: only SUBMITTED is work.
  let s = Atomics.load(ctrl, c);
  for (; s !== ${SUBMITTED} && s !== ${STOP}; s = Atomics.load(ctrl, c)) Atomics.wait(ctrl, c, s);
  if (Atomics.load(ctrl, c) === ${STOP}) break;
  const len = ctrl[c + 1], level = ctrl[c + 2];
  const inp = new Uint8Array(sab, base + i * stride, len);
  const out = new Uint8Array(sab, base + i * stride + inBytes, outBytes);
  let n = -1;
  try {
    const s = state(level);
    s.h.reset();
    s.h.writeSync(zlib.constants.Z_FINISH, inp, 0, len, out, 0, outBytes);
    if (s.st[1] === 0 && s.st[0] !== 0) n = outBytes - s.st[0];
  } catch (e) { n = -1; }
  ctrl[c + 3] = n;
  Atomics.store(ctrl, c, ${DONE});
  Atomics.notify(ctrl, c);
}
`;

/** How many workers a conversion uses: one per CPU, at most 4, none on one CPU. */
export function deflateWorkers(): number {
  const n = Math.min(4, availableParallelism());
  return n >= 2 ? n : 0;
}

/**
 * A pool of `workers` threads for grains of `grainBytes`, or undefined if worker threads
 * cannot start here. `fallback` compresses a grain a worker could not (never expected:
 * the output buffer is zlib's bound).
 */
export function nodeDeflatePool(
  grainBytes: number,
  fallback: (data: Uint8Array, level: number) => Uint8Array,
  workers = deflateWorkers(),
): DeflatePool | undefined {
  if (workers < 1 || typeof SharedArrayBuffer === 'undefined') return undefined;
  const slots = workers * SLOTS_PER_WORKER;
  const inBytes = grainBytes, outBytes = (bound(grainBytes) + 7) & ~7;
  const base = slots * CTRL * 4;
  const stride = inBytes + outBytes;
  const sab = new SharedArrayBuffer(base + slots * stride);
  const ctrl = new Int32Array(sab, 0, slots * CTRL);
  const threads: Worker[] = [];
  try {
    for (let w = 0; w < workers; w++) {
      const t = new Worker(WORKER, {
        eval: true,
        workerData: { sab, slots, workers, index: w, inBytes, outBytes },
        // A worker is a zlib state and a loop: keep its heap small.
        resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 },
      });
      t.unref();
      threads.push(t);
    }
  } catch {
    for (const t of threads) void t.terminate();
    return undefined;
  }
  const pending = new Array<Uint8Array | undefined>(slots);
  let closed = false;
  return {
    slots,
    submit(i, data, level) {
      if (data.length > inBytes) throw new RangeError('deflate pool: grain too large');
      const c = i * CTRL;
      pending[i] = undefined;
      new Uint8Array(sab, base + i * stride, data.length).set(data);
      ctrl[c + 1] = data.length;
      ctrl[c + 2] = level;
      ctrl[c + 3] = 0;
      Atomics.store(ctrl, c, SUBMITTED);
      Atomics.notify(ctrl, c);
      // Kept for the fallback: a view of the slot's input, unchanged until taken.
      pending[i] = new Uint8Array(sab, base + i * stride, data.length);
    },
    take(i) {
      const c = i * CTRL;
      while (Atomics.load(ctrl, c) === SUBMITTED) Atomics.wait(ctrl, c, SUBMITTED);
      const n = ctrl[c + 3];
      Atomics.store(ctrl, c, FREE);
      if (n < 0) return fallback(pending[i]!, ctrl[c + 2]);
      return new Uint8Array(sab, base + i * stride + inBytes, n);
    },
    close() {
      if (closed) return;
      closed = true;
      for (let i = 0; i < slots; i++) {
        Atomics.store(ctrl, i * CTRL, STOP);
        Atomics.notify(ctrl, i * CTRL);
      }
      for (const t of threads) void t.terminate();
    },
  };
}
