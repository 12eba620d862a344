/**
 * Format detection by magic number, and opening any supported image over a byte source.
 */
import type { ByteSource } from './source.js';
import type { DiskImage, ImageFormat } from './types.js';
import { ImageError } from './errors.js';
import { RawImage } from './raw.js';
import { Qcow2Image, type BackingResolver } from './qcow2/image.js';
import { VmdkImage } from './vmdk/image.js';
import { VmdkExtentsImage, isDescriptorText, type ExtentResolver } from './vmdk/extents.js';
import { QCOW2_MAGIC } from './qcow2/constants.js';
import { SPARSE_MAGIC } from './vmdk/constants.js';
import { VpcImage, hasVhdFooter } from './vpc.js';
import { VdiImage, VDI_SIGNATURE } from './vdi.js';
import { VhdxImage } from './vhdx.js';

export type { BackingResolver, ExtentResolver };

/**
 * An image in a format this code recognizes but does not read. `format` is the name
 * qemu-img gives it (`qemu-img info` "file format", `-f` value).
 */
export class UnsupportedFormatError extends ImageError {
  constructor(readonly format: string, what: string, name?: string) {
    super(
      `${name ? name + ': ' : ''}this is ${what} (format "${format}" in qemu-img), which ` +
        `wasmvisor does not read; convert it first (qemu-img convert -f ${format} -O qcow2)`,
      'magic',
      0,
    );
    this.name = 'UnsupportedFormatError';
  }
}

/** Bytes read for detection: QEMU's probe buffer (block.c, BLOCK_PROBE_BUF_SIZE). */
const PROBE_BYTES = 2048;

const ascii = (b: Uint8Array, at: number, s: string) => {
  if (b.length < at + s.length) return false;
  for (let k = 0; k < s.length; k++) if (b[at + k] !== s.charCodeAt(k)) return false;
  return true;
};
/** A NUL-terminated string field equal to `s` (QEMU's strcmp on a char[] field). */
const cstr = (b: Uint8Array, at: number, s: string) => ascii(b, at, s) && b[at + s.length] === 0;

/**
 * The formats of QEMU's other block drivers, by their probe functions (QEMU 7.2 block/*.c):
 * each returns the qemu-img format name and what to call it, or undefined.
 */
function probeUnsupported(h: Uint8Array, dv: DataView, src: ByteSource, name?: string) {
  const n = h.length;
  // block/qed.c bdrv_qed_probe: QED_MAGIC 'Q' 'E' 'D' 0 (little-endian), header 64 bytes.
  if (n >= 64 && dv.getUint32(0, true) === 0x00444551) return ['qed', 'a QED image'];
  // block/qcow.c qcow_probe: QCOW_MAGIC and version 1 (qcow2_probe takes version >= 2).
  if (n >= 8 && dv.getUint32(0, false) === QCOW2_MAGIC && dv.getUint32(4, false) === 1)
    return ['qcow', 'a qcow (version 1) image'];
  // block/parallels.c parallels_probe: "WithoutFreeSpace" or "WithouFreSpacExt", version 2
  // (the header is 64 bytes).
  if (
    n >= 64 &&
    (ascii(h, 0, 'WithoutFreeSpace') || ascii(h, 0, 'WithouFreSpacExt')) &&
    dv.getUint32(16, true) === 2
  )
    return ['parallels', 'a Parallels image'];
  // crypto/block-luks.c qcrypto_block_luks_has_format: "LUKS\xBA\xBE", version 1 (big-endian).
  if (n >= 8 && ascii(h, 0, 'LUKS') && h[4] === 0xba && h[5] === 0xbe && dv.getUint16(6) === 1)
    return ['luks', 'a LUKS encrypted image'];
  // block/bochs.c bochs_probe: magic, type "Redolog", subtype "Growing", version 1 or 2.
  if (
    n >= 512 &&
    cstr(h, 0, 'Bochs Virtual HD Image') &&
    cstr(h, 32, 'Redolog') &&
    cstr(h, 48, 'Growing') &&
    [0x10000, 0x20000].includes(dv.getUint32(64, true))
  )
    return ['bochs', 'a Bochs growing image'];
  // block/cloop.c cloop_probe: the V2.0 shell-script header (compared up to the bytes read).
  const cloop =
    '#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n';
  if (n > 0 && ascii(h, 0, cloop.slice(0, Math.min(n, cloop.length))))
    return ['cloop', 'a compressed loop (cloop) image'];
  // block/vmdk.c: VMDK3_MAGIC "COWD" (ESX 2 / GSX sparse extents).
  if (ascii(h, 0, 'COWD')) return ['vmdk', 'a VMware COWD (version 3) sparse extent'];
  // block/dmg.c dmg_probe goes by the ".dmg" name; the "koly" trailer in the last 512 bytes
  // (Apple's UDIF) says the same without it.
  if (name?.toLowerCase().endsWith('.dmg') || trailerIs(src, 'koly'))
    return ['dmg', 'an Apple disk image (dmg)'];
  return undefined;
}

