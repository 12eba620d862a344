/**
 * The memory layout (scripts/layout.mjs): its computed offsets checked here on their own
 * (no two fields overlap, every field lies in its block and is aligned, no two blocks
 * overlap), the two generated modules current and in agreement, the built cores' static
 * data inside the block reserved for it, and no offset typed by hand in the sources.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  computeLayout, blocks, structs, counts, exits, LayoutError,
} from '../../scripts/layout.mjs';
import { layoutSources, GENERATED } from '../../scripts/gen-layout.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

interface Extent { name: string; block: string; start: number; bytes: number; align: number }
const { values, extents } = computeLayout() as {
  values: Map<string, number>; extents: Extent[];
};
const v = (name: string): number => {
  const x = values.get(name);
  if (x === undefined) throw new Error(`layout has no ${name}`);
  return x;
};

/** The constants of a generated module: `export const NAME[: u32] = VALUE;` lines. */
function parseGenerated(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('//')) continue;
    const r = /^export const ([A-Z][A-Z0-9_]*)(?:: u32)? = (0x[0-9a-f]+|\d+);$/.exec(line);
    if (!r) throw new Error(`unexpected line in a generated layout: ${line}`);
    m.set(r[1], Number(r[2]));
  }
  return m;
}

/** Active data segments of a wasm module: [offset, length] (the binary format, 5.5.14). */
function dataSegments(wasm: Uint8Array): [number, number][] {
  let p = 8;
  const leb = (): number => {
    let r = 0, shift = 0, b;
    do { b = wasm[p++]; r += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return r;
  };
  const out: [number, number][] = [];
  while (p < wasm.length) {
    const id = wasm[p++], size = leb(), end = p + size;
    if (id === 11) {
      for (let n = leb(); n > 0; n--) {
        const flags = leb();
        if (flags === 1) { p += leb(); continue; } // passive: no address
        if (flags === 2) leb(); // memory index
        if (wasm[p++] !== 0x41) throw new Error('data segment offset is not an i32.const');
        let off = 0, shift = 0, b;
        do { b = wasm[p++]; off |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80);
        if (wasm[p++] !== 0x0b) throw new Error('data segment offset expression too long');
        const len = leb();
        out.push([off >>> 0, len]);
        p += len;
      }
    }
    p = end;
  }
  return out;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = posix.join(dir, d.name);
    if (d.isDirectory()) { if (d.name !== 'generated') out.push(...walk(rel)); } else out.push(rel);
  }
  return out;
}

