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

export type { BackingResolver, ExtentResolver };

/** Recognizes an image from its first bytes (raw when nothing matches, as qemu-img does). */
export function detectFormat(src: ByteSource): ImageFormat {
  const head = new Uint8Array(512);
  const n = src.read(0, head);
  const dv = new DataView(head.buffer);
  if (n >= 4 && dv.getUint32(0, false) === QCOW2_MAGIC) return 'qcow2';
  if (n >= 4 && dv.getUint32(0, true) === SPARSE_MAGIC) return 'vmdk';
  // A VMDK descriptor file (monolithicFlat, twoGbMaxExtent*, vmfs): text naming the extents.
  if (isDescriptorText(head.subarray(0, n))) return 'vmdk';
  const text = new TextDecoder('latin1').decode(head.subarray(0, n));
  // Formats recognized only to say so, rather than reading their metadata as raw disk data.
  if (text.startsWith('conectix'))
    throw new ImageError('this looks like a VHD image (dynamic), which is not supported');
  if (text.startsWith('vhdxfile'))
    throw new ImageError('this looks like a VHDX image, which is not supported');
  if (text.startsWith('<<< ') && n >= 0x44 && dv.getUint32(0x40, true) === 0xbeda107f)
    throw new ImageError('this looks like a VirtualBox VDI image, which is not supported');
  if (text.startsWith('COWD'))
    throw new ImageError('this looks like a VMware ESX COWD sparse extent, which is not supported');
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
  const format = opts.format ?? detectFormat(src);
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
    default:
      throw new ImageError(`unknown image format "${format as string}" (use raw, qcow2 or vmdk)`);
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
