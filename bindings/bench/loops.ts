/**
 * The loop benchmarks, engine-neutral: the checkpoint convention every bench guest follows
 * (guests/bench/bench.inc), the guests shipped in guests/bench with what each must count
 * and compute, and the measure of a run. Browser-safe (no file access: callers bring the
 * images and the count files).
 *
 * The convention: a Multiboot kernel writes `out 0xe9, eax` with EAX = 1 when its timed
 * loop starts, EAX = 2 when it ends, and EAX = 3 with its result in EBX; it ends by
 * writing isa-debug-exit (port 0xf4). Guest MIPS = the timed instructions / the process's
 * CPU time between the first two checkpoints (wall-clock MIPS are reported too).
 */

/** The value a checkpoint OUT writes (in EAX) to port 0xe9. */
export const CHECKPOINT_START = 1;
export const CHECKPOINT_END = 2;
export const CHECKPOINT_RESULT = 3;

/**
 * An emulator's counter includes the end checkpoint's OUT, so between the two checkpoint
 * exits it reads one more than the source's count.
 */
export const CHECKPOINT_OUT = 1;

export interface BenchGuest {
  /** guests/bench/NAME.bin for the shipped guests; the file name for --guest. */
  name: string;
  what: string;
  /**
   * Instructions between the two checkpoints (from the first after the start OUT to the
   * end OUT, exclusive), from the guest's source; `readCount` reads a count file shipped
   * beside the guests (guests/bench/NAME.count). Null when unknown (a guest from outside).
   */
  instructions(readCount: (name: string) => string): number | null;
  /** The result the guest must report, computed here from the loop's definition. */
  result: (() => number) | null;
}

const rol = (x: number, n: number) => ((x << n) | (x >>> (32 - n))) >>> 0;
const u32 = (x: number) => x >>> 0;

/** alu.asm / alu-rotate.asm: EBX after 10,000,000 iterations (EAX = 1 from BENCH_START). */
function aluResult(rotate: boolean): number {
  let eax = 1,
    ebx = 0x9e3779b9,
    edx = 0x7f4a7c15;
  for (let i = 0; i < 10_000_000; i++) {
    eax = u32(eax + ebx);
    eax = rotate ? rol(eax, 5) : eax & 0x7fffffff;
    edx = u32(edx ^ eax);
    ebx = u32(ebx - edx);
  }
  return ebx;
}

/** EBX = (EBX rol 1) + value, over `n` values. */
function rolSum(values: (i: number) => number, n: number): number {
  let ebx = 0;
  for (let i = 0; i < n; i++) ebx = u32(rol(ebx, 1) + values(i));
  return ebx;
}