describe('memory layout', () => {
  it('has no two fields overlapping, each inside its block and aligned', () => {
    expect(extents.length).toBeGreaterThan(40);
    const byStart = [...extents].sort((a, b) => a.start - b.start);
    for (let i = 1; i < byStart.length; i++) {
      const a = byStart[i - 1], b = byStart[i];
      expect(a.start + a.bytes, `${a.name} runs into ${b.name}`).toBeLessThanOrEqual(b.start);
    }
    for (const e of extents) {
      const base = v(`${e.block}_BASE`), size = v(`${e.block}_SIZE`);
      expect(e.start, e.name).toBeGreaterThanOrEqual(base);
      expect(e.start + e.bytes, `${e.name} fits ${e.block}`).toBeLessThanOrEqual(base + size);
      expect(e.start % e.align, `${e.name} aligned`).toBe(0);
    }
  });

  it('has no two blocks overlapping, the guard page first and RAM last', () => {
    const spans = blocks.map((b) => [v(`${b.name}_BASE`), values.get(`${b.name}_SIZE`)] as const);
    for (let i = 1; i < spans.length; i++) {
      const [base, size] = spans[i - 1];
      expect(base + (size ?? 0), `${blocks[i - 1].name} ends before ${blocks[i].name}`)
        .toBeLessThanOrEqual(spans[i][0]);
    }
    expect(v('GUARD_BASE')).toBe(0);
    expect(v('GUARD_SIZE')).toBeGreaterThanOrEqual(4096);
    expect(blocks.at(-1)!.name).toBe('RAM');
    // RAM is mapped by 4 KiB pages: its host address keeps the page offset of the guest's.
    expect(v('RAM_BASE') % 4096).toBe(0);
  });

  it('keeps the fields the code indexes by number in encoding order', () => {
    // reg32(r) and the segment caches are indexed by the ModRM / sreg encoding
    // (Intel SDM vol. 2A, 2.1.5, table 2-2: EAX ECX EDX EBX ESP EBP ESI EDI).
    ['S_EAX', 'S_ECX', 'S_EDX', 'S_EBX', 'S_ESP', 'S_EBP', 'S_ESI', 'S_EDI']
      .forEach((r, i) => expect(v(r), r).toBe(v('S_GPR') + 4 * i));
    ['S_DR0', 'S_DR1', 'S_DR2', 'S_DR3'].forEach((r, i) => expect(v(r), r).toBe(v('S_DR') + 4 * i));
    expect(v('SEG_SIZE')).toBe(16);
    // A reset clears everything before the counters: the counters and the configuration
    // come after every guest-state field.
    const counters = extents.filter((e) => e.name.startsWith('S_CNT_') || e.block === 'STATE' &&
      ['S_RAM_BYTES', 'S_A20_MASK', 'S_TSC_PER_INSN', 'S_ROM_END', 'S_STRIO',
        'S_VMX', 'S_SVM', 'S_NESTED_CACHES', 'S_TLB_TAGS'].includes(e.name));
    for (const e of counters) {
      expect(e.start - v('STATE_BASE'), e.name).toBeGreaterThanOrEqual(v('S_COUNTERS'));
    }
    for (const e of extents.filter((x) => x.block === 'STATE' && !counters.includes(x))) {
      expect(e.start + e.bytes - v('STATE_BASE'), e.name).toBeLessThanOrEqual(v('S_COUNTERS'));
    }
  });

  it('generates the same constants for the core and the host, current with the source', () => {
    const [asText, tsText] = layoutSources();
    const as = parseGenerated(asText), ts = parseGenerated(tsText);
    expect([...as]).toEqual([...ts]);
    expect([...as]).toEqual([...values]);
    GENERATED.forEach((file, i) => {
      expect(existsSync(join(ROOT, file)), `${file} (npm run build:wasm)`).toBe(true);
      expect(readFileSync(join(ROOT, file), 'utf8'), `${file} is stale`).toBe([asText, tsText][i]);
    });
  });

  it('puts the static data of every built core inside the DATA block', () => {
    const lo = v('DATA_BASE'), hi = lo + v('DATA_SIZE');
    for (const f of ['build/core.wasm', 'build/core.debug.wasm', 'build/fuzz.wasm']) {
      const segs = dataSegments(readFileSync(join(ROOT, f)));
      expect(segs.length, f).toBeGreaterThan(0);
      for (const [off, len] of segs) {
        expect(off, f).toBeGreaterThanOrEqual(lo);
        expect(off + len, f).toBeLessThanOrEqual(hi);
      }
    }
  });

  it('refuses overlapping blocks, a field that does not fit and a name given twice', () => {
    const decl = (over: Partial<{ blocks: unknown[]; structs: unknown }>) =>
      ({ structs, counts, exits, blocks, ...over });
    const bad = (d: unknown) => () => computeLayout(d as Parameters<typeof computeLayout>[0]);
    const moved = blocks.map((b) => (b.name === 'IOLOG' ? { ...b, base: 0x1200 } : b));
    expect(bad(decl({ blocks: moved }))).toThrow(LayoutError);
    expect(bad(decl({ blocks: moved }))).toThrow(/block IOLOG at 0x1200 overlaps STATE/);
    const small = blocks.map((b) => (b.name === 'RANGES' ? { ...b, size: 0x200 } : b));
    expect(bad(decl({ blocks: small }))).toThrow(/block RANGES: its fields take 1024 bytes/);
    const twice = { ...structs, MMIO_ENTRY: [['MMIO_PHYS', 4], ['SEG_BASE', 4]] };
    expect(bad(decl({ structs: twice }))).toThrow(/SEG_BASE is defined twice/);
  });

  it('has no offset into the state block or a table typed by hand in the sources', () => {
    const files = [...walk('assembly'), ...walk('bindings')].filter((f) => f.endsWith('.ts'));
    // A block base (not RAM's: guest-physical addresses are offsets from it), a state-block
    // field or a table plus a number, or a number times an index.
    const literal = new RegExp('\\b(?:L\\.)?(?:(?!RAM_)[A-Z_]+_BASE|S_[A-Z0-9_]+|[A-Z_]+_TABLE)' +
      '\\s*\\+\\s*(?:\\d|\\(?\\s*\\d+\\s*\\*)');
    const hits: string[] = [];
    for (const f of files) {
      readFileSync(join(ROOT, f), 'utf8').split('\n').forEach((line, i) => {
        if (literal.test(line)) hits.push(`${f}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(hits).toEqual([]);
    // DATA_BASE is written once, in the layout: asconfig.json does not set memoryBase.
    const asconfig = JSON.parse(readFileSync(join(ROOT, 'asconfig.json'), 'utf8'));
    expect(JSON.stringify(asconfig)).not.toMatch(/memoryBase/);
  });
});
