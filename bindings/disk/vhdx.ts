/**
 * VHDX images (Hyper-V), read only: the two headers (the valid one with the higher
 * sequence number wins), the region table (BAT and metadata regions), the metadata items
 * (file parameters, virtual disk size, logical sector size) and the BAT, whose payload
 * entries are interleaved with sector bitmap entries every chunk ratio. Section numbers
 * are those of Microsoft's [MS-VHDX] "Virtual Hard Disk v2 (VHDX) File Format" (v20160714);
 * every field is little-endian and every header and table carries a CRC-32C. Differencing
 * disks (HasParent) and images whose log still holds writes are refused, as QEMU 7.2's
 * block/vhdx.c refuses to read them without replaying the log.
 */
import { readExact, type ByteSource } from './source.js';
import { fail, hex } from './errors.js';
import { checkOrFail, emptyCheck, type CheckResult } from './check.js';
import { BlockTableImage, UNALLOCATED } from './blocktable.js';

const KiB = 1024, MiB = 1024 * 1024;
/** 2.2: the headers at 64 KiB and 128 KiB, the region tables at 192 KiB and 256 KiB. */
const HEADER_OFFSETS = [64 * KiB, 128 * KiB];
const HEADER_BYTES = 4 * KiB;
const REGION_OFFSETS = [192 * KiB, 256 * KiB];
const REGION_BYTES = 64 * KiB;
/** 2.2.2.1 region GUIDs (as they read in the file's byte order, see guid()). */
const BAT_GUID = '2dc27766-f623-4200-9d64-115e9bfd4a08';
const METADATA_GUID = '8b7ca206-4790-4b9a-b8fe-575f050f886e';
/** 2.6.2 metadata items. */
const FILE_PARAMETERS = 'caa16737-fa36-4d43-b3b6-33f0aa44e76b';
const VIRTUAL_DISK_SIZE = '2fa54224-cd1b-4876-b211-5dbed83bf4b8';
const LOGICAL_SECTOR_SIZE = '8141bf1d-a96f-4709-ba47-f233a8faab5f';
const PARENT_LOCATOR = 'a8d35f2d-b30b-454d-abf7-d3d84834ab0c';
/** 2.5.1 payload block states. */
const PAYLOAD_FULLY_PRESENT = 6, PAYLOAD_PARTIALLY_PRESENT = 7;
/** QEMU's limits: VHDX_MAX_SECTORS (64 TiB of 512-byte sectors), block sizes 1-256 MiB. */
const MAX_SIZE = 64 * 1024 * 1024 * MiB;

