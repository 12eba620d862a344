/**
 * A member over 8 GiB, end to end: packed with a pax size record, streamed through the
 * reader with its SHA256 checked, in bounded memory. It moves 9 GiB through the hashes,
 * so it runs only when WASMVISOR_BIG_TESTS=1 (about a minute on one core).
 */
import { describe, expect, it } from 'vitest';
import { readOva } from '../../bindings/ovf/ova-read.js';
import { tarStream } from '../../bindings/ovf/ova-write.js';
import { writeOvf } from '../../bindings/ovf/writer.js';
import { fromVmConfig } from '../../bindings/ovf/from-config.js';
import { formatManifest } from '../../bindings/ovf/manifest.js';
import { nodeHasher } from '../../bindings/ovf/node/hash-node.js';
import { rawIdeDisk, vmConfig } from './helpers.js';

const big = process.env.WASMVISOR_BIG_TESTS === '1';
if (!big) console.warn('WASMVISOR_BIG_TESTS is not 1: the 9 GiB OVA member test is skipped');

describe.skipIf(!big)('OVA members over 8 GiB', () => {
  it('streams a 9 GiB member through the reader with its digest verified', async () => {
    const size = 9 * 2 ** 30 + 5;
    const block = new Uint8Array(1 << 20).fill(0xab);
    async function* zeros() {
      for (let left = size; left > 0; left -= block.length)
        yield left >= block.length ? block : block.subarray(0, left);
    }
    const digest = nodeHasher('SHA256');
    for await (const c of zeros()) digest.update(c);
    const { envelope } = fromVmConfig(
      vmConfig('big', [rawIdeDisk('big.img', size)]),
      { fileInfo: () => ({ size }) },
    );
    const ovf = new TextEncoder().encode(writeOvf(envelope));
    const mf = new TextEncoder().encode(
      formatManifest([{ algorithm: 'SHA256', name: 'big.img', digest: digest.hex() }]),
    );
    const bytes = (name: string, b: Uint8Array) => ({
      name,
      size: b.length,
      open: async function* () {
        yield b;
      },
    });
    const rss0 = process.memoryUsage().rss;
    const r = await readOva(
      tarStream(
        [bytes('big.ovf', ovf), bytes('big.mf', mf), { name: 'big.img', size, open: zeros }],
        new Date(0),
      ),
      { hasher: nodeHasher },
    );
    expect(r.members).toEqual([
      { name: 'big.img', size, storedSize: size, compressed: false, verified: 'SHA256' },
    ]);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(256 * 2 ** 20);
  }, 600_000);
});
