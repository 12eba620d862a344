/**
 * The 512-byte IDENTIFY DEVICE data of an ATA disk (ATA/ATAPI-6, T13/1410D revision 3b,
 * 8.15 and Table 27). Only what this device really does is claimed: PIO modes 3-4, LBA28
 * and LBA48, READ/WRITE MULTIPLE up to 16 sectors, FLUSH CACHE (EXT), write cache and
 * look-ahead, power management; multiword DMA modes 0-2 when the controller can do DMA.
 */

export interface IdentifyParams {
  sectors: number;
  /** Default geometry (words 1, 3, 6). */
  cylinders: number; heads: number; sectorsPerTrack: number;
  /** Current geometry after INITIALIZE DEVICE PARAMETERS (words 54-58). */
  curCylinders: number; curHeads: number; curSectorsPerTrack: number;
  model: string; serial: string; firmware: string;
  maxMultiple: number;
  /** Current READ/WRITE MULTIPLE block size, 0 if disabled (word 59). */
  multiple: number;
  writeCache: boolean;
  lookAhead: boolean;
  /** Multiword DMA supported (modes 0-2), and the selected mode (0-2) or -1. */
  dma?: boolean;
  dmaMode?: number;
}

/** Most sectors LBA28 can address: words 60-61 hold at most 0x0FFFFFFF (ATA-6 8.15.35). */
export const LBA28_MAX = 0x0fffffff;

/** ATA strings: two characters per word, the first in the high byte, space padded (ATA-6 3.2.9). */
function putString(w: Uint16Array, first: number, words: number, s: string): void {
  const padded = s.padEnd(words * 2, ' ').slice(0, words * 2);
  for (let i = 0; i < words; i++) {
    w[first + i] = (padded.charCodeAt(2 * i) & 0x7f) << 8 | (padded.charCodeAt(2 * i + 1) & 0x7f);
  }
}

export function buildIdentify(p: IdentifyParams): Uint8Array {
  const w = new Uint16Array(256);
  w[0] = 0x0040; // general configuration: ATA device (bit 15 = 0), fixed (bit 6)
  w[1] = p.cylinders;
  w[3] = p.heads;
  w[6] = p.sectorsPerTrack;
  putString(w, 10, 10, p.serial);
  putString(w, 23, 4, p.firmware);
  putString(w, 27, 20, p.model);
  w[47] = 0x8000 | p.maxMultiple; // bits 15-8 are 80h; 7-0 the largest READ/WRITE MULTIPLE block
  w[49] = 0x0a00 | (p.dma ? 0x0100 : 0); // capabilities: IORDY (11), LBA (9), DMA (8) supported
  w[50] = 0x4000; // bit 14 shall be one
  w[51] = 0x0200; // PIO data transfer cycle timing mode 2 (obsolete word, as drives still fill it)
  w[53] = 0x0003; // words 54-58 and 64-70 are valid; 88 is not (no Ultra DMA)
  w[54] = p.curCylinders;
  w[55] = p.curHeads;
  w[56] = p.curSectorsPerTrack;
  const chsCapacity = p.curCylinders * p.curHeads * p.curSectorsPerTrack;
  w[57] = chsCapacity & 0xffff;
  w[58] = Math.floor(chsCapacity / 0x10000) & 0xffff;
  w[59] = p.multiple ? 0x0100 | p.multiple : 0; // bit 8: the multiple setting (7-0) is valid
  const lba28 = Math.min(p.sectors, LBA28_MAX);
  w[60] = lba28 & 0xffff;
  w[61] = Math.floor(lba28 / 0x10000);
  // Multiword DMA modes 0-2 supported (bits 2-0) and the selected one (bits 10-8).
  w[63] = p.dma ? 0x0007 | (p.dmaMode !== undefined && p.dmaMode >= 0 ? 0x100 << p.dmaMode : 0) : 0;
  if (p.dma) { w[65] = 120; w[66] = 120; } // minimum and recommended MWDMA cycle time, ns (mode 2)
  w[64] = 0x0003; // advanced PIO modes 3 and 4 supported
  w[67] = 120; // minimum PIO cycle time without flow control, ns (PIO mode 4)
  w[68] = 120; // with IORDY flow control
  w[80] = 0x0070; // major version: ATA/ATAPI-4, -5 and -6
  w[81] = 0x0000; // minor version not reported
  w[82] = 0x0068; // supported: look-ahead (6), write cache (5), power management (3)
  w[83] = 0x7400; // bit 14 one; FLUSH CACHE EXT (13), FLUSH CACHE (12), 48-bit address (10)
  w[84] = 0x4000; // bit 14 one
  w[85] = (p.lookAhead ? 0x40 : 0) | (p.writeCache ? 0x20 : 0) | 0x08; // enabled features
  w[86] = 0x3400; // enabled: FLUSH CACHE EXT, FLUSH CACHE, 48-bit address
  w[87] = 0x4000; // bit 14 one
  // Words 100-103: the largest user LBA + 1 for 48-bit commands (ATA-6 8.15.56).
  let n = p.sectors;
  for (let i = 100; i <= 103; i++) { w[i] = n % 0x10000; n = Math.floor(n / 0x10000); }
  const bytes = new Uint8Array(512);
  for (let i = 0; i < 255; i++) { bytes[2 * i] = w[i] & 0xff; bytes[2 * i + 1] = w[i] >> 8; }
  // Word 255: signature A5h in bits 7-0 and a checksum in bits 15-8 so that the 512 bytes
  // add up to zero modulo 256 (ATA-6 8.15.65).
  bytes[510] = 0xa5;
  let sum = 0;
  for (let i = 0; i < 511; i++) sum += bytes[i];
  bytes[511] = (256 - (sum & 0xff)) & 0xff;
  return bytes;
}

/**
 * Default CHS geometry for a disk of `sectors` (ATA-6 Annex, and what BIOSes expect):
 * 16 heads and 63 sectors per track, cylinders capped at 16383 (words 1, 3, 6 for disks
 * over 8.4 GB report 16383/16/63).
 */
export function defaultGeometry(
  sectors: number,
): { cylinders: number; heads: number; sectorsPerTrack: number } {
  const heads = 16, sectorsPerTrack = 63;
  const cylinders = Math.max(1, Math.min(16383, Math.floor(sectors / (heads * sectorsPerTrack))));
  return { cylinders, heads, sectorsPerTrack };
}
