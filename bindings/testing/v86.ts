/**
 * Runs a Multiboot guest in v86 (npm `v86`, the reference emulator of the differential
 * runner and of the benchmarks) headless in Node, with the same conventions as the
 * wasmvisor harness: COM1 output collected, port 0xf4 ends the run, the checkpoint port
 * records the registers. Node-only (it loads v86's wasm from node_modules).
 *
 * v86 boots a Multiboot image without a BIOS: it loads it itself and starts in protected
 * mode with CS=0x08, the other segment registers 0x10, EAX=0x2BADB002 (see its
 * `load_multiboot_option_rom`). Its own write handler on port 0xf4 throws "HALT" out of
 * the CPU loop; we replace it by one that records the status and stops the emulator.
 */

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { V86 } from 'v86';
import { CHECKPOINT_PORT, COM1_THR, DEBUG_EXIT_PORT, type Checkpoint } from './harness.js';

export interface V86RunOptions {
  /** false runs v86's interpreter only (its `disable_jit` option). Default true. */
  jit?: boolean;
  memoryBytes?: number;
  checkpointPort?: number;
  /** Wall-clock limit in ms (v86 runs in timer slices; default 60 s). */
  timeoutMs?: number;
  /** Called on each COM1 byte (for progress or timing). */
  onOutput?: (char: string) => void;
  /** Called at each checkpoint with the value written, v86's instruction counter and
   *  the registers. */
  onCheckpoint?: (value: number, instructionCounter: number, regs: Checkpoint) => void;
}

export interface V86Run {
  output: string;
  exitStatus: number | null;
  timedOut: boolean;
  /** Set when v86 itself failed (e.g. a Rust panic "Unimplemented: ..." in its wasm). */
  crash?: string;
  checkpoints: Checkpoint[];
  /** v86's own instruction counter (cpu.instruction_counter), when it keeps one. */
  instructions: number | undefined;
  wallMs: number;
}

// v86's internals used here are not in its typings.
interface V86Cpu {
  reg32: Int32Array;
  /** Linear address of the instruction being executed. */
  previous_ip: Int32Array;
  /** Segment bases, in the order ES, CS, SS, DS, FS, GS. */
  segment_offsets: Int32Array;
  get_eflags(): number;
  io: {
    register_write(port: number, dev: object, w8?: (v: number) => void,
      w16?: (v: number) => void, w32?: (v: number) => void): void;
  };
  instruction_counter?: Uint32Array;
}

interface V86Main {
  cpu: V86Cpu;
  running: boolean;
  do_tick(this: V86Main): void;
}

export function v86WasmPath(): string {
  const require = createRequire(import.meta.url);
  return require.resolve('v86/build/v86.wasm');
}

/**
 * v86's core compiled once per process, as wasmvisor's loader keeps its own: every v86
 * created here instantiates the same module (v86's `wasm_fn` option), so neither engine
 * pays a compile, nor runs unoptimized code again, for each new PC.
 */
let v86Module: Promise<WebAssembly.Module> | undefined;

async function v86Instance(env: WebAssembly.Imports): Promise<WebAssembly.Exports> {
  v86Module ??= readFile(v86WasmPath()).then((bytes) => WebAssembly.compile(bytes));
  return (await WebAssembly.instantiate(await v86Module, env)).exports;
}

/** A stopped v86 with `image` as its Multiboot kernel and no keyboard, mouse or speaker. */
function createV86(image: Uint8Array, memoryBytes: number, extra: object = {}): V86 {
  const end = image.byteOffset + image.byteLength;
  const buffer = image.buffer.slice(image.byteOffset, end) as ArrayBuffer;
  return new V86({
    wasm_fn: v86Instance,
    memory_size: memoryBytes,
    multiboot: { buffer },
    autostart: false,
    ...extra,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
  } as ConstructorParameters<typeof V86>[0]);
}

