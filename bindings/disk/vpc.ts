/**
 * VHD images (qemu-img's "vpc"), read only: fixed disks (the data, then a 512-byte footer)
 * and dynamic disks (footer copy, dynamic disk header, Block Allocation Table, blocks of
 * sector bitmap + data). Section numbers are those of Microsoft's "Virtual Hard Disk Image
 * Format Specification" (version 1.0); every field is big-endian. Differencing disks
 * (type 4) are refused. The virtual size is taken as QEMU 7.2's block/vpc.c takes it.
 */
import { readExact, type ByteSource } from './source.js';
import { fail } from './errors.js';
import { BlockTableImage, UNALLOCATED } from './blocktable.js';

/** Hard Disk Footer Format: 512 bytes. */
export const VHD_FOOTER_SIZE = 512;
const F_COOKIE = 0; // "conectix"
const F_VERSION = 12; // File Format Version: 0x00010000
const F_DATA_OFFSET = 16; // offset of the dynamic disk header; all ones for fixed disks
const F_CREATOR_APP = 28;
const F_CURRENT_SIZE = 48;
const F_GEOMETRY = 56; // cylinders (2), heads (1), sectors per track (1)
const F_DISK_TYPE = 60; // 2 fixed, 3 dynamic, 4 differencing
const F_CHECKSUM = 64; // one's complement of the sum of the footer's bytes but these four
const TYPE_FIXED = 2, TYPE_DYNAMIC = 3, TYPE_DIFFERENCING = 4;

/** Dynamic Disk Header Format: 1024 bytes. */
const DYN_HEADER_SIZE = 1024;
const D_COOKIE = 0; // "cxsparse"
const D_TABLE_OFFSET = 16; // absolute offset of the BAT
const D_VERSION = 24; // 0x00010000
const D_MAX_TABLE_ENTRIES = 28;
const D_BLOCK_SIZE = 32; // default 2 MiB; QEMU takes any power of two of at least 512
const D_CHECKSUM = 36;
const BAT_UNUSED = 0xffffffff;

/** block/vpc.c: VHD_MAX_SECTORS (2040 GiB) and the largest CHS geometry, 65535/16/255. */
const VHD_MAX_SECTORS = 0xff000000;
const VHD_MAX_GEOMETRY = 65535 * 16 * 255;
/** Creator applications whose footer size is the disk size (block/vpc.c vpc_open). */
const SIZE_CREATORS = ['win ', 'qem2', 'd2v ', 'CTXS', 'tap\0'];

const text = (b: Uint8Array, at: number, n: number) =>
  String.fromCharCode(...b.subarray(at, at + n));

/** The footer's checksum: the one's complement of the sum of every byte but the field. */
export function vhdChecksum(b: Uint8Array, field: number): number {
  let sum = 0;
  for (let i = 0; i < b.length; i++) if (i < field || i >= field + 4) sum += b[i];
  return ~sum >>> 0;
}

/** Whether the last 512 bytes of `src` are a VHD footer (a fixed disk has no other header). */
export function hasVhdFooter(src: ByteSource): boolean {
  if (src.size < VHD_FOOTER_SIZE) return false;
  const t = new Uint8Array(8);
  src.read(src.size - VHD_FOOTER_SIZE, t);
  return text(t, 0, 8) === 'conectix';
}

interface VpcLayout {
  type: number;
  size: number;
  blockSize: number;
  bitmapBytes: number;
  bat?: Uint32Array;
}

