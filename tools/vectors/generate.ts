/**
 * Builds the instruction vectors, executes each on the host CPU through the runner (a
 * 32-bit Linux program, runner.c), and writes one JSON Lines fixture per group.
 *
 *   node --import tsx tools/vectors/generate.ts <runner binary> <output dir>
 *
 * Every form draws from its own seeded stream, so the inputs are the same on every run and
 * adding a form changes no other form's vectors; the outputs are whatever the CPU did.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Insn, Rng, hash, REG32 } from './build.js';
import { FORMS, Form } from './form.js';
import { LAYOUT } from './layout.js';
import './forms-alu.js';
import './forms-arith.js';
import './forms-misc.js';
import './forms-branch.js';
import './forms-other.js';
import './forms-prefix.js';
import './forms-code16.js';
import './forms-page.js';
import './forms-stack16.js';
import './forms-limit.js';
import './forms-seg.js';

export const SEED = 'wasmvisor-vectors-1';

const toHex = (b: number[]) => b.map((v) => v.toString(16).padStart(2, '0')).join('');

export interface Vector {
  /** Form name: "<opcode bytes> <mnemonic> <operands> <reg|mem|mem16>". */
  f: string;
  /** Instruction bytes (hex), placed at layout.code. */
  b: string;
  /** Input EAX ECX EDX EBX ESP EBP ESI EDI EFLAGS. */
  i: number[];
  /**
   * Memory regions: [linear address, input bytes (hex), output]. The output lists the runs
   * of bytes that changed as "offset:hex" (decimal offset, space separated), or is "=".
   */
  m: [number, string, string][];
  /** Output registers that differ from `i`, by name (at a fault: as the fault left them). */
  o: Record<string, number>;
  /** Branch forms: the target (input) and where EIP ended (output), both relative to layout.code. */
  t?: number;
  e?: number;
  /** Exception: [vector, error code, EIP of the fault - layout.code]. */
  x?: [number, number, number];
  /** DS and ES are the 16-bit segment at layout.seg16Base (0x67 forms). */
  s?: 1;
  /** 16-bit code: CS base layout.code, limit 0xffff, D=0; EIP values are offsets from it. */
  c?: 1;
  /** 16-bit stack: SS is the 16-bit segment at layout.seg16Base (B=0), so SP is used. */
  k?: 1;
  /** With s: DS/ES are expand-down (base layout.seg16Base, limit 0x7ff, 16-bit). */
  d?: 1;
  /** `seg` vectors: SS (16- or 32-bit stack of the LDT, with k) and DS/ES selectors at the
   *  start, and SS, DS, ES after the instruction or at its fault. */
  ss?: number;
  ds?: number;
  g?: [number, number, number];
  /** EFLAGS bits undefined for these inputs (SDM); the replay masks them. */
  uf?: number;
  /** Undefined results: ["reg", name, bit mask] or ["mem", region, offset, length]. */
  u?: (['reg', string, number] | ['mem', number, number, number])[];
}

/** The changed runs of `after` against `before` (hex strings of equal length). */
export function patch(before: string, after: string): string {
  if (after.length !== before.length) throw new Error('runner returned a region of another size');
  const runs: string[] = [];
  for (let k = 0; k < before.length; k += 2) {
    if (before.slice(k, k + 2) === after.slice(k, k + 2)) continue;
    let j = k;
    while (j < before.length && before.slice(j, j + 2) !== after.slice(j, j + 2)) j += 2;
    runs.push(`${k / 2}:${after.slice(k, j)}`);
    k = j - 2;
  }
  return runs.length ? runs.join(' ') : '=';
}

export function runnerLine(x: Insn): string {
  const regs = x.regs.map((v) => (v >>> 0).toString(16)).join(',');
  const mem = x.mem.map((m) => ` M${m.addr.toString(16)}:${toHex(m.bytes)}`).join('');
  const k = x.stack16 ? (x.stackSel !== undefined ? ` K${x.stackSel.toString(16)}` : ' K') : '';
  const d = x.dataSel !== undefined ? ` D${x.dataSel.toString(16)}` : x.seg16 ? ' S' : '';
  const t = x.target !== undefined ? ` T${x.target}` : '';
  const flags = `${x.code16 ? ' C' : ''}${k}${x.expandDown ? ' X' : ''}${x.segs ? ' G' : ''}`;
  return `B${toHex(x.bytes)} R${regs}${d}${flags}${t}${mem}`;
}

/** Parses a runner output line into the vector's outputs. */
const NAMES = [...REG32, 'eflags'];