function trailerIs(src: ByteSource, magic: string): boolean {
  if (src.size < 1024) return false;
  const t = new Uint8Array(magic.length);
  return src.read(src.size - 512, t) === t.length && ascii(t, 0, magic);
}

/**
 * Recognizes an image from its first bytes (raw when nothing matches, as qemu-img does).
 * Formats of QEMU's other drivers are refused by name (UnsupportedFormatError), never taken
 * for raw data. A fixed VHD (its only header a footer in the last 512 bytes) is found by
 * its footer, which qemu-img does not look for (it probes such a file as raw).
 */
export function detectFormat(src: ByteSource, name?: string): ImageFormat {
  const head = new Uint8Array(PROBE_BYTES);
  const n = src.read(0, head);
  const h = head.subarray(0, n);
  const dv = new DataView(head.buffer, 0, n);
  // qcow2_probe takes versions 2 and up; other versions than 1 (qcow) reach the qcow2
  // header check, which names the version.
  if (n >= 4 && dv.getUint32(0, false) === QCOW2_MAGIC && (n < 8 || dv.getUint32(4, false) !== 1))
    return 'qcow2';
  if (n >= 4 && dv.getUint32(0, true) === SPARSE_MAGIC) return 'vmdk';
  // A VMDK descriptor file (monolithicFlat, twoGbMaxExtent*, vmfs): text naming the extents.
  if (isDescriptorText(h)) return 'vmdk';
  // block/vpc.c vpc_probe: the footer copy at offset 0 (dynamic and differencing disks).
  if (ascii(h, 0, 'conectix')) return 'vpc';
  // block/vhdx.c vhdx_probe: the file type identifier "vhdxfile" (MS-VHDX 2.2.1).
  if (ascii(h, 0, 'vhdxfile')) return 'vhdx';
  // block/vdi.c vdi_probe: the signature at 0x40 (VirtualBox VDI header).
  if (n >= 0x44 && dv.getUint32(0x40, true) === VDI_SIGNATURE) return 'vdi';
  const other = probeUnsupported(h, dv, src, name);
  if (other) throw new UnsupportedFormatError(other[0], other[1], name);
  if (hasVhdFooter(src)) return 'vpc';
  return 'raw';
}

export interface OpenOptions {
  /** Skip detection and open as this format. */
  format?: ImageFormat;
  readOnly?: boolean;
  /** Opens backing files named by qcow2 images. */
  backing?: BackingResolver;
  /** Opens the extent files a VMDK descriptor file names. */
  extents?: ExtentResolver;
  /** The image's name in error messages (a VMDK descriptor names its lines by it). */
  name?: string;
}

export function openImage(src: ByteSource, opts: OpenOptions = {}): DiskImage {
  const format = opts.format ?? detectFormat(src, opts.name);
  switch (format) {
    case 'raw':
      return new RawImage(opts.readOnly ? readOnlyView(src) : src);
    case 'qcow2':
      return new Qcow2Image(src, { readOnly: opts.readOnly, backing: opts.backing });
    case 'vmdk': {
      const head = new Uint8Array(512);
      const n = src.read(0, head);
      if (isDescriptorText(head.subarray(0, n)))
        return new VmdkExtentsImage(src, {
          readOnly: opts.readOnly,
          resolve: opts.extents,
          name: opts.name,
        });
      return new VmdkImage(src, { readOnly: opts.readOnly });
    }
    case 'vpc':
    case 'vdi':
    case 'vhdx':
      // Read only whatever was asked: the image says readOnly, and writes fail.
      return format === 'vpc' ? new VpcImage(src)
        : format === 'vdi' ? new VdiImage(src) : new VhdxImage(src);
    default:
      throw new ImageError(
        `unknown image format "${format as string}" (use raw, qcow2, vmdk, vpc, vhdx or vdi)`,
      );
  }
}

function readOnlyView(src: ByteSource): ByteSource {
  return {
    get size() { return src.size; },
    writable: false,
    read: (o, d) => src.read(o, d),
    write: () => { throw new ImageError('the image is open read-only'); },
    truncate: () => { throw new ImageError('the image is open read-only'); },
    flush: () => {},
    close: () => src.close(),
  };
}
