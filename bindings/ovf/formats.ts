/**
 * Disk format URIs of DiskSection/Disk ovf:format (DSP0243 9.1: "a URI that identifies
 * the disk format"). Only VMDK and VHD have URIs published by their owners; for the
 * others the URIs below are the ones other tools write (qcow2: oVirt and virt-v2v), and
 * raw images, for which no tool agrees on one, get wasmvisor's own URN. The VHD URI is
 * the one XenServer writes.
 */
import type { DiskConfig } from '../config/types.js';

export const FORMAT_VMDK_STREAM =
  'http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized';
export const FORMAT_VMDK_SPARSE =
  'http://www.vmware.com/interfaces/specifications/vmdk.html#sparse';
export const FORMAT_VHD = 'http://www.microsoft.com/technet/virtualserver/downloads/vhdspec.mspx';
export const FORMAT_QCOW2 = 'http://www.gnome.org/~markmc/qcow-image-format.html';
export const FORMAT_RAW = 'urn:x-wasmvisor:format:raw';
export const FORMAT_ISO = 'http://www.ecma-international.org/publications/standards/Ecma-119.htm';

/** The configuration's image format for an ovf:format URI, or undefined if unknown. */
export function formatFromUri(uri: string | undefined): DiskConfig['format'] | undefined {
  if (!uri) return undefined;
  const u = uri.toLowerCase();
  if (u.includes('vmdk')) return 'vmdk';
  if (u.includes('vhd')) return 'vhd';
  if (u.includes('qcow')) return 'qcow2';
  if (u.includes('ecma-119') || u.includes('iso9660') || u.endsWith('#iso')) return 'iso';
  if (u === FORMAT_RAW || /[:/#]raw$/.test(u)) return 'raw';
  return undefined;
}

/** The image format of a file from its first bytes (magic numbers), or undefined. */
export function sniffFormat(
  head: Uint8Array,
): { format: DiskConfig['format']; uri: string } | undefined {
  const ascii = (o: number, n: number) => String.fromCharCode(...head.subarray(o, o + n));
  // VMDK hosted sparse extent header: magic "KDMV" (VMware Virtual Disk Format 1.1,
  // "Hosted Sparse Extent Header"); compressAlgorithm (uint16 at byte 77) = 1 means
  // deflate-compressed grains, the streamOptimized subformat.
  if (head.length >= 79 && ascii(0, 4) === 'KDMV') {
    const compress = head[77] | (head[78] << 8);
    return { format: 'vmdk', uri: compress === 1 ? FORMAT_VMDK_STREAM : FORMAT_VMDK_SPARSE };
  }
  // qcow2 header: magic "QFI\xfb" (QEMU docs/interop/qcow2.txt, "Header").
  if (head.length >= 4 && ascii(0, 3) === 'QFI' && head[3] === 0xfb)
    return { format: 'qcow2', uri: FORMAT_QCOW2 };
  return undefined;
}

/** The ovf:format URI for a configuration's format. */
export function uriForFormat(f: DiskConfig['format'] | undefined): string {
  switch (f) {
    case 'vmdk': return FORMAT_VMDK_STREAM;
    case 'vhd': return FORMAT_VHD;
    case 'qcow2': return FORMAT_QCOW2;
    case 'iso': return FORMAT_ISO;
    default: return FORMAT_RAW;
  }
}
