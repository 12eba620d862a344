/**
 * VirtualBox VDI images, read only: the version 1.1 header (little-endian), the block map
 * (one 32-bit entry per block: the block's index in the data area, or unallocated) and the
 * data area. Offsets and limits are those of VirtualBox's VDICore.h (VDIHEADER1PLUS) and
 * of QEMU 7.2's block/vdi.c, whose checks are made here too (1 MiB blocks, 512-byte
 * sectors, no link or parent UUID: differencing images are refused).
 */
import { readExact, type ByteSource } from './source.js';
import { fail } from './errors.js';
import { checkOrFail, emptyCheck, type CheckResult } from './check.js';
import { BlockTableImage, UNALLOCATED } from './blocktable.js';

/** VDI_IMAGE_SIGNATURE, at 0x40 after the 64-byte "<<< ... >>>" text. */
export const VDI_SIGNATURE = 0xbeda107f;
const H_SIGNATURE = 0x40;
const H_VERSION = 0x44; // 0x00010001: version 1.1
const H_IMAGE_TYPE = 0x4c; // 1 normal (dynamic), 2 fixed, 3 undo, 4 diff
const H_OFFSET_BMAP = 0x154;
const H_OFFSET_DATA = 0x158;
const H_SECTOR_SIZE = 0x168;
const H_DISK_SIZE = 0x170;
const H_BLOCK_SIZE = 0x178;
const H_BLOCK_EXTRA = 0x17c;
const H_BLOCKS = 0x180;
const H_BLOCKS_ALLOCATED = 0x184;
const H_UUID_LINK = 0x1a8;
const H_UUID_PARENT = 0x1b8;
const HEADER_BYTES = 0x200;
const VERSION_1_1 = 0x00010001;
/** block/vdi.c: the block size it reads, and the most blocks (UINT32_MAX / 4). */
const BLOCK_SIZE = 1 << 20;
const MAX_BLOCKS = 0x3fffffff;
/** Block map entries at or above VDI_IMAGE_BLOCK_ZERO (0xfffffffe) hold no data. */
const FIRST_UNALLOCATED = 0xfffffffe;

export class VdiImage extends BlockTableImage {
  readonly format = 'vdi' as const;
  private readonly bmap: Uint32Array;
  private readonly dataOffset: number;

