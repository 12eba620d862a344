/**
 * Replays every captured instruction vector (test/fixtures/vectors, recorded on a real
 * CPU by tools/vectors) on wasmvisor's core and compares registers, EFLAGS (without the
 * bits the SDM leaves undefined for that vector), memory and exceptions. A failing group
 * lists, per opcode form, how many vectors failed and the first mismatches.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Core, CoreOptions } from '../../bindings/core/types.js';
import { loadGroups, type Vector } from './fixtures.js';
import { OracleCore } from './oracle.js';
import { MACHINE, prepare, replayGroup, replayRing3Vector, report, ring3Of } from './replay.js';

const groups = loadGroups();
const layout = groups[0].header.layout;
const CORE_MODULE = join(dirname(fileURLToPath(import.meta.url)), '../../bindings/core/index.ts');

describe('the replay harness', () => {
  it('accepts the recorded results and names damaged ones', () => {
    // The oracle plays the flat CPL-0 setup; the ring-3 group is checked below.
    const sample = groups.filter((g) => !ring3Of(g.header))
      .flatMap((g) => g.vectors.filter((_, n) => n % 17 === 0));
    const good = new OracleCore(layout);
    prepare(good, layout);
    const ok = replayGroup(good, sample, layout, (v) => good.expect(v));
    expect(report('sample', ok)).toMatch(/^sample: 0 of \d+ vectors fail/);

    // A core that gets a defined flag, a register, memory or an exception wrong must fail.
    const damages: [string, ConstructorParameters<typeof OracleCore>[1], RegExp][] = [
      ['carry', (v, r) => { if (!((v.uf ?? 0) & 1) && !v.x) r.eflags ^= 1; }, /eflags .*CF differ/],
      ['ebx', (v, r) => { if (!v.u) r.ebx ^= 0x100; }, /ebx [0-9a-f]+, want/],
      ['memory', (v, _r, m) => { if (v.m.length && !v.u && !v.x) m[v.m[0][0]] ^= 0x80; }, /memory [0-9a-f]+ = /],
      ['no fault', (v, r) => { if (v.x) r.eip = (v.c ? 0 : layout.code) + v.b.length / 2 + 1; }, /no exception, the CPU raised exception/],
    ];
    for (const [what, damage, message] of damages) {
      const bad = new OracleCore(layout, damage);
      prepare(bad, layout);
      const text = report(what, replayGroup(bad, sample, layout, (v) => bad.expect(v)));
      expect(text, what).not.toMatch(/: 0 of/);
      expect(text, what).toMatch(message);
    }
  });
});

describe('the ring-3 replay', () => {
  it('names a wrong stack pointer, segment register, exception or memory byte', async () => {
    const g = groups.find((x) => ring3Of(x.header));
    expect(g, 'the seg group (captured at CPL 3 with an LDT)').toBeDefined();
    const r3 = ring3Of(g!.header)!;
    const mod = (await import(/* @vite-ignore */ pathToFileURL(CORE_MODULE).href)) as {
      createCore(o: CoreOptions): Core | Promise<Core>;
    };
    const c = await mod.createCore({ ramBytes: MACHINE.ramBytes });
    prepare(c, layout, false, r3);
    const ok = g!.vectors.filter((v) => !v.x && v.k && v.g).slice(0, 20);
    const faults = g!.vectors.filter((v) => v.x).slice(0, 20);
    expect(ok.length).toBe(20);
    expect(faults.length).toBe(20);
    for (const v of [...ok, ...faults]) expect(replayRing3Vector(c, v, layout, r3), v.f).toBe('');
    // The first byte of the first region, changed.
    const flip = (hex: string) => (hex.slice(0, 2) === 'ff' ? '00' : 'ff');
    const damaged: [string, (v: Vector) => Vector, RegExp][] = [
      ['esp', (v) => ({ ...v, o: { ...v.o, esp: ((v.o.esp ?? v.i[4]) ^ 0x10000) >>> 0 } }),
        /esp [0-9a-f]+, want/],
      ['ss', (v) => ({ ...v, g: [v.g![0] ^ 8, v.g![1], v.g![2]] }), /SS\/DS\/ES/],
      ['fault', (v) => ({ ...v, x: [13, 0, 0] }), /no exception, the CPU raised exception 13/],
      ['memory', (v) => ({ ...v, m: v.m.map((m, k) => (k ? m : [m[0], m[1], `0:${flip(m[1])}`])) }),
        /memory [0-9a-f]+ = /],
    ];
    for (const [what, damage, message] of damaged) {
      for (const v of ok.slice(0, 5)) {
        expect(replayRing3Vector(c, damage(v), layout, r3), what).toMatch(message);
      }
    }
    for (const v of faults.slice(0, 5)) {
      const wrongCode: Vector = { ...v, x: [v.x![0], (v.x![1] ^ 4) >>> 0, v.x![2]] };
      expect(replayRing3Vector(c, wrongCode, layout, r3)).toMatch(/error code|exception/);
    }
  });
});

const summary: string[] = [];
afterAll(() => {
  if (summary.length) console.log(`instruction vectors on the core:\n${summary.join('\n')}`);
});

/**
 * Every vector with paging off; with paging on (1:1 map, 4 KiB pages), every fourth vector
 * and all the page-boundary ones.
 */
for (const paging of [false, true]) {
  describe(`instruction vectors replayed on the core${paging ? ', paging on' : ''}`, () => {
    if (!existsSync(CORE_MODULE)) {
      it('needs the core', () => {
        throw new Error('bindings/core/index.ts does not exist: the vectors cannot be replayed on the core');
      });
      return;
    }
    let core: Core | undefined;
    const getCore = async (): Promise<Core> => {
      if (!core) {
        const mod = (await import(/* @vite-ignore */ pathToFileURL(CORE_MODULE).href)) as {
          createCore(o: CoreOptions): Core | Promise<Core>;
        };
        core = await mod.createCore({ ramBytes: MACHINE.ramBytes });
        prepare(core, layout, paging);
      }
      return core;
    };
    for (const g of groups) {
      const vectors = paging && g.header.group !== 'page' ? g.vectors.filter((_, n) => n % 4 === 0) : g.vectors;
      it(`${g.header.group} (${vectors.length} vectors from ${g.header.cpu.modelName})`, async () => {
        const c = await getCore();
        const ring3 = ring3Of(g.header);
        prepare(c, layout, paging, ring3);
        const tally = replayGroup(c, vectors, g.header.layout, undefined, 3,
          ring3 && { core: c, r: ring3 });
        const text = report(`${g.header.group}${paging ? ' (paging)' : ''}`, tally);
        summary.push(text.split('\n')[0]);
        const failed = [...tally.values()].reduce((s, t) => s + t.failed, 0);
        expect(failed, text).toBe(0);
        // Paging really was on: the core walked page tables.
        if (paging) expect(c.counters().pageWalks).toBeGreaterThan(0);
      });
    }
  });
}
