/**
 * Growing a qcow2 image (qcow2.txt, "Header": size and l1_size; "Cluster mapping"): the
 * L1 table gets the entries the new size needs. When its clusters cannot hold them, a
 * larger table is written at the end of the file and the old one released, so the image
 * is consistent at every step that QEMU would also take.
 */
import type { ByteSource } from '../source.js';
import { readExact } from '../source.js';
import { view, setU64, ceilDiv } from '../bytes.js';
import { ImageError } from '../errors.js';
import { readHeader } from './header.js';
import { Refcounts } from './refcounts.js';
import * as C from './constants.js';

export function growQcow2(src: ByteSource, newSize: number): void {
  const h = readHeader(src);
  const cs = 2 ** h.clusterBits;
  if (!Number.isSafeInteger(newSize) || newSize < 0)
    throw new ImageError(`qcow2: invalid size ${newSize}`);
  if (newSize % 512 !== 0) throw new ImageError('qcow2: the new size must be a multiple of 512');
  if (newSize < h.size) throw new ImageError('qcow2: shrinking qcow2 images is not supported');
  // Internal snapshots keep their own L1 tables and sizes; only the active layer grows.
  if (h.incompatibleFeatures & BigInt(C.INCOMPAT_DIRTY | C.INCOMPAT_CORRUPT)) {
    throw new ImageError(
      'qcow2: the image is dirty or marked corrupt; repair it with "img check -r all" first',
      'incompatible_features',
      C.H_INCOMPATIBLE_FEATURES,
    );
  }
  const need = ceilDiv(newSize, cs * (cs / 8));
  if (need * 8 > C.MAX_L1_BYTES)
    throw new ImageError(
      `qcow2: a ${newSize}-byte image needs an L1 table over ${C.MAX_L1_BYTES >> 20} MiB`,
    );
  const refs = new Refcounts(src, h, cs);
  const room = h.l1Size === 0 ? 0 : (ceilDiv(h.l1Size * 8, cs) * cs) / 8;
  let l1Offset = h.l1TableOffset;
  if (need > room) {
    const clusters = ceilDiv(need * 8, cs);
    const table = new Uint8Array(clusters * cs);
    if (h.l1Size > 0) table.set(readExact(src, h.l1TableOffset, h.l1Size * 8, 'qcow2 L1 table'));
    l1Offset = refs.allocate(clusters);
    src.write(l1Offset, table);
    if (room > 0) refs.release(h.l1TableOffset, room * 8);
  }
  // One header write for size, l1_size and l1_table_offset (bytes 24-47).
  const f = new Uint8Array(24);
  const dv = view(f);
  setU64(dv, 0, newSize, false);
  dv.setUint32(C.H_CRYPT_METHOD - C.H_SIZE, h.cryptMethod);
  dv.setUint32(C.H_L1_SIZE - C.H_SIZE, Math.max(need, h.l1Size));
  setU64(dv, C.H_L1_TABLE_OFFSET - C.H_SIZE, l1Offset, false);
  src.write(C.H_SIZE, f);
  // A writer that does not maintain the bitmaps (they have the old size) clears their bit.
  if (h.version === 3 && h.autoclearFeatures !== 0n)
    src.write(C.H_AUTOCLEAR_FEATURES, new Uint8Array(8));
  refs.flush();
  src.flush();
}