/** Round to nearest, ties to even (FISTP under the x87's default rounding control). */
function roundEven(x: number): number {
  const f = Math.floor(x), d = x - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

/**
 * fpu.asm: z = z^2 + c a million times from z = 0, c = -0.123 + 0.745i, in IEEE doubles:
 * the guest runs with precision control 53 bits and round to nearest (FLDCW 0x027F), so
 * each x87 result rounded to 53 bits is the double computed here (no value leaves the
 * normal range). EBX = round(zr * 2^30) + round(zi * 2^30) mod 2^32.
 */
function mandelbrotResult(): number {
  const cr = -0.123, ci = 0.745;
  let zr = 0, zi = 0;
  for (let i = 0; i < 1_000_000; i++) {
    const r = zr * zr - zi * zi + cr;
    zi = zi * zr * 2 + ci;
    zr = r;
  }
  return u32(roundEven(zr * 2 ** 30) + roundEven(zi * 2 ** 30));
}

/** The loop guests shipped in guests/bench, their timed instruction counts (as each .asm
 *  header derives them) and their results. */
export const BENCH_GUESTS: BenchGuest[] = [
  {
    name: 'alu-rotate',
    what: 'ALU loop with a rotate',
    instructions: () => 1 + 6 * 10_000_000 + 1,
    result: () => aluResult(true),
  },
  {
    name: 'alu',
    what: 'ALU loop without a rotate',
    instructions: () => 1 + 6 * 10_000_000 + 1,
    result: () => aluResult(false),
  },
  {
    name: 'memory',
    what: 'load/add/store over 64 KiB',
    instructions: () => 1 + 600 * (2 + 6 * 16_384 + 2) + 1,
    // Every dword gets 0x01010101 added once per pass, 600 passes.
    result: () => rolSum(() => u32(600 * 0x01010101), 16_384),
  },
  {
    name: 'callret',
    what: 'call/ret loop',
    instructions: () => 1 + 5 * 10_000_000 + 1,
    result: () => Number(((10_000_000n * 10_000_001n) / 2n) % 2n ** 32n),
  },
  {
    name: 'pages',
    what: 'one access per 4 KiB page over 8 MiB, paging on',
    instructions: () => 1 + 6_000 * (2 + 4 * 2_048 + 2) + 1,
    result: () => rolSum(() => 6_000, 2_048),
  },
  {
    name: 'fpu',
    what: 'x87 Mandelbrot step z = z^2 + c in double precision',
    instructions: () => 1 + 14 * 1_000_000 + 1,
    result: () => mandelbrotResult(),
  },
  {
    name: 'sieve',
    what: "gcc's code for the BYTE sieve (Gilbreath 1981)",
    // 3 pushes, call, add esp; sieve() as callgrind counted it on the host CPU; mov ebx, mov eax.
    instructions: (read) => 5 + parseCount(read('sieve'), 'sieve') + 2,
    // Gilbreath, BYTE, September 1981: 1899 primes with size 8190.
    result: () => 1899,
  },
];

function parseCount(text: string, name: string): number {
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new Error(
      `${name}.count: not an instruction count: ${JSON.stringify(text.slice(0, 40))}`,
    );
  return n;
}

/** The path of a shipped guest's image, and of its count file, inside the package. */
export function loopImagePath(name: string): string {
  return `guests/bench/${name}.bin`;
}
export function countFilePath(name: string): string {
  return `guests/bench/${name}.count`;
}

export interface Measure {
  /** Guest MIPS over the process CPU time between the checkpoints (what the bench ranks by). */
  mips: number | null;
  /** Guest MIPS over wall-clock time. */
  wallMips?: number;
  /** Wall-clock ms between the checkpoints. */
  ms: number | null;
  /** Counted instructions between the checkpoints (the emulator's counter). */
  counted: number | null;
  /** EBX at the result checkpoint, or null when the guest reported none. */
  result?: number | null;
  /** wasmvisor: instruction boundaries its run loop took on the slow path between the
   *  checkpoints (a loop with no events to take should take almost none). */
  slowBoundaries?: number;
  error?: string;
}

export const NO_MEASURE: Measure = { mips: null, ms: null, counted: null };

/** A time stamp: wall clock (ms) and this process's CPU time (user + system, all threads, µs). */
export interface Stamp {
  wall: number;
  cpuUs: number;
}

/**
 * Now. Outside Node there is no process CPU clock: the wall clock stands in for it there,
 * so both MIPS figures are then wall-clock MIPS.
 */
export function stamp(): Stamp {
  const wall = performance.now();
  const proc = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } })
    .process;
  if (typeof proc?.cpuUsage !== 'function') return { wall, cpuUs: wall * 1000 };
  const c = proc.cpuUsage();
  return { wall, cpuUs: c.user + c.system };
}

/**
 * The checkpoints of one run as an engine sees them: `checkpoint(value, counter, ebx)` at
 * each OUT to port 0xe9, then `measure()` once the guest has exited.
 */
export class CheckpointTimer {
  private t0: Stamp | null = null;
  private t1: Stamp | null = null;
  private c0 = 0;
  private c1 = 0;
  private result: number | null = null;
  private order: number[] = [];

  /** `counter`: the engine's instruction counter at this OUT; `ebx`: the guest's EBX. */
  checkpoint(value: number, counter: number, ebx: number): void {
    const now = stamp();
    this.order.push(value);
    if (value === CHECKPOINT_START) {
      this.t0 = now;
      this.c0 = counter;
    } else if (value === CHECKPOINT_END) {
      this.t1 = now;
      this.c1 = counter;
    } else if (value === CHECKPOINT_RESULT) this.result = ebx >>> 0;
  }

  /** The measure of the run, `instructions` being the timed count (or null: the counter's). */
  measure(instructions: number | null): Measure {
    const { t0, t1 } = this;
    if (!t0 || !t1 || this.order.indexOf(CHECKPOINT_START) > this.order.indexOf(CHECKPOINT_END)) {
      return {
        ...NO_MEASURE,
        error:
          `checkpoints ${JSON.stringify(this.order)}: ` +
          'expected 1, then 2 (guests/bench/bench.inc)',
      };
    }
    const counted = (this.c1 - this.c0) >>> 0;
    const n = instructions ?? counted - CHECKPOINT_OUT;
    const ms = t1.wall - t0.wall;
    return {
      mips: n / (t1.cpuUs - t0.cpuUs),
      wallMips: n / (ms * 1000),
      ms,
      counted,
      result: this.result,
    };
  }
}

/** The better of two runs of the same guest (other load on the machine only ever slows
 *  one down). */
export function best(a: Measure, b: Measure): Measure {
  return a.mips !== null && (b.mips === null || a.mips >= b.mips) ? a : b;
}