export function parseResult(line: string, x: Insn):
  Pick<Vector, 'x' | 'e' | 'g'> & { o: number[]; mem: string[] } {
  let t = line.trim().split(' ');
  const end = t.find((tok) => tok.startsWith('E'));
  const segs = t.find((tok) => tok.startsWith('G'));
  t = t.filter((tok) => !tok.startsWith('E') && !tok.startsWith('G'));
  const g = segs ? { g: segs.slice(1).split(',').map((v) => parseInt(v, 16)) as Vector['g'] } : {};
  const regsOf = (tok: string) => tok.slice(1).split(',').map((v) => parseInt(v, 16) >>> 0);
  if (t[0] === 'ok') {
    const e = end ? { e: parseInt(end.slice(1), 10) } : {};
    return { o: regsOf(t[1]), mem: t.slice(2).map((m) => m.slice(1)), ...e, ...g };
  }
  if (t[0] === 'ex') {
    const exc: [number, number, number] = [parseInt(t[1], 16), parseInt(t[2], 16), parseInt(t[3], 16) | 0];
    return { x: exc, o: regsOf(t[4]), mem: t.slice(5).map((m) => m.slice(1)), ...g };
  }
  throw new Error(`runner rejected ${toHex(x.bytes)}: ${line}`);
}

export function buildVectors(form: Form): Insn[] {
  const rng = new Rng(hash(`${SEED}/${form.name}`));
  const out: Insn[] = [];
  for (let i = 0; i < form.count; i++) {
    const x = new Insn(rng);
    form.make(x, i);
    out.push(x);
  }
  return out;
}

export function toVector(form: Form, x: Insn, res: ReturnType<typeof parseResult>): Vector {
  const v: Vector = {
    f: form.name,
    b: toHex(x.bytes),
    i: x.regs.map((r) => r >>> 0),
    m: x.mem.map((m, k) => [m.addr, toHex(m.bytes), patch(toHex(m.bytes), res.mem[k])]),
    o: Object.fromEntries(res.o.flatMap((r, k) => (r !== x.regs[k] >>> 0 ? [[NAMES[k], r]] : []))),
  };
  if (x.target !== undefined) v.t = x.target;
  if (res.e !== undefined) v.e = res.e;
  if (res.x) v.x = res.x;
  if (x.seg16) v.s = 1;
  if (x.code16) v.c = 1;
  if (x.stack16) v.k = 1;
  if (x.expandDown) v.d = 1;
  if (x.stackSel !== undefined) v.ss = x.stackSel;
  if (x.dataSel !== undefined) v.ds = x.dataSel;
  if (res.g) v.g = res.g;
  if (x.uf) v.uf = x.uf;
  if (x.undef.length) {
    v.u = x.undef.map((u) => ('reg' in u ? ['reg', REG32[u.reg], u.mask] : ['mem', u.region, u.offset, u.length]));
  }
  return v;
}