/** Reads and checks the footer, dynamic disk header and BAT. */
function parseVpc(src: ByteSource): VpcLayout {
    // The copy at offset 0 (dynamic disks) or the footer at the end (fixed disks).
  let at = 0;
  const head = new Uint8Array(8);
  src.read(0, head);
  if (text(head, 0, 8) !== 'conectix') at = src.size - VHD_FOOTER_SIZE;
  if (at < 0) fail('vpc', 'footer', 0, 'the file is shorter than a VHD footer (512 bytes)');
  const f = readExact(src, at, VHD_FOOTER_SIZE, 'vpc footer');
  const dv = new DataView(f.buffer);
  if (text(f, F_COOKIE, 8) !== 'conectix')
    fail('vpc', 'footer cookie', at, 'not "conectix" (this is not a VHD image)');
  const sum = dv.getUint32(F_CHECKSUM);
  if (vhdChecksum(f, F_CHECKSUM) !== sum) {
    fail('vpc', 'footer checksum', at + F_CHECKSUM,
    `0x${sum.toString(16)} does not match the footer's bytes ` +
      `(0x${vhdChecksum(f, F_CHECKSUM).toString(16)})`);
  }
  if (dv.getUint16(F_VERSION) !== 1) {
    fail('vpc', 'file format version', at + F_VERSION,
    `0x${dv.getUint32(F_VERSION).toString(16)} is not 0x00010000`);
  }
  const type = dv.getUint32(F_DISK_TYPE);
  if (type === TYPE_DIFFERENCING) {
    fail('vpc', 'disk type', at + F_DISK_TYPE,
    'differencing disks (type 4, with a parent VHD) are not supported');
  }
  if (type !== TYPE_FIXED && type !== TYPE_DYNAMIC)
    fail('vpc', 'disk type', at + F_DISK_TYPE, `${type} is not 2 (fixed) or 3 (dynamic)`);

  // The disk size: QEMU uses the CHS geometry unless the creator writes exact sizes
  // (Hyper-V, qemu with force_size, ...) or the geometry is the largest one.
  const chs = dv.getUint16(F_GEOMETRY) * f[F_GEOMETRY + 2] * f[F_GEOMETRY + 3];
  const current = Number(dv.getBigUint64(F_CURRENT_SIZE));
  const useSize = SIZE_CREATORS.includes(text(f, F_CREATOR_APP, 4)) || chs === VHD_MAX_GEOMETRY;
  const sectors = useSize ? Math.floor(current / 512) : chs;
  if (sectors > VHD_MAX_SECTORS) {
    fail('vpc', useSize ? 'current size' : 'disk geometry',
    at + (useSize ? F_CURRENT_SIZE : F_GEOMETRY),
    `${sectors * 512} bytes is over the 2040 GiB a VHD can hold`);
  }
  const size = sectors * 512;

  if (type === TYPE_FIXED) {
    if (size > src.size - VHD_FOOTER_SIZE) {
    fail('vpc', 'current size', at + F_CURRENT_SIZE,
      `the fixed disk's ${size} bytes do not fit before the footer ` +
        `(${src.size - VHD_FOOTER_SIZE} bytes of data)`);
    }
    return { type, size, blockSize: 1 << 21, bitmapBytes: 0 };
  }

  const hOff = Number(dv.getBigUint64(F_DATA_OFFSET));
  if (!Number.isSafeInteger(hOff) || hOff + DYN_HEADER_SIZE > src.size) {
    fail('vpc', 'data offset', at + F_DATA_OFFSET,
    `the dynamic disk header at 0x${hOff.toString(16)} is past the end of the file ` +
      `(${src.size} bytes)`);
  }
  const h = readExact(src, hOff, DYN_HEADER_SIZE, 'vpc dynamic disk header');
  const hv = new DataView(h.buffer);
  if (text(h, D_COOKIE, 8) !== 'cxsparse')
    fail('vpc', 'dynamic disk header cookie', hOff, 'not "cxsparse"');
  const hsum = hv.getUint32(D_CHECKSUM);
  if (vhdChecksum(h, D_CHECKSUM) !== hsum) {
    fail('vpc', 'dynamic disk header checksum', hOff + D_CHECKSUM,
    `0x${hsum.toString(16)} does not match the header's bytes`);
  }
  if (hv.getUint16(D_VERSION) !== 1) {
    fail('vpc', 'dynamic disk header version', hOff + D_VERSION,
    `0x${hv.getUint32(D_VERSION).toString(16)} is not 0x00010000`);
  }
  const blockSize = hv.getUint32(D_BLOCK_SIZE);
  // QEMU: a power of two of at least a sector (the specification's default is 2 MiB).
  if (blockSize < 512 || (blockSize & (blockSize - 1)) !== 0 || blockSize > 1 << 28) {
    fail('vpc', 'block size', hOff + D_BLOCK_SIZE,
    `${blockSize} is not a power of two between 512 and 256 MiB`);
  }
  const entries = hv.getUint32(D_MAX_TABLE_ENTRIES);
  if (entries * blockSize < size) {
    fail('vpc', 'max table entries', hOff + D_MAX_TABLE_ENTRIES,
    `${entries} blocks of ${blockSize} bytes do not cover the disk's ${size} bytes`);
  }
  const batOff = Number(hv.getBigUint64(D_TABLE_OFFSET));
  const needed = Math.ceil(size / blockSize);
  if (!Number.isSafeInteger(batOff) || batOff + needed * 4 > src.size) {
    fail('vpc', 'table offset', hOff + D_TABLE_OFFSET,
    `the Block Allocation Table at 0x${batOff.toString(16)} (${needed} entries) ` +
      `runs past the end of the file (${src.size} bytes)`);
  }
  // The sector bitmap ahead of each block, padded to a sector boundary (5.3).
  const bitmapBytes = Math.ceil(blockSize / 512 / 8 / 512) * 512;
  // Only the entries that cover the disk are read (a lying entry count costs nothing).
  const raw = readExact(src, batOff, needed * 4, 'vpc Block Allocation Table');
  const bv = new DataView(raw.buffer);
  const bat = new Uint32Array(needed);
  for (let i = 0; i < needed; i++) {
    const e = bv.getUint32(i * 4);
    bat[i] = e;
    if (e === BAT_UNUSED) continue;
    const end = e * 512 + bitmapBytes + blockSize;
    if (end > src.size) {
    fail('vpc', `BAT entry ${i}`, batOff + i * 4,
      `block at 0x${(e * 512).toString(16)} ends at 0x${end.toString(16)}, past the end ` +
        `of the file (${src.size} bytes): the image is truncated or the entry is wrong`);
    }
  }
  return { type, size, blockSize, bitmapBytes, bat };
}

export class VpcImage extends BlockTableImage {
  readonly format = 'vpc' as const;
  readonly diskType: number;
  private readonly bat?: Uint32Array;
  private readonly bitmapBytes: number;

  constructor(src: ByteSource) {
    const l = parseVpc(src);
    super(src, l.size, l.blockSize);
    this.diskType = l.type;
    this.bat = l.bat;
    this.bitmapBytes = l.bitmapBytes;
  }

  protected blockOffset(i: number): number {
    if (!this.bat) return i * this.blockSize;
    const e = this.bat[i];
    return e === BAT_UNUSED ? UNALLOCATED : e * 512 + this.bitmapBytes;
  }

  override info() {
    const i = super.info();
    // qemu's vpc_get_info reports a cluster size for dynamic disks only.
    if (this.diskType === TYPE_FIXED) delete i['cluster-size'];
    return i;
  }
}
