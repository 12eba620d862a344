/**
 * Fuzzing over mutated real samples: whatever the bytes, the reader, validator, mapper
 * and package reader either succeed or fail with an OvfError; never another exception,
 * never a hang. Mutations are deterministic (a seeded xorshift), so a failure replays.
 * WASMVISOR_FUZZ_ROUNDS raises the number of rounds (default keeps CI short).
 */
import { describe, expect, it } from 'vitest';
import tar from 'tar-stream';
import { gzipSync } from 'fflate';
import { formatManifest } from '../../bindings/ovf/manifest.js';
import { readOvf } from '../../bindings/ovf/reader.js';
import { writeOvf } from '../../bindings/ovf/writer.js';
import { validateOvf } from '../../bindings/ovf/validate.js';
import { toVmConfigs } from '../../bindings/ovf/to-config.js';
import { readOva } from '../../bindings/ovf/ova-read.js';
import { OvfError } from '../../bindings/ovf/errors.js';
import { chunks, collect, sample, sampleDescriptors } from './helpers.js';
import { nodeHasher } from '../../bindings/ovf/node/hash-node.js';
import { readFileSync } from 'node:fs';

const ROUNDS = Number(process.env.WASMVISOR_FUZZ_ROUNDS ?? 120);

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

const TOKENS = [
  '<', '>', '/>', '</', '"', '&', '&amp;', ':', 'xmlns="', 'ovf:', '999999999999999999999', '-1',
  'byte * 2^60', '${x}', '\u0000', '\uFFFF', '../', 'ovf:/disk/', '<!DOCTYPE a>', '<![CDATA[',
  ']]>', '<?pi?>',
];

/** One mutation of a text: delete, duplicate, insert a token, flip a byte, truncate. */
function mutate(text: string, r: () => number): string {
  const n = 1 + (r() % 4);
  let t = text;
  for (let k = 0; k < n; k++) {
    const at = r() % Math.max(1, t.length);
    switch (r() % 6) {
      case 0:
        t = t.slice(0, at) + t.slice(at + 1 + (r() % 40));
        break;
      case 1: {
        const len = r() % 200;
        t = t.slice(0, at) + t.slice(at, at + len) + t.slice(at);
        break;
      }
      case 2:
        t = t.slice(0, at) + TOKENS[r() % TOKENS.length] + t.slice(at);
        break;
      case 3:
        t = t.slice(0, at) + String.fromCharCode(r() % 128) + t.slice(at + 1);
        break;
      case 4:
        t = t.slice(0, at);
        break;
      default: {
        // Swap two element names.
        const m = [...t.matchAll(/<([A-Za-z:]+)/g)];
        if (m.length > 2) {
          const a = m[r() % m.length][1];
          const b = m[r() % m.length][1];
          t = t.split(`<${a}`).join(`<${b}`);
        }
      }
    }
  }
  return t;
}

/** Runs the whole descriptor pipeline; returns 'ok' or the OvfError code. */
function pipeline(input: string | Uint8Array): string {
  try {
    const env = readOvf(input);
    validateOvf(env);
    try { toVmConfigs(env); } catch (e) { if (!(e instanceof OvfError)) throw e; }
    readOvf(writeOvf(env));
    return 'ok';
  } catch (e) {
    if (e instanceof OvfError) return e.code;
    throw new Error(`non-OvfError ${String((e as Error)?.stack ?? e)}`);
  }
}