function cpuInfo(): Record<string, string> {
  const text = readFileSync('/proc/cpuinfo', 'utf8');
  const first = text.split('\n\n')[0];
  const get = (k: string) => first.match(new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm'))?.[1] ?? '';
  return {
    vendor: get('vendor_id'),
    modelName: get('model name'),
    family: get('cpu family'),
    model: get('model'),
    stepping: get('stepping'),
    microcode: get('microcode'),
    virtualized: / hypervisor( |$)/m.test(get('flags')) ? 'yes (user-mode instructions run natively on the CPU)' : 'no',
  };
}

const FLAG_NAMES: [number, string][] = [[0x1, 'CF'], [0x4, 'PF'], [0x10, 'AF'], [0x40, 'ZF'], [0x80, 'SF'], [0x800, 'OF']];

/** The distinct EFLAGS masks the replay applies to a form's vectors, as flag names. */
function masksOf(vs: Vector[]): string[] {
  const set = new Set(vs.map((v) => v.uf ?? 0));
  return [...set].sort((a, b) => a - b).map((m) => FLAG_NAMES.filter(([b]) => m & b).map(([, n]) => n).join(',') || 'none');
}

const COMPARE = {
  registers: 'all eight general registers',
  eflags: 'every bit except the vector\'s uf mask (and RF in the EFLAGS at a fault)',
  memory: 'every region byte except the vector\'s u entries; nothing outside the regions may change',
  exceptions: 'x gives the vector; the registers and memory must be as the instruction found them (precise)',
  cpl: 'captured at CPL 3 with IOPL 0; POPF vectors only pop bits that behave the same at CPL 0',
  vendor: 'the undefined bits (uf, u) hold what this CPU did; Intel CPUs differ there (AF after logic ' +
    'operations, SF/ZF/AF/PF after MUL and DIV, OF after multi-bit shifts and rotates, flags after BT ' +
    'and BSF/BSR), and BSF/BSR with a zero source leave the destination unchanged on AMD',
};

const SEG_CPL = 'captured and replayed at CPL 3 (IOPL 0) with the LDT of the header; DS and ES ' +
  'are the flat user data segment unless ds says otherwise, SS the flat one unless ss does ' +
  '(then k: the stubs reach their data through DS)';
const SEG_COMPARE = 'g: SS, DS and ES after the instruction, or at the fault';

/** The runner's LDT as the kernel stored it (raw descriptors, hex, entry 0 first; its limit
 *  is 8 * entries - 1, as Linux sizes it to the highest entry written) and the flat user CS
 *  and SS selectors Linux gave the process (in the replay's GDT at the same indexes). */
function ldtOf(runner: string): { ldt: string[]; flat: { cs: number; ss: number } } {
  const run = spawnSync(runner, ['--ldt'], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`runner --ldt failed: ${run.stderr}`);
  const lines = run.stdout.trim().split('\n');
  const m = /^cs ([0-9a-f]+) ss ([0-9a-f]+)$/.exec(lines[0]);
  if (!m) throw new Error(`runner --ldt: ${lines[0]}`);
  const ldt = lines.slice(1);
  while (ldt.length && /^0+$/.test(ldt[ldt.length - 1])) ldt.pop();
  return { ldt, flat: { cs: parseInt(m[1], 16), ss: parseInt(m[2], 16) } };
}

function main(): void {
  const [runner, outDir, only] = process.argv.slice(2);
  if (!runner || !outDir) {
    throw new Error('usage: generate.ts <runner binary> <output dir> [group,...]');
  }
  const groups = new Map<string, Form[]>();
  for (const f of FORMS) {
    if (only && !only.split(',').includes(f.group)) continue;
    groups.set(f.group, [...(groups.get(f.group) ?? []), f]);
  }
  const cpu = cpuInfo();
  const captured = new Date().toISOString();
  mkdirSync(outDir, { recursive: true });
  let total = 0;
  for (const [group, forms] of groups) {
    const built = forms.map((f) => ({ f, xs: buildVectors(f) }));
    const input = built.flatMap(({ xs }) => xs.map(runnerLine)).join('\n') + '\n';
    // Two runs must agree: a result that changes between runs is not a reference.
    const runs = [0, 1].map(() => spawnSync(runner, [], { input, maxBuffer: 1 << 30, encoding: 'utf8' }));
    for (const run of runs) if (run.status !== 0) throw new Error(`runner failed (${run.status}): ${run.stderr}`);
    const lines = runs[0].stdout.split('\n');
    const again = runs[1].stdout.split('\n');
    const inputs = input.split('\n');
    lines.forEach((l, k) => { if (l !== again[k]) throw new Error(`not repeatable: ${inputs[k].slice(0, 80)}`); });
    const vectors: Vector[] = [];
    let n = 0;
    for (const { f, xs } of built) {
      for (const x of xs) {
        const v = toVector(f, x, parseResult(lines[n++], x));
        // Every operand lies in the mapped window: a page fault means a broken vector.
        if (v.x?.[0] === 14) throw new Error(`${f.name} [${v.b}]: page fault, an operand left the window`);
        if (v.k && v.x && group !== 'seg') {
          throw new Error(`${f.name} [${v.b}]: exception ${v.x[0]} on the 16-bit stack`);
        }
        if (v.t !== undefined && v.x) throw new Error(`${f.name} [${v.b}]: the branch went astray (exception ${v.x[0]})`);
        vectors.push(v);
      }
    }
    const header = {
      format: 'wasmvisor-vectors/1',
      group,
      count: vectors.length,
      cpu,
      captured,
      seed: SEED,
      layout: LAYOUT,
      registers: 'i lists eax ecx edx ebx esp ebp esi edi eflags; o names those that changed',
      compare: group === 'seg' ? { ...COMPARE, cpl: SEG_CPL, segments: SEG_COMPARE } : COMPARE,
      ...(group === 'seg' ? ldtOf(runner) : {}),
      forms: Object.fromEntries(forms.map((f) => [f.name, {
        count: f.count,
        undefined: f.rule || 'none',
        masks: masksOf(vectors.filter((v) => v.f === f.name)),
      }])),
    };
    const body = [JSON.stringify(header), ...vectors.map((v) => JSON.stringify(v))].join('\n') + '\n';
    writeFileSync(join(outDir, `${group}.jsonl`), body);
    const faults = vectors.filter((v) => v.x).length;
    console.log(`${group}: ${vectors.length} vectors (${forms.length} forms, ${faults} faults)`);
    total += vectors.length;
  }
  console.log(`total: ${total} vectors from ${cpu.modelName} (family ${cpu.family} model ${cpu.model} stepping ${cpu.stepping})`);
}

if (process.argv[1]?.endsWith('generate.ts')) main();