let crcTable: Uint32Array | undefined;
/** CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), 2.2: the checksums. */
export function crc32c(b: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Whether the CRC-32C at `at` matches the structure with that field as zero. */
function checksumOk(b: Uint8Array, at: number): boolean {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const stored = dv.getUint32(at, true);
  const copy = b.slice();
  copy.fill(0, at, at + 4);
  return crc32c(copy) === stored;
}

/** A GUID in its usual text form (the first three fields little-endian). */
function guid(b: Uint8Array, at: number): string {
  const h = (i: number) => b[at + i].toString(16).padStart(2, '0');
  const r = (...ix: number[]) => ix.map(h).join('');
  return `${r(3, 2, 1, 0)}-${r(5, 4)}-${r(7, 6)}-${r(8, 9)}-${r(10, 11, 12, 13, 14, 15)}`;
}

const ascii = (b: Uint8Array, at: number, s: string) =>
  String.fromCharCode(...b.subarray(at, at + s.length)) === s;

interface VhdxLayout { size: number; blockSize: number; bat: Uint8Array; chunkRatio: number }

function parseVhdx(src: ByteSource): VhdxLayout {
  const id = readExact(src, 0, 8, 'vhdx file type identifier');
  if (!ascii(id, 0, 'vhdxfile'))
    fail('vhdx', 'file type identifier', 0, 'not "vhdxfile" (this is not a VHDX image)');
  // 2.2.2: of the headers with a good signature and checksum, the higher sequence number.
  let best: { at: number; seq: bigint; h: DataView } | undefined;
  for (const at of HEADER_OFFSETS) {
    const b = readExact(src, at, HEADER_BYTES, 'vhdx header');
    if (!ascii(b, 0, 'head') || !checksumOk(b, 4)) continue;
    const h = new DataView(b.buffer);
    const seq = h.getBigUint64(8, true);
    if (!best || seq > best.seq) best = { at, seq, h };
  }
  if (!best)
    fail('vhdx', 'header', HEADER_OFFSETS[0], 'neither header has a good signature and checksum');
  const h = best.h;
  if (h.getUint16(66, true) !== 1)
    fail('vhdx', 'header version', best.at + 66, `${h.getUint16(66, true)} is not 1`);
  // LogGuid (2.2.2.1): not zero when the log holds writes not yet applied to the file.
  if (new Uint8Array(h.buffer, 48, 16).some((x) => x !== 0)) {
    fail('vhdx', 'log GUID', best.at + 48,
      'the log holds writes that were never replayed; replay it first ' +
        '(qemu-img check -r all, or attach it once in Hyper-V)');
  }

  // 2.2.3 region table: the BAT and metadata regions.
  let regions: Map<string, { off: number; len: number }> | undefined;
  let rtAt = REGION_OFFSETS[0];
  for (const at of REGION_OFFSETS) {
    const b = readExact(src, at, REGION_BYTES, 'vhdx region table');
    if (!ascii(b, 0, 'regi') || !checksumOk(b, 4)) continue;
    const dv = new DataView(b.buffer);
    const n = dv.getUint32(8, true);
    if (n > 2047) fail('vhdx', 'region table entry count', at + 8, `${n} is over 2047`);
    regions = new Map();
    for (let i = 0; i < n; i++) {
      const e = 16 + i * 32;
      const off = Number(dv.getBigUint64(e + 16, true)), len = dv.getUint32(e + 24, true);
      const g = guid(b, e);
      if (g !== BAT_GUID && g !== METADATA_GUID && dv.getUint32(e + 28, true) & 1)
        fail('vhdx', `region table entry ${i}`, at + e, `required region ${g} is not known`);
      if (off % MiB !== 0 || off + len > src.size || !Number.isSafeInteger(off)) {
        fail('vhdx', `region table entry ${i}`, at + e,
          `region at ${hex(off)} (${len} bytes) is not 1 MiB aligned inside the file ` +
            `(${src.size} bytes)`);
      }
      regions.set(g, { off, len });
    }
    rtAt = at;
    break;
  }
  if (!regions)
    fail('vhdx', 'region table', REGION_OFFSETS[0],
      'neither copy has a good signature and checksum');
  const batR = regions.get(BAT_GUID), metaR = regions.get(METADATA_GUID);
  if (!batR) fail('vhdx', 'region table', rtAt, 'has no BAT region');
  if (!metaR) fail('vhdx', 'region table', rtAt, 'has no metadata region');

  // 2.6 metadata region: the table (64 KiB) and the items it points at.
  const mt = readExact(src, metaR.off, Math.min(metaR.len, 64 * KiB), 'vhdx metadata table');
  if (!ascii(mt, 0, 'metadata'))
    fail('vhdx', 'metadata table signature', metaR.off, 'not "metadata"');
  const mv = new DataView(mt.buffer);
  const count = mv.getUint16(10, true);
  if (32 + count * 32 > mt.length)
    fail('vhdx', 'metadata entry count', metaR.off + 10, `${count} entries do not fit the table`);
  const items = new Map<string, { at: number; len: number }>();
  for (let i = 0; i < count; i++) {
    const e = 32 + i * 32;
    const off = mv.getUint32(e + 16, true), len = mv.getUint32(e + 20, true);
    const g = guid(mt, e);
    if (off + len > metaR.len) {
      fail('vhdx', `metadata entry ${i}`, metaR.off + e,
        `item at ${off} (${len} bytes) runs past the metadata region (${metaR.len} bytes)`);
    }
    if (g === PARENT_LOCATOR)
      fail('vhdx', 'parent locator', metaR.off + e, 'differencing disks are not supported');
    items.set(g, { at: metaR.off + off, len });
  }
  const item = (g: string, name: string, bytes: number): DataView => {
    const it = items.get(g);
    if (!it) fail('vhdx', name, metaR.off, 'the metadata has no such item');
    if (it.len < bytes) fail('vhdx', name, it.at, `${it.len} bytes, not ${bytes}`);
    return new DataView(readExact(src, it.at, bytes, `vhdx ${name}`).buffer);
  };
  const fp = item(FILE_PARAMETERS, 'file parameters', 8);
  const blockSize = fp.getUint32(0, true);
  if (blockSize < MiB || blockSize > 256 * MiB || (blockSize & (blockSize - 1)) !== 0) {
    fail('vhdx', 'block size', items.get(FILE_PARAMETERS)!.at,
      `${blockSize} is not a power of two from 1 MiB to 256 MiB`);
  }
  if (fp.getUint32(4, true) & 2)
    fail('vhdx', 'file parameters', items.get(FILE_PARAMETERS)!.at + 4,
      'HasParent is set: differencing disks are not supported');
  const sizeBig = item(VIRTUAL_DISK_SIZE, 'virtual disk size', 8).getBigUint64(0, true);
  const sectorSize = item(LOGICAL_SECTOR_SIZE, 'logical sector size', 4).getUint32(0, true);
  if (sectorSize !== 512 && sectorSize !== 4096)
    fail('vhdx', 'logical sector size', items.get(LOGICAL_SECTOR_SIZE)!.at,
      `${sectorSize} is not 512 or 4096`);
  if (sizeBig > BigInt(MAX_SIZE) || Number(sizeBig) % sectorSize !== 0) {
    fail('vhdx', 'virtual disk size', items.get(VIRTUAL_DISK_SIZE)!.at,
      `${sizeBig} is not a multiple of the ${sectorSize}-byte sector up to 64 TiB`);
  }
  const size = Number(sizeBig);
  // 2.5: payload entries, a sector bitmap entry after every chunk ratio of them.
  const chunkRatio = (2 ** 23 * sectorSize) / blockSize;
  const blocks = Math.ceil(size / blockSize);
  const entries = blocks + Math.floor(Math.max(0, blocks - 1) / chunkRatio);
  if (entries * 8 > batR.len) {
    fail('vhdx', 'BAT region', batR.off,
      `${batR.len} bytes do not hold the ${entries} entries of a ${size}-byte disk`);
  }
  const bat = readExact(src, batR.off, entries * 8, 'vhdx BAT');
  const bv = new DataView(bat.buffer);
  for (let i = 0; i < blocks; i++) {
    const k = i + Math.floor(i / chunkRatio);
    const lo = bv.getUint32(k * 8, true), hi = bv.getUint32(k * 8 + 4, true);
    const state = lo & 7;
    if (state === PAYLOAD_PARTIALLY_PRESENT)
      fail('vhdx', `BAT entry ${k}`, batR.off + k * 8, 'a partially present block needs a parent');
    if (state !== PAYLOAD_FULLY_PRESENT) continue;
    const off = hi * 2 ** 32 + lo - (lo % 2 ** 20); // FileOffsetMB, in bytes
    if (off < MiB || off + blockSize > src.size || !Number.isSafeInteger(off)) {
      fail('vhdx', `BAT entry ${k}`, batR.off + k * 8,
        `block ${i} at ${hex(off)} is outside the file (${src.size} bytes)`);
    }
  }
  return { size, blockSize, bat, chunkRatio };
}

export class VhdxImage extends BlockTableImage {
  readonly format = 'vhdx' as const;
  private readonly bat: DataView;
  private readonly chunkRatio: number;

  constructor(src: ByteSource) {
    const l = parseVhdx(src);
    super(src, l.size, l.blockSize);
    this.bat = new DataView(l.bat.buffer);
    this.chunkRatio = l.chunkRatio;
  }

  protected blockOffset(i: number): number {
    const k = i + Math.floor(i / this.chunkRatio);
    const lo = this.bat.getUint32(k * 8, true), hi = this.bat.getUint32(k * 8 + 4, true);
    if ((lo & 7) !== PAYLOAD_FULLY_PRESENT) return UNALLOCATED;
    return hi * 2 ** 32 + lo - (lo % 2 ** 20);
  }
}

/**
 * `img check` of a VHDX image: QEMU's vhdx_co_check looks for a log to replay and BAT
 * entries past the end of the file, which the open refuses (as a corruption here).
 */
export function checkVhdx(src: ByteSource): CheckResult {
  return checkOrFail('vhdx', () => {
    new VhdxImage(src);
    return emptyCheck('vhdx');
  });
}