describe('fuzzing', () => {
  it(`descriptors: ${ROUNDS} mutations of each sample end in a model or an OvfError`, () => {
    const seen = new Map<string, number>();
    for (const [name, path] of sampleDescriptors()) {
      const text = readFileSync(path, 'utf8');
      const r = rng(0x9e3779b9 ^ name.length * 7919);
      for (let i = 0; i < ROUNDS; i++) {
        const m = mutate(text, r);
        let code: string;
        try {
          code = pipeline(m);
        } catch (e) {
          throw new Error(
            `${name} round ${i}: ${(e as Error).message}\n--- input ---\n${m.slice(0, 2000)}`,
          );
        }
        seen.set(code, (seen.get(code) ?? 0) + 1);
      }
    }
    // The mutations reach both outcomes and the XML error path.
    expect(seen.get('ok')).toBeGreaterThan(0);
    expect(seen.get('xml')).toBeGreaterThan(0);
  });

  it(`packages: ${ROUNDS} byte mutations of OVAs (plain; ` +
      'gzip-compressed and chunked) end in a result or an OvfError', async () => {
    const pack = async (members: [string, Uint8Array][]) => {
      const p = tar.pack();
      const done = collect(p as unknown as AsyncIterable<Uint8Array>);
      for (const [n, b] of members) p.entry({ name: n }, Buffer.from(b));
      p.finalize();
      return done;
    };
    const plain = await pack(
      ['ubuntu.2.0.ovf', 'ubuntu.2.0.mf', 'ubuntu.2.0-disk1.vmdk'].map((n) => [
        n,
        sample(`cot/${n}`),
      ]),
    );
    // The same disk gzip-compressed and split in 8 KiB chunks, with a SHA1 manifest.
    const gz = gzipSync(sample('cot/ubuntu.2.0-disk1.vmdk'));
    const ovfText = new TextDecoder()
      .decode(sample('cot/ubuntu.2.0.ovf'))
      .replace(
        '<File ovf:href="ubuntu.2.0-disk1.vmdk" ovf:id="file1"/>',
        '<File ovf:href="ubuntu.2.0-disk1.vmdk" ovf:id="file1" ' +
          `ovf:compression="gzip" ovf:chunkSize="8192" ovf:size="${gz.length}"/>`,
      );
    const ovf = new TextEncoder().encode(ovfText);
    const chunksOf: [string, Uint8Array][] = [];
    for (let o = 0, i = 0; o < gz.length; o += 8192, i++)
      chunksOf.push([
        `ubuntu.2.0-disk1.vmdk.${String(i).padStart(9, '0')}`,
        gz.subarray(o, o + 8192),
      ]);
    const sha1 = (b: Uint8Array) => {
      const h = nodeHasher('SHA1');
      h.update(b);
      return h.hex();
    };
    const mf = new TextEncoder().encode(
      formatManifest(
        [['ubuntu.2.0.ovf', ovf] as [string, Uint8Array], ...chunksOf].map(([n, b]) => ({
          algorithm: 'SHA1' as const,
          name: n,
          digest: sha1(b),
        })),
      ),
    );
    const chunked = await pack([['ubuntu.2.0.ovf', ovf], ['ubuntu.2.0.mf', mf], ...chunksOf]);
    const clean = await readOva(chunks(chunked), { hasher: nodeHasher });
    expect(clean.members).toEqual([
      {
        name: 'ubuntu.2.0-disk1.vmdk',
        size: gz.length,
        storedSize: 68608,
        compressed: true,
        verified: 'SHA1',
      },
    ]);

    const r = rng(12345);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < ROUNDS; i++) {
      const ova = i % 2 ? chunked : plain;
      const b = ova.slice();
      const flips = 1 + (r() % 8);
      // Aim at the headers and the descriptor (the first 14 KiB) most of the time.
      for (let k = 0; k < flips; k++) b[r() % (r() % 4 ? 14336 : b.length)] = r() & 0xff;
      const cut = r() % 5 === 0 ? r() % b.length : b.length;
      try {
        await readOva(chunks(b.subarray(0, cut), 1 + (r() % 8192)), { hasher: nodeHasher });
        outcomes.set('ok', (outcomes.get('ok') ?? 0) + 1);
      } catch (e) {
        if (!(e instanceof OvfError))
          throw new Error(`round ${i}: non-OvfError ${String((e as Error)?.stack ?? e)}`);
        outcomes.set(e.code, (outcomes.get(e.code) ?? 0) + 1);
      }
    }
    expect(outcomes.size).toBeGreaterThan(2);
  });
});

describe('fuzzing the VM configuration validator', () => {
  it('answers any JSON value with a list of problems, never an exception', async () => {
    const { checkVmConfig } = await import('../../bindings/config/validate.js');
    const r = rng(777);
    const atoms: unknown[] = [
      null,
      true,
      0,
      -1,
      1.5,
      2 ** 53,
      '',
      'x',
      'ide',
      'bios',
      'multiboot',
      'disk',
      'cdrom',
      [],
      {},
    ];
    const base = {
      version: 1,
      name: 'v',
      cpus: 1,
      memoryMiB: 16,
      boot: { firmware: 'bios' },
      disks: [
        { controller: { type: 'ide', channel: 0, unit: 0 }, media: 'disk', capacityBytes: 1 },
      ],
      nics: [{ model: 'ne2k', network: 'n' }],
      serial: [{ port: 1, backend: 'stdio' }],
    };
    const paths = (o: unknown, p: (string | number)[] = []): (string | number)[][] =>
      o && typeof o === 'object'
        ? [
            p,
            ...Object.entries(o as object).flatMap(([k, v]) =>
              paths(v, [...p, Array.isArray(o) ? Number(k) : k]),
            ),
          ]
        : [p];
    for (let i = 0; i < ROUNDS * 10; i++) {
      const c = JSON.parse(JSON.stringify(base));
      const all = paths(c).filter((p) => p.length);
      const p = all[r() % all.length];
      let o = c;
      for (const k of p.slice(0, -1)) o = o[k];
      o[p[p.length - 1]] = atoms[r() % atoms.length];
      const problems = checkVmConfig(c);
      expect(Array.isArray(problems)).toBe(true);
    }
  });
});