export function runV86(image: Uint8Array, opts: V86RunOptions = {}): Promise<V86Run> {
  const memoryBytes = opts.memoryBytes ?? 128 << 20;
  const emulator = createV86(image, memoryBytes, { disable_jit: opts.jit === false });
  const ckPort = opts.checkpointPort ?? CHECKPOINT_PORT;
  return new Promise<V86Run>((resolve, reject) => {
    let output = '';
    const checkpoints: Checkpoint[] = [];
    let started = 0;
    let done = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (exitStatus: number | null, timedOut: boolean, crash?: string): void => {
      if (done) return;
      done = true;
      const wallMs = performance.now() - started;
      if (timer) clearTimeout(timer);
      const inner = (emulator as unknown as { v86: V86Main }).v86;
      const instructions = inner.cpu.instruction_counter?.[0];
      const run: V86Run = {
        output, exitStatus, timedOut, crash, checkpoints, instructions, wallMs,
      };
      if (crash) {
        inner.running = false; // its wasm instance is dead: never tick it again
        resolve(run);
      } else {
        // stop() only takes effect between slices; destroy() then frees the instance. The
        // run is over once it has stopped (a benchmark's next run must not share the CPU).
        void emulator.stop().then(() => emulator.destroy()).catch(() => undefined)
          .finally(() => resolve(run));
      }
    };
    emulator.add_listener('emulator-loaded', () => {
      try {
        const inner = (emulator as unknown as { v86: V86Main }).v86;
        const cpu = inner.cpu;
        // A panic inside v86's wasm surfaces as an exception out of its timer callback:
        // catch it here so it ends this run instead of the host process.
        const tick = inner.do_tick;
        // v86's wasm prints a Rust panic ("panicked at src/rust/...: Unimplemented: ...")
        // through console.error just before it traps: that text goes into `crash`, not to
        // the host's console; anything else it prints in a tick is passed on.
        inner.do_tick = function (this: V86Main) {
          const log = console.error;
          let said = '';
          console.error = (...args: unknown[]) => { said += `${args.map(String).join(' ')}\n`; };
          try {
            tick.call(this);
          } catch (e) {
            said += e instanceof Error ? e.message : String(e);
            finish(null, false, said.trim());
            return;
          } finally {
            console.error = log;
          }
          if (said) log(said.trimEnd());
        };
        const dev = {};
        cpu.io.register_write(COM1_THR, dev, (v) => {
          const c = String.fromCharCode(v & 0xff);
          output += c;
          opts.onOutput?.(c);
        });
        cpu.io.register_write(DEBUG_EXIT_PORT, dev, (v) => finish(((v & 0xff) << 1) | 1, false));
        const checkpoint = (v: number) => {
          const r = cpu.reg32;
          const c: Checkpoint = {
            value: v >>> 0,
            eax: r[0] >>> 0, ecx: r[1] >>> 0, edx: r[2] >>> 0, ebx: r[3] >>> 0,
            esp: r[4] >>> 0, ebp: r[5] >>> 0, esi: r[6] >>> 0, edi: r[7] >>> 0,
            eflags: cpu.get_eflags() >>> 0,
            eip: (cpu.previous_ip[0] - cpu.segment_offsets[1]) >>> 0, // linear minus CS base
            instructions: cpu.instruction_counter ? cpu.instruction_counter[0] >>> 0 : undefined,
          };
          checkpoints.push(c);
          opts.onCheckpoint?.(v >>> 0, c.instructions ?? NaN, c);
        };
        cpu.io.register_write(ckPort, dev, checkpoint, checkpoint, checkpoint);
        timer = setTimeout(() => finish(null, true), opts.timeoutMs ?? 60_000);
        started = performance.now();
        void emulator.run();
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** What v86's own Multiboot loader left in the machine before the first instruction. */
export interface V86BootState {
  eax: number;
  ebx: number;
  eip: number;
  /** Selectors of ES, CS, SS, DS, FS, GS (v86's order). */
  selectors: number[];
  readPhys(addr: number, length: number): Uint8Array;
}

/** Loads `image` with v86's Multiboot loader and returns its state (used as a reference). */
export function v86MultibootState(
  image: Uint8Array, memoryBytes = 128 << 20,
): Promise<V86BootState> {
  const emulator = createV86(image, memoryBytes);
  return new Promise((resolve) => {
    emulator.add_listener('emulator-loaded', () => {
      type BootCpu = V86Cpu & {
        mem8: Uint8Array; instruction_pointer: Int32Array; sreg: Uint16Array;
      };
      const cpu = (emulator as unknown as { v86: { cpu: BootCpu } }).v86.cpu;
      const mem = cpu.mem8.slice(0, memoryBytes);
      const state: V86BootState = {
        eax: cpu.reg32[0] >>> 0,
        ebx: cpu.reg32[3] >>> 0,
        eip: cpu.instruction_pointer[0] >>> 0,
        selectors: Array.from(cpu.sreg.slice(0, 6)),
        readPhys: (addr, length) => mem.slice(addr, addr + length),
      };
      void emulator.destroy().catch(() => undefined);
      resolve(state);
    });
  });
}
