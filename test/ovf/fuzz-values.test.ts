/**
 * Fuzzing the values: 10,000 descriptors made from the forms fixtures (Cisco-, VMware- and
 * oVirt-shaped) by replacing attribute values and element texts with values at the edges
 * of what DSP0243 and DSP0004 allow (hrefs that leave the package, blank and huge units,
 * shared InstanceIDs, bounds, configuration ids, property types and qualifiers), plus
 * structural cuts. Each goes through read, validate, map (every configuration), write and
 * read again, the properties and the OVF environment: a result or an OvfError, never
 * another exception; the heap stays bounded. Deterministic (seeded xorshift).
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readOvf } from '../../bindings/ovf/reader.js';
import { writeOvf } from '../../bindings/ovf/writer.js';
import { validateOvf } from '../../bindings/ovf/validate.js';
import { toVmConfig } from '../../bindings/ovf/to-config.js';
import { OvfError } from '../../bindings/ovf/errors.js';
import { virtualSystems } from '../../bindings/ovf/model.js';
import { configurationIds } from '../../bindings/ovf/interpret.js';
import {
  assignProperties, environmentXml, propertyValues,
} from '../../bindings/ovf/environment.js';
import { REPO } from './helpers.js';

const CASES = Number(process.env.WASMVISOR_FUZZ_CASES ?? 10_000);
const FORMS = join(REPO, 'test/fixtures/ovf/forms');
const SEEDS = readdirSync(FORMS).filter((f) => f.endsWith('.ovf')).sort()
  // White space between elements removed: half the parse time, the same descriptors.
  .map((f) => readFileSync(join(FORMS, f), 'utf8').replace(/>\s+</g, '><'));

const VALUES = [
  '', ' ', '0', '-1', '1', '2', '4', '65536', '18446744073709551616', '1e3', '0x10',
  '..', '../x.vmdk', '..\\..\\x', 'a/../b', '/etc/passwd', 'C:\\x', 'disks\\d.vmdk',
  'byte * 2 ^ 30', 'byte*2^ 99', 'byte * 2^-3', 'bit * 2^3', 'hertz * 10^6', 'byte * 0',
  'min', 'max', 'normal', 'MAX', 'true', 'false', '1CPU-1GB', '4CPU-2GB 2CPU-2GB', 'nope',
  '${hostname}', 'ovf:/disk/vmdisk1', 'ovf:/disk/', 'ovf:/file/file1', 'uint8', 'sint64',
  'real32', 'boolean', 'MaxLen(0)', 'MinValue(5) MaxValue(1)', 'ValueMap{"a"}', 'ValueMap{',
  '&amp;', '&lt;x&gt;', 'x'.repeat(300),
];

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

/** Replaces 1-3 attribute values or texts; sometimes duplicates or drops an element. */
function mutate(text: string, r: () => number): string {
  let t = text;
  for (let n = 1 + (r() % 3); n > 0; n--) {
    const k = r() % 10;
    if (k < 5) {
      const attrs = [...t.matchAll(/="([^"]*)"/g)];
      if (!attrs.length) continue;
      const m = attrs[r() % attrs.length];
      t = t.slice(0, m.index! + 2) + VALUES[r() % VALUES.length] +
        t.slice(m.index! + 2 + m[1].length);
    } else if (k < 8) {
      const texts = [...t.matchAll(/>([^<>]+)</g)];
      if (!texts.length) continue;
      const m = texts[r() % texts.length];
      t = t.slice(0, m.index! + 1) + VALUES[r() % VALUES.length] +
        t.slice(m.index! + 1 + m[1].length);
    } else {
      // Duplicate or drop one Item/Disk/File/Property/Configuration element.
      const els = [...t.matchAll(
        /<((?:ovf:)?(?:Item|Disk|File|Property|Configuration|Network))\b[\s\S]*?(?:\/>|<\/\1>)/g,
      )];
      if (!els.length) continue;
      const m = els[r() % els.length];
      t = k === 8
        ? t.slice(0, m.index!) + m[0] + m[0] + t.slice(m.index! + m[0].length)
        : t.slice(0, m.index!) + t.slice(m.index! + m[0].length);
    }
  }
  return t;
}

function pipeline(text: string, r: () => number): string {
  try {
    const env = readOvf(text);
    validateOvf(env);
    const configs = [undefined, ...configurationIds(env)];
    for (const vs of virtualSystems(env.content)) {
      for (const c of configs) {
        try {
          toVmConfig(env, { virtualSystem: vs.id, configuration: c });
        } catch (e) {
          if (!(e instanceof OvfError)) throw e;
        }
      }
      const values = propertyValues(vs, configs[r() % configs.length]);
      if (values.length) {
        const key = values[r() % values.length].property.key;
        try {
          assignProperties(values, { [key]: VALUES[r() % VALUES.length] });
        } catch (e) {
          if (!(e instanceof OvfError)) throw e;
        }
      }
      environmentXml(vs.id, values);
    }
    // Writing and reading back is the slow half (two parses): every eighth case.
    if (r() % 8 === 0) readOvf(writeOvf(env));
    return 'ok';
  } catch (e) {
    if (e instanceof OvfError) return e.code;
    throw e;
  }
}

describe('fuzzing values', () => {
  it(`${CASES} mutated descriptors end in a result or an OvfError, memory bounded`, () => {
    const r = rng(0x5eed0f);
    const seen = new Map<string, number>();
    const heap0 = process.memoryUsage().heapUsed;
    for (let i = 0; i < CASES; i++) {
      const m = mutate(SEEDS[i % SEEDS.length], r);
      let code: string;
      try {
        code = pipeline(m, r);
      } catch (e) {
        throw new Error(`case ${i}: ${(e as Error).stack}\n--- input ---\n${m.slice(0, 3000)}`);
      }
      seen.set(code, (seen.get(code) ?? 0) + 1);
    }
    expect(seen.get('ok')).toBeGreaterThan(CASES / 4);
    expect(seen.get('invalid') ?? 0).toBeGreaterThan(0);
    // Nothing is kept across cases: the heap ends within 100 MB of where it started.
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(100 * 2 ** 20);
  });
});