  constructor(src: ByteSource) {
    const h = readExact(src, 0, HEADER_BYTES, 'vdi header');
    const dv = new DataView(h.buffer);
    const u32 = (o: number) => dv.getUint32(o, true);
    if (u32(H_SIGNATURE) !== VDI_SIGNATURE)
      fail('vdi', 'signature', H_SIGNATURE, 'not 0xbeda107f (this is not a VDI image)');
    if (u32(H_VERSION) !== VERSION_1_1) {
      const v = u32(H_VERSION);
      fail('vdi', 'version', H_VERSION, `${v >>> 16}.${v & 0xffff} is not 1.1`);
    }
    const type = u32(H_IMAGE_TYPE);
    if (type !== 1 && type !== 2) {
      fail('vdi', 'image type', H_IMAGE_TYPE,
        `${type} is not 1 (dynamic) or 2 (fixed); undo and differencing images are not read`);
    }
    const bmapOff = u32(H_OFFSET_BMAP), dataOff = u32(H_OFFSET_DATA);
    if (bmapOff % 512 !== 0 || bmapOff < HEADER_BYTES)
      fail('vdi', 'block map offset', H_OFFSET_BMAP, `${bmapOff} is not a sector after the header`);
    if (dataOff % 512 !== 0)
      fail('vdi', 'data offset', H_OFFSET_DATA, `${dataOff} is not a multiple of 512`);
    if (u32(H_SECTOR_SIZE) !== 512)
      fail('vdi', 'sector size', H_SECTOR_SIZE, `${u32(H_SECTOR_SIZE)} is not 512`);
    if (u32(H_BLOCK_SIZE) !== BLOCK_SIZE)
      fail('vdi', 'block size', H_BLOCK_SIZE, `${u32(H_BLOCK_SIZE)} is not 1 MiB (1048576)`);
    if (u32(H_BLOCK_EXTRA) !== 0)
      fail('vdi', 'block extra', H_BLOCK_EXTRA, `${u32(H_BLOCK_EXTRA)} is not 0`);
    const blocks = u32(H_BLOCKS);
    if (blocks > MAX_BLOCKS)
      fail('vdi', 'blocks in image', H_BLOCKS, `${blocks} is over the ${MAX_BLOCKS} QEMU reads`);
    // VBoxManage convertfromraw writes sizes that are not whole sectors; QEMU drops the rest.
    const diskSize = Math.floor(Number(dv.getBigUint64(H_DISK_SIZE, true)) / 512) * 512;
    if (diskSize > blocks * BLOCK_SIZE) {
      fail('vdi', 'disk size', H_DISK_SIZE,
        `${diskSize} bytes do not fit in ${blocks} blocks of 1 MiB`);
    }
    for (const [field, at] of [['link UUID', H_UUID_LINK], ['parent UUID', H_UUID_PARENT]] as const)
      if (h.subarray(at, at + 16).some((b) => b !== 0))
        fail('vdi', field, at, 'is set: differencing and linked images are not supported');
    if (bmapOff + blocks * 4 > dataOff) {
      fail('vdi', 'data offset', H_OFFSET_DATA,
        `0x${dataOff.toString(16)} is inside the block map (0x${bmapOff.toString(16)}, ` +
          `${blocks} entries)`);
    }
    const needed = Math.ceil(diskSize / BLOCK_SIZE);
    const raw = readExact(src, bmapOff, needed * 4, 'vdi block map');
    const bv = new DataView(raw.buffer);
    const bmap = new Uint32Array(needed);
    for (let i = 0; i < needed; i++) {
      const e = bv.getUint32(i * 4, true);
      bmap[i] = e;
      if (e >= FIRST_UNALLOCATED) continue;
      const end = dataOff + (e + 1) * BLOCK_SIZE;
      if (e >= blocks || end > src.size) {
        fail('vdi', `block map entry ${i}`, bmapOff + i * 4,
          `block ${e} (0x${(end - BLOCK_SIZE).toString(16)}) is ` +
            (e >= blocks ? `not below the ${blocks} blocks in the image`
              : `past the end of the file (${src.size} bytes)`));
      }
    }
    super(src, diskSize, BLOCK_SIZE);
    this.bmap = bmap;
    this.dataOffset = dataOff;
    this.blocksAllocated = u32(H_BLOCKS_ALLOCATED);
  }

  readonly blocksAllocated: number;

  /**
   * `img check` as QEMU's vdi_co_check: each data block used by one map entry only, and
   * the header's count of allocated blocks right (the open has checked the rest).
   */
  check(): CheckResult {
    const r = emptyCheck('vdi');
    const owner = new Map<number, number>();
    let allocated = 0;
    this.bmap.forEach((e, i) => {
      if (e >= FIRST_UNALLOCATED) return;
      allocated++;
      const prev = owner.get(e);
      if (prev === undefined) owner.set(e, i);
      else {
        r.corruptions++;
        // (vdi_co_check prints the data block index twice.)
        r.messages.push(`ERROR: block index ${e} also used by ${e}`);
      }
    });
    if (allocated !== this.blocksAllocated) {
      r.corruptions++;
      r.messages.push(
        `ERROR: allocated blocks mismatch, is ${allocated}, should be ${this.blocksAllocated}`,
      );
    }
    return r;
  }

  protected blockOffset(i: number): number {
    const e = this.bmap[i];
    return e >= FIRST_UNALLOCATED ? UNALLOCATED : this.dataOffset + e * BLOCK_SIZE;
  }
}

/** `img check` of a VDI image: its header and map as the open checks them, then check(). */
export function checkVdi(src: ByteSource): CheckResult {
  return checkOrFail('vdi', () => new VdiImage(src).check());
}
