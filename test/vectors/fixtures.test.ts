/**
 * The captured instruction vectors themselves: well-formed, enough of them, every opcode
 * form the CPU core must implement present (read from the bytes, not from the names), and,
 * where `gcc -m32` works, a sample re-executed on this machine's CPU agrees with them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bytesOf, loadGroups, opcodeKey, outputs, regionOut, regionOutOk, REGS, undefinedByte, undefinedRegMask, Vector } from './fixtures.js';
import { hasTool } from '../helpers/tools.js';

const NAMES: string[] = [...REGS, 'eflags'];

const groups = loadGroups();
const all = groups.flatMap((g) => g.vectors);
const RUNNER_SRC = join(dirname(fileURLToPath(import.meta.url)), '../../tools/vectors/runner.c');

const hexOk = (s: string) => /^([0-9a-f]{2})+$/.test(s);
const u32 = (n: unknown) => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 0xffffffff;

describe('instruction vector fixtures', () => {
  it('have a header stating the CPU, the date, the layout and the undefined flags per form', () => {
    expect(groups.length).toBeGreaterThanOrEqual(19);
    for (const g of groups) {
      const h = g.header;
      expect(h.format, g.file).toBe('wasmvisor-vectors/1');
      expect(h.cpu.modelName, g.file).toMatch(/\S/);
      expect(h.cpu.family, g.file).toMatch(/^\d+$/);
      expect(Number.isNaN(Date.parse(h.captured)), g.file).toBe(false);
      expect(h.count, g.file).toBe(g.vectors.length);
      const w = h.layout;
      for (const a of [w.data, w.src, w.dst, w.stack]) expect(a >= w.window && a < w.window + w.windowSize).toBe(true);
      for (const [name, f] of Object.entries(h.forms)) {
        expect(typeof f.undefined, name).toBe('string');
        expect(f.masks.length, name).toBeGreaterThan(0);
        // A form whose rule says nothing is undefined has no mask.
        if (f.undefined === 'none') expect(f.masks, name).toEqual(['none']);
        expect(g.vectors.filter((v) => v.f === name).length, `${g.file}: ${name}`).toBe(f.count);
      }
    }
  });

  it('are well-formed vectors whose memory lies in the watched window (no page faults)', () => {
    const bad: string[] = [];
    for (const g of groups) {
      const w = g.header.layout;
      g.vectors.forEach((v, n) => {
        const where = `${g.file}:${n + 2} ${v.f}`;
        const ok = hexOk(v.b) && (v.b.length <= 30 || (v.b.length <= 64 && v.x?.[0] === 13)) && v.i.length === 9 && typeof v.o === 'object' &&
          Object.keys(v.o).every((n) => NAMES.includes(n)) && [...v.i, ...outputs(v)].every(u32) && (v.uf === undefined || u32(v.uf)) &&
          v.m.every(([a, i, o]) => u32(a) && hexOk(i) && regionOutOk([a, i, o]) &&
            a >= w.window && a + i.length / 2 <= w.window + w.windowSize) &&
          (v.x === undefined || (v.x.length === 3 && v.x.every(Number.isInteger) && v.x[0] !== 14)) &&
          (v.i[8] & 0x40100) === 0 && (v.i[8] & 0x202) === 0x202;
        if (!ok) bad.push(where);
      });
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('number at least 20,000', () => {
    console.log(groups.map((g) => `${g.header.group}: ${g.vectors.length}`).join(', ') + `; total ${all.length}`);
    expect(all.length).toBeGreaterThanOrEqual(20000);
  });

  it('cover every user-mode opcode form the core must implement', () => {
    const have = new Map<string, number>();
    for (const v of all) {
      const k = opcodeKey(bytesOf(v.b));
      have.set(k, (have.get(k) ?? 0) + 1);
    }
    const missing = requiredForms().filter((k) => (have.get(k) ?? 0) < 10);
    expect(missing).toEqual([]);
  });

  it('contain the edge cases: #DE, AAM 0, zero BSF/BSR sources, far bit offsets, string directions, limits, branches', () => {
    const by = (p: (v: Vector) => boolean) => all.filter(p).length;
    const key = (v: Vector) => opcodeKey(bytesOf(v.b));
    expect(by((v) => /^f[67] \/[67]/.test(key(v)) && v.x?.[0] === 0)).toBeGreaterThan(100);
    expect(by((v) => /^f[67] \/[67]/.test(key(v)) && !v.x)).toBeGreaterThan(500);
    expect(by((v) => v.b === 'd400' && v.x?.[0] === 0)).toBeGreaterThan(5);
    expect(by((v) => /^0f b[cd]/.test(key(v)) && (v.u ?? []).length > 0)).toBeGreaterThan(20);
    // BT with a register offset into memory beyond the addressed operand.
    expect(by((v) => /^0f (a3|ab|b3|bb) mem/.test(key(v)) && v.m[0][1] !== regionOut(v.m[0]) )).toBeGreaterThan(50);
    const strings = all.filter((v) => /^(f[23] )?a[4-9a-f]/.test(key(v)));
    expect(strings.filter((v) => v.i[8] & 0x400).length).toBeGreaterThan(200);
    expect(strings.filter((v) => !(v.i[8] & 0x400)).length).toBeGreaterThan(200);
    // 16-bit code: both operand sizes, memory, strings and the stack.
    expect(by((v) => v.c === 1 && v.b.startsWith('66'))).toBeGreaterThan(1500);
    expect(by((v) => v.c === 1 && !v.b.startsWith('66'))).toBeGreaterThan(1500);
    expect(by((v) => v.c === 1 && v.m.length > 0)).toBeGreaterThan(1500);
    // 16-bit stack: with the upper half of ESP set, which SP-based pushes must keep.
    expect(by((v) => v.k === 1 && v.i[4] >>> 16 !== 0 && !v.x)).toBeGreaterThan(500);
    // Expand-down segment from both sides, and a REP STOS that stored some elements, then faulted.
    expect(by((v) => v.d === 1 && v.x?.[0] === 13)).toBeGreaterThan(50);
    expect(by((v) => v.d === 1 && !v.x)).toBeGreaterThan(50);
    expect(by((v) => v.d === 1 && v.x !== undefined && v.m.some((m) => m[2] !== '='))).toBeGreaterThan(10);
    // Every Jcc seen taken and not taken; over-long instructions.
    for (let cc = 0; cc < 16; cc++) {
      const jcc = all.filter((v) => v.b.startsWith((0x70 + cc).toString(16)) && v.t !== undefined);
      expect(jcc.some((v) => v.e === v.t) && jcc.some((v) => v.e !== v.t), `Jcc ${cc}`).toBe(true);
    }
    expect(by((v) => v.b.length > 30 && v.x?.[0] === 13)).toBeGreaterThan(10);
    // The seg group (CPL 3, the runner's LDT): POP SS from the top of a 16-bit stack to a
    // B = 1 segment (SP wraps, ESP's upper half kept), ARPL on read-only data with and
    // without the write, LAR/LSL/VERR/VERW both ways, segment loads that fault.
    const seg = all.filter((v) => v.g !== undefined);
    const b1 = [0x1f, 0x37];
    const wraps = seg.filter((v) => /^(66)?17$/.test(v.b) && v.ss === 0x27 && (v.i[4] & 0xffff) === 0xfffc &&
      !v.x && b1.includes(v.g![0]) && ((v.o.esp ?? v.i[4]) & 0xffff) === (v.b === '17' ? 0 : 0xfffe));
    expect(wraps.length).toBeGreaterThan(10);
    const arplRo = seg.filter((v) => v.b.startsWith('63') && v.ds === 0x2f);
    expect(arplRo.filter((v) => !v.x).length).toBeGreaterThan(20);
    expect(arplRo.filter((v) => v.x?.[0] === 13).length).toBeGreaterThan(20);
    for (const op of ['0f02', '0f03', '660f02', '660f03']) {
      const zf = seg.filter((v) => v.b.startsWith(op))
        .map((v) => ((v.o.eflags ?? v.i[8]) >> 6) & 1);
      expect(zf.filter((z) => z === 1).length, op).toBeGreaterThan(20);
      expect(zf.filter((z) => z === 0).length, op).toBeGreaterThan(10);
    }
    for (const vec of [11, 12, 13]) {
      expect(seg.filter((v) => v.x?.[0] === vec).length, `exception ${vec}`).toBeGreaterThan(5);
    }
    // Shift counts 0, 1, 31, 32, 33 for every shift opcode with an immediate count.
    for (const c of [0, 1, 31, 32, 33]) {
      expect(by((v) => /^c[01] /.test(key(v)) && parseInt(v.b.slice(-2), 16) === c), `count ${c}`).toBeGreaterThan(20);
    }
  });

  const gcc = hasTool('gcc -m32');
  describe.skipIf(!gcc)('re-run on this host CPU (gcc -m32)', () => {
    it('gives the same results for a sample of every group', () => {
      const dir = mkdtempSync(join(tmpdir(), 'vectors-'));
      try {
        const bin = join(dir, 'runner');
        execFileSync('gcc', ['-m32', '-O2', '-static', '-o', bin, RUNNER_SRC]);
        const sameCpu = isCaptureCpu(groups[0].header.cpu);
        if (!sameCpu) console.warn('instruction vectors: another CPU model than the capture; undefined bits are masked');
        // VECTORS_FULL=1 re-runs every vector, in reverse order (a different history for each).
        const sample = process.env.VECTORS_FULL
          ? all.slice().reverse()
          : all.filter((_, n) => n % 13 === 0 || all[n].x !== undefined);
        const input = sample.map(runnerLine).join('\n') + '\n';
        const run = spawnSync(bin, [], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
        expect(run.status, run.stderr).toBe(0);
        const lines = run.stdout.split('\n');
        const diffs: string[] = [];
        sample.forEach((v, n) => {
          const d = compareRun(v, lines[n], sameCpu);
          if (d) diffs.push(`${v.f} [${v.b}]: ${d}`);
        });
        expect(sample.length).toBeGreaterThan(3000);
        expect(diffs.slice(0, 10)).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

/** Same vendor, model name, family, model and stepping as the CPU the vectors came from. */
function isCaptureCpu(cpu: Record<string, string>): boolean {
  const first = readFileSync('/proc/cpuinfo', 'utf8').split('\n\n')[0];
  const get = (k: string) => first.match(new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm'))?.[1] ?? '';
  return get('vendor_id') === cpu.vendor && get('model name') === cpu.modelName && get('cpu family') === cpu.family &&
    get('model') === cpu.model && get('stepping') === cpu.stepping;
}

function runnerLine(v: Vector): string {
  const regs = v.i.map((r) => r.toString(16)).join(',');
  const k = v.k ? (v.ss !== undefined ? ` K${v.ss.toString(16)}` : ' K') : '';
  const d = v.ds !== undefined ? ` D${v.ds.toString(16)}` : v.s ? ' S' : '';
  const t = v.t !== undefined ? ` T${v.t}` : '';
  const mem = v.m.map(([a, i]) => ` M${a.toString(16)}:${i}`).join('');
  return `B${v.b} R${regs}${d}${v.c ? ' C' : ''}${k}${v.d ? ' X' : ''}${v.g ? ' G' : ''}${t}${mem}`;
}

/** Differences between a runner output line and the vector, or '' when they agree. */
function compareRun(v: Vector, line: string, exact: boolean): string {
  let t = (line ?? '').trim().split(' ');
  const end = t.find((tok) => tok.startsWith('E'));
  const segs = t.find((tok) => tok.startsWith('G'));
  t = t.filter((tok) => !tok.startsWith('E') && !tok.startsWith('G'));
  if ((end ? parseInt(end.slice(1), 10) : undefined) !== v.e) return `EIP ended at ${end}, recorded ${v.e}`;
  const g = segs?.slice(1).split(',').map((x) => parseInt(x, 16));
  if (JSON.stringify(g) !== JSON.stringify(v.g)) {
    return `SS/DS/ES ${segs}, recorded ${JSON.stringify(v.g)}`;
  }
  const regs = (tok: string) => tok.slice(1).split(',').map((x) => parseInt(x, 16) >>> 0);
  let o: number[], mem: string[], x: number[] | undefined;
  if (t[0] === 'ok') { o = regs(t[1]); mem = t.slice(2).map((s) => s.slice(1)); }
  else if (t[0] === 'ex') { x = [1, 2, 3].map((k) => parseInt(t[k], 16) | 0); o = regs(t[4]); mem = t.slice(5).map((s) => s.slice(1)); }
  else return `runner: ${line}`;
  if (JSON.stringify(x) !== JSON.stringify(v.x)) return `exception ${JSON.stringify(x)} != ${JSON.stringify(v.x)}`;
  const want = outputs(v);
  for (let r = 0; r < 9; r++) {
    const m = exact ? 0 : r === 8 ? v.uf ?? 0 : undefinedRegMask(v, r);
    if (((o[r] ^ want[r]) & ~m) !== 0) return `register ${r}: ${o[r].toString(16)} != ${want[r].toString(16)}`;
  }
  for (let k = 0; k < v.m.length; k++) {
    const want = regionOut(v.m[k]);
    for (let b = 0; b < want.length / 2; b++) {
      if (!exact && undefinedByte(v, k, b)) continue;
      if (want.slice(2 * b, 2 * b + 2) !== mem[k]?.slice(2 * b, 2 * b + 2)) return `memory region ${k} byte ${b}`;
    }
  }
  return '';
}

/** The opcode forms of the task list, as opcodeKey spells them. */
function requiredForms(): string[] {
  const k: string[] = [];
  const h = (b: number) => b.toString(16).padStart(2, '0');
  const rm = (base: string, o16 = false) => {
    for (const m of ['reg', 'mem']) { k.push(`${base} ${m}`); if (o16) k.push(`${base} ${m} o16`); }
  };
  for (let op = 0; op < 8; op++) {
    rm(h(op * 8)); rm(h(op * 8 + 1), true); rm(h(op * 8 + 2)); rm(h(op * 8 + 3), true);
    k.push(h(op * 8 + 4), h(op * 8 + 5), `${h(op * 8 + 5)} o16`);
    for (const o of [0, 1, 2, 3]) k.push(`${h(op * 8 + o)} mem a16`);
    k.push(`80 /${op} mem a16`, `81 /${op} mem a16`, `83 /${op} mem a16`);
    rm(`80 /${op}`); rm(`82 /${op}`); rm(`81 /${op}`, true); rm(`83 /${op}`, true);
    for (const s of ['c0', 'd0', 'd2']) rm(`${s} /${op}`);
    for (const s of ['c1', 'd1', 'd3']) rm(`${s} /${op}`, true);
  }
  k.push('40+r', '40+r o16', '48+r', '48+r o16');
  for (const r of [0, 1]) { rm(`fe /${r}`); rm(`ff /${r}`, true); }
  for (const r of [0, 2, 3, 4, 5, 6, 7]) { rm(`f6 /${r}`); rm(`f7 /${r}`, true); }
  rm('84'); rm('85', true); k.push('a8', 'a9', 'a9 o16');
  for (const o of ['a4', 'a5', 'ac', 'ad', 'af', 'a3', 'ab', 'b3', 'bb', 'bc', 'bd', 'b1', 'c1', 'b7', 'bf']) rm(`0f ${o}`, true);
  for (const r of [4, 5, 6, 7]) rm(`0f ba /${r}`, true);
  rm('0f b6', true); rm('0f be', true); rm('0f b0'); rm('0f c0');
  rm('69', true); rm('6b', true);
  k.push('27', '2f', '37', '3f', 'd4', 'd5');
  for (let c = 0; c < 16; c++) { rm(`0f ${h(0x90 + c)}`); rm(`0f ${h(0x40 + c)}`, true); }
  for (const s of [0xa4, 0xa5, 0xaa, 0xab, 0xac, 0xad]) {
    for (const p of ['', 'f3 ']) for (const sz of ['', ' o16']) for (const a of ['', ' a16']) {
      if (s % 2 === 0 && sz) continue;
      k.push(`${p}${h(s)}${sz}${a}`);
    }
  }
  for (const s of [0xa6, 0xa7, 0xae, 0xaf]) {
    for (const p of ['', 'f3 ', 'f2 ']) for (const sz of ['', ' o16']) for (const a of ['', ' a16']) {
      if (s % 2 === 0 && sz) continue;
      k.push(`${p}${h(s)}${sz}${a}`);
    }
  }
  k.push('98', '98 o16', '99', '99 o16', '9e', '9f', '90+r', '90+r o16', '0f c8+r', '0f c7 /1 mem', 'd7');
  rm('86'); rm('87', true);
  k.push('8d mem', '8d mem o16', '8d mem a16', '8d mem o16 a16');
  for (const s of ['9c', '9d', '60', '61', 'c8', 'c9', '50+r', '58+r', '68', '6a']) k.push(s, `${s} o16`);
  for (let c = 0; c < 16; c++) k.push(h(0x70 + c), `0f ${h(0x80 + c)}`);
  k.push('eb', 'e9', 'e8', 'c3', 'c2', 'e0', 'e1', 'e2', 'e3', 'e0 a16', 'e1 a16', 'e2 a16', 'e3 a16');
  for (const m of ['reg', 'mem', 'mem a16']) k.push(`ff /4 ${m}`, `ff /2 ${m}`);
  rm('88'); rm('8a'); rm('89', true); rm('8b', true); rm('c6 /0'); rm('c7 /0', true);
  k.push('b0+r', 'b8+r', 'b8+r o16', 'a0', 'a1', 'a2', 'a3', 'a1 o16', 'a0 a16', 'a3 a16');
  k.push('63 reg', '63 mem', '63 mem a16', '90', 'd6', 'cc', 'ce', '62 mem', '62 mem o16', '62 mem a16', '0f 0b', '0f 1f /0 mem', '0f 1f /0 reg');
  k.push('ff /6 mem', '8f /0 mem', 'ff /6 mem a16', '8f /0 mem a16', 'd7 a16', 'f8', 'f9', 'f5', 'fc', 'fd');
  for (const s of ['f6 /6', 'f7 /7', 'd3 /4', 'c1 /2', '0f a3', '0f bc', '0f 94', '0f 44', '0f b6', '0f b1', '0f c7 /1']) k.push(`${s} mem a16`);
  return k;
}
