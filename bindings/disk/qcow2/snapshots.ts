/**
 * Internal snapshots and persistent bitmaps, read for `img info` and `img check`.
 * qcow2.txt, "Snapshot table" and "Bitmaps extension".
 */
import type { ByteSource } from '../source.js';
import { readExact } from '../source.js';
import { view, u64 } from '../bytes.js';
import { ImageError, hex } from '../errors.js';
import type { Qcow2Header } from './header.js';
import * as C from './constants.js';

export interface Snapshot {
  l1TableOffset: number;
  l1Size: number;
  id: string;
  name: string;
  dateSec: number;
  dateNsec: number;
  vmClockNsec: number;
  vmStateSize: number;
  /** Instruction count at the snapshot, when recorded (extra data bytes 16-23). */
  icount?: number;
}

/**
 * "Snapshot table" entries: l1_table_offset (u64), l1_size (u32), id_str_size (u16),
 * name_size (u16), date_sec (u32), date_nsec (u32), vm_clock_nsec (u64),
 * vm_state_size (u32), extra_data_size (u32); then extra data (vm_state_size_large u64,
 * disk_size u64, icount u64, as far as present), the id string and the name, padded to 8.
 */
export function readSnapshots(
  src: ByteSource,
  h: Qcow2Header,
): { list: Snapshot[]; bytes: number } {
  const cs = 2 ** h.clusterBits;
  const list: Snapshot[] = [];
  let at = h.snapshotsOffset;
  const dec = new TextDecoder();
  for (let i = 0; i < h.nbSnapshots; i++) {
    const fixed = view(readExact(src, at, C.SNAPSHOT_FIXED_SIZE, `snapshot table entry ${i}`));
    const l1TableOffset = u64(fixed, 0, false, `snapshot ${i} l1_table_offset`, at);
    const l1Size = fixed.getUint32(8);
    const idLen = fixed.getUint16(12),
      nameLen = fixed.getUint16(14);
    const extraLen = fixed.getUint32(36);
    if (l1Size * 8 > C.MAX_L1_BYTES || l1TableOffset % cs) {
      throw new ImageError(
        `qcow2: snapshot ${i} at ${hex(at)}: invalid L1 table ` +
          `(offset ${hex(l1TableOffset)}, ${l1Size} entries)`,
        'snapshot l1_table_offset',
        at,
      );
    }
    if (extraLen > 1024)
      throw new ImageError(
        `qcow2: snapshot ${i} at ${hex(at)}: extra data of ${extraLen} bytes is too large`,
        'extra_data_size',
        at + 36,
      );
    const rest = readExact(
      src,
      at + C.SNAPSHOT_FIXED_SIZE,
      extraLen + idLen + nameLen,
      `snapshot ${i} names`,
    );
    const extra = view(rest.subarray(0, extraLen));
    let vmStateSize = fixed.getUint32(32);
    if (extraLen >= 8) vmStateSize = u64(extra, 0, false, 'vm_state_size_large', at + 40);
    let icount: number | undefined;
    if (extraLen >= 24 && extra.getBigUint64(16) !== 0xffff_ffff_ffff_ffffn)
      icount = u64(extra, 16, false, 'icount', at + 56);
    list.push({
      l1TableOffset,
      l1Size,
      id: dec.decode(rest.subarray(extraLen, extraLen + idLen)),
      name: dec.decode(rest.subarray(extraLen + idLen, extraLen + idLen + nameLen)),
      dateSec: fixed.getUint32(16),
      dateNsec: fixed.getUint32(20),
      vmClockNsec: u64(fixed, 24, false, 'vm_clock_nsec', at + 24),
      vmStateSize,
      icount,
    });
    at += Math.ceil((C.SNAPSHOT_FIXED_SIZE + extraLen + idLen + nameLen) / 8) * 8;
  }
  return { list, bytes: at - h.snapshotsOffset };
}

export interface Bitmap {
  name: string;
  /** Bit 0 in_use, bit 1 auto, bit 2 extra_data_compatible. */
  flags: number;
  granularityBits: number;
  tableOffset: number;
  tableSize: number;
}

export const BME_FLAG_IN_USE = 1 << 0;
export const BME_FLAG_AUTO = 1 << 1;

/**
 * "Bitmaps extension": nb_bitmaps (u32), reserved (u32), bitmap_directory_size (u64),
 * bitmap_directory_offset (u64). Directory entries: bitmap_table_offset (u64),
 * bitmap_table_size (u32), flags (u32), type (u8), granularity_bits (u8), name_size (u16),
 * extra_data_size (u32), extra data, name, padded to 8.
 */
export function readBitmaps(
  src: ByteSource,
  ext: Uint8Array,
): { list: Bitmap[]; dirOffset: number; dirSize: number } {
  if (ext.length < 24)
    throw new ImageError('qcow2: bitmaps extension shorter than 24 bytes', 'bitmaps extension');
  const e = view(ext);
  const nb = e.getUint32(0);
  const dirSize = u64(e, 8, false, 'bitmap_directory_size', 0);
  const dirOffset = u64(e, 16, false, 'bitmap_directory_offset', 0);
  if (dirSize > 64 << 20)
    throw new ImageError(
      `qcow2: bitmap directory of ${dirSize} bytes is too large`,
      'bitmap_directory_size',
    );
  const raw = readExact(src, dirOffset, dirSize, 'qcow2 bitmap directory');
  const dir = view(raw);
  const list: Bitmap[] = [];
  let at = 0;
  for (let i = 0; i < nb; i++) {
    if (at + 24 > dirSize)
      throw new ImageError(
        `qcow2: bitmap directory entry ${i} runs past the directory`,
        'bitmap directory',
        dirOffset + at,
      );
    const nameSize = dir.getUint16(at + 18);
    const extra = dir.getUint32(at + 20);
    if (at + 24 + extra + nameSize > dirSize)
      throw new ImageError(
        `qcow2: bitmap directory entry ${i} runs past the directory`,
        'bitmap directory',
        dirOffset + at,
      );
    list.push({
      tableOffset: u64(dir, at, false, 'bitmap_table_offset', dirOffset + at),
      tableSize: dir.getUint32(at + 8),
      flags: dir.getUint32(at + 12),
      granularityBits: raw[at + 17],
      name: new TextDecoder().decode(raw.subarray(at + 24 + extra, at + 24 + extra + nameSize)),
    });
    at += Math.ceil((24 + extra + nameSize) / 8) * 8;
  }
  return { list, dirOffset, dirSize };
}
