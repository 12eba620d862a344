/**
 * Reads the instruction vectors in test/fixtures/vectors (JSON Lines: a header, then one
 * vector per line; the format is described in tools/vectors/README.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/vectors');

export interface Layout {
  code: number; window: number; windowSize: number; data: number; src: number; dst: number;
  stack: number; seg16Base: number;
}

export interface Header {
  format: string;
  group: string;
  count: number;
  cpu: Record<string, string>;
  captured: string;
  seed: string;
  layout: Layout;
  registers: string;
  compare: Record<string, string>;
  forms: Record<string, { count: number; undefined: string; masks: string[] }>;
  /** `seg` group: the capture's LDT (raw descriptors as hex, entry 0 first; limit 8n - 1)
   *  and the flat user CS and SS selectors; its vectors ran at CPL 3. */
  ldt?: string[];
  flat?: { cs: number; ss: number };
}

export type Undef = ['reg', string, number] | ['mem', number, number, number];

export interface Vector {
  f: string;
  b: string;
  i: number[];
  m: [number, string, string][];
  /** Output registers that changed, by name. */
  o: Record<string, number>;
  x?: [number, number, number];
  /** Branch forms: the target and where EIP ended, relative to layout.code. */
  t?: number;
  e?: number;
  s?: 1;
  /** 16-bit code segment (CS base = layout.code, D = 0). */
  c?: 1;
  /** 16-bit stack segment (SS base = layout.seg16Base, B = 0). */
  k?: 1;
  /** With s: DS/ES expand-down (base layout.seg16Base, limit 0x7ff). */
  d?: 1;
  /** `seg` vectors: SS (an LDT stack segment, with k) and DS/ES at the start; SS, DS, ES
   *  after the instruction or at its fault. */
  ss?: number;
  ds?: number;
  g?: [number, number, number];
  uf?: number;
  u?: Undef[];
}

export interface Group { file: string; header: Header; vectors: Vector[] }

export function loadGroups(dir = FIXTURE_DIR): Group[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .map((file) => {
      const lines = readFileSync(join(dir, file), 'utf8').split('\n').filter((l) => l.length > 0);
      const parse = (l: string, n: number) => {
        try {
          return JSON.parse(l);
        } catch (e) {
          throw new Error(`${file}:${n + 1}: not JSON (${(e as Error).message})`);
        }
      };
      return { file, header: parse(lines[0], 0) as Header, vectors: lines.slice(1).map((l, n) => parse(l, n + 1) as Vector) };
    });
}

export const REGS = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
const ALL = [...REGS, 'eflags'];

/** All nine output values (EAX..EDI, EFLAGS): the changed ones from `o`, the rest from `i`. */
export function outputs(v: Vector): number[] {
  return ALL.map((n, k) => (v.o[n] ?? v.i[k]) >>> 0);
}

export function bytesOf(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The region's output bytes as hex: its input with the changed runs ("offset:hex") applied. */
export function regionOut(m: [number, string, string]): string {
  if (m[2] === '=') return m[1];
  let out = m[1];
  for (const run of m[2].split(' ')) {
    const [off, bytes] = run.split(':');
    const at = 2 * Number(off);
    out = out.slice(0, at) + bytes + out.slice(at + bytes.length);
  }
  return out;
}

/** True when a region output is "=" or well-formed runs inside the region. */
export function regionOutOk(m: [number, string, string]): boolean {
  if (m[2] === '=') return true;
  return m[2].split(' ').every((run) => {
    const r = /^(\d+):((?:[0-9a-f]{2})+)$/.exec(run);
    return r !== null && 2 * Number(r[1]) + r[2].length <= m[1].length;
  });
}

/** Bit mask of undefined bits for register index r (0..7). */
export function undefinedRegMask(v: Vector, r: number): number {
  let mask = 0;
  for (const u of v.u ?? []) if (u[0] === 'reg' && u[1] === REGS[r]) mask |= u[2];
  return mask >>> 0;
}

/** True when byte `off` of region `k` is undefined. */
export function undefinedByte(v: Vector, k: number, off: number): boolean {
  return (v.u ?? []).some((u) => u[0] === 'mem' && u[1] === k && off >= u[2] && off < u[2] + u[3]);
}

const PREFIXES = new Set([0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]);
/** One-byte opcodes in the vectors that take a ModRM byte. */
const MODRM1 = new Set([...Array.from({ length: 64 }, (_, i) => i).filter((i) => (i & 7) < 4),
  0x62, 0x63, 0x69, 0x6b, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8d, 0x8f,
  0xc0, 0xc1, 0xc6, 0xc7, 0xd0, 0xd1, 0xd2, 0xd3, 0xf6, 0xf7, 0xfe, 0xff]);
const GROUP1 = new Set([0x80, 0x81, 0x82, 0x83, 0x8f, 0xc0, 0xc1, 0xc6, 0xc7, 0xd0, 0xd1, 0xd2, 0xd3, 0xf6, 0xf7, 0xfe, 0xff]);
const MODRM2 = new Set([0x1f, ...Array.from({ length: 16 }, (_, i) => 0x40 + i), ...Array.from({ length: 16 }, (_, i) => 0x90 + i),
  0xa3, 0xa4, 0xa5, 0xab, 0xac, 0xad, 0xaf, 0xb0, 0xb1, 0xb3, 0xb6, 0xb7, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1, 0xc7]);
const GROUP2 = new Set([0xba, 0xc7, 0x1f]);
const PLUS_R1 = [0x40, 0x48, 0x50, 0x58, 0x90, 0xb0, 0xb8];
const STRING = new Set([0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf]);

/**
 * The opcode form of an instruction read from its bytes alone (not from the generator's
 * names): "0f ba /5 mem o16", "f3 a5 a16", "40+r o16" ... Used to check coverage.
 */
export function opcodeKey(bytes: Uint8Array): string {
  let i = 0;
  const pre = new Set<number>();
  while (PREFIXES.has(bytes[i])) pre.add(bytes[i++]);
  let key: string;
  let modrm = false, group = false;
  const h = (b: number) => b.toString(16).padStart(2, '0');
  if (bytes[i] === 0x0f) {
    const op = bytes[i + 1];
    i += 2;
    if (op >= 0xc8 && op <= 0xcf) key = '0f c8+r';
    else { key = `0f ${h(op)}`; modrm = MODRM2.has(op); group = GROUP2.has(op); }
  } else {
    const op = bytes[i++];
    const plus = PLUS_R1.find((b) => op >= b && op < b + 8 && !(b === 0x90 && op === 0x90));
    key = plus !== undefined ? `${h(plus)}+r` : h(op);
    modrm = plus === undefined && MODRM1.has(op);
    group = plus === undefined && GROUP1.has(op);
    if (STRING.has(op) && pre.has(0xf3)) key = `f3 ${key}`;
    if (STRING.has(op) && pre.has(0xf2)) key = `f2 ${key}`;
  }
  if (modrm) {
    const m = bytes[i];
    if (group) key += ` /${(m >> 3) & 7}`;
    key += (m >> 6) === 3 ? ' reg' : ' mem';
  }
  if (pre.has(0x66)) key += ' o16';
  if (pre.has(0x67)) key += ' a16';
  return key;
}
