/**
 * Images written by QEMU's tools (scripts/make-disk-fixtures.sh) read byte-exactly: the
 * SHA-256 of the whole disk equals that of `qemu-img convert -O raw`, the block status
 * agrees with `qemu-img map`, and `img info` agrees with `qemu-img info`.
 */
import { describe, it, expect } from 'vitest';
import { openImage } from '../../bindings/disk/open.js';
import { mapImage } from '../../bindings/disk/map.js';
import type { DiskImage } from '../../bindings/disk/types.js';
import { manifest, fixtureSource, sha256Of } from './helpers.js';

function open(name: string): DiskImage {
  return openImage(fixtureSource(name), {
    backing: (backing, format) => {
      expect(backing).toBe('backing-base.qcow2');
      return openImage(fixtureSource(backing), { format: format as 'qcow2' });
    },
  });
}

const small = Object.keys(manifest).filter((n) => manifest[n].info['virtual-size'] <= 64 << 20);

describe('images written by qemu-img read byte-exactly', () => {
  it.each(small)('%s has the contents qemu-img convert -O raw gives', (name) => {
    const img = open(name);
    expect(img.size).toBe(manifest[name].info['virtual-size']);
    expect(sha256Of(img)).toBe(manifest[name].sha256);
  });

  it.each(Object.keys(manifest))('%s: block status agrees with qemu-img map', (name) => {
    const img = open(name);
    for (const e of manifest[name].map) {
      // Every run we report inside a qemu extent has qemu's data flag.
      for (let pos = e.start; pos < e.start + e.length;) {
        const st = img.blockStatus(pos, e.start + e.length - pos);
        expect(st.length).toBeGreaterThan(0);
        expect({ at: pos, data: st.data }).toEqual({ at: pos, data: e.data });
        pos += st.length;
      }
    }
  });

  it.each(Object.keys(manifest))('%s: img map gives exactly what qemu-img map gave', (name) => {
    expect(mapImage(open(name))).toEqual(manifest[name].map);
  });

  it.each(Object.keys(manifest))('%s: info agrees with qemu-img info', (name) => {
    const q = manifest[name].info;
    const i = open(name).info();
    expect(i.format).toBe(q.format);
    expect(i['virtual-size']).toBe(q['virtual-size']);
    expect(i['cluster-size']).toBe(q['cluster-size']);
    if (q['backing-filename']) expect(i['backing-filename']).toBe(q['backing-filename']);
    if (q['backing-filename-format'])
      expect(i['backing-filename-format']).toBe(q['backing-filename-format']);
    const qs = q['format-specific'].data;
    const is = i['format-specific']!.data as Record<string, any>;
    if (q.format === 'qcow2') {
      for (const k of [
        'compat', 'compression-type', 'lazy-refcounts', 'refcount-bits', 'corrupt', 'extended-l2',
      ])
        expect(is[k]).toEqual(qs[k]);
    } else {
      expect(is.cid).toBe(qs.cid);
      expect(is['parent-cid']).toBe(qs['parent-cid']);
      expect(is['create-type']).toBe(qs['create-type']);
      expect(is.extents[0].compressed).toBe(qs.extents[0].compressed);
      expect(is.extents[0]['cluster-size']).toBe(qs.extents[0]['cluster-size']);
    }
  });

  it('reads the VirtualBox stream-optimized VMDK through its footer (GD_AT_END)', () => {
    const img = open(
      'cot-ubuntu.2.0-disk1.vmdk',
    ) as import('../../bindings/disk/vmdk/image.js').VmdkImage;
    expect(img.hasFooter).toBe(true);
    const b = new Uint8Array(1 << 16);
    img.read(img.size - b.length, b);
    expect(b.every((v) => v === 0)).toBe(true);
  });

  it('reads the zero cluster and the patterns qemu-io wrote into the version 3 image', () => {
    const img = open('qcow2-v3.qcow2');
    const b = new Uint8Array(3);
    img.read(0x10000 - 1, b); // last byte of "write -P 0xab 0 64k" and what follows
    expect([...b]).toEqual([0xab, 0, 0]);
    const z = new Uint8Array(65536);
    img.read(2 << 20, z); // "write -z 2M 64k" over "write -P 0x77 2M 128k"
    expect(z.every((v) => v === 0)).toBe(true);
    img.read((2 << 20) + 65536, z);
    expect(z.every((v) => v === 0x77)).toBe(true);
  });
});
