/**
 * VMDK hosted sparse extent constants, from VMware "Virtual Disk Format 5.0",
 * section "Hosted Sparse Extents" (SparseExtentHeader, grain directory and tables) and
 * section "Stream-Optimized Compressed Sparse Extents" (markers and the footer).
 * All fields are little-endian; sizes and offsets are in 512-byte sectors.
 */

export const SECTOR = 512;
/** SPARSE_MAGICNUMBER: 'K' 'D' 'M' 'V' read as a little-endian uint32. */
export const SPARSE_MAGIC = 0x564d444b;

/** SparseExtentHeader field offsets. */
export const H_MAGIC = 0;
export const H_VERSION = 4;
export const H_FLAGS = 8;
export const H_CAPACITY = 12;
export const H_GRAIN_SIZE = 20;
export const H_DESCRIPTOR_OFFSET = 28;
export const H_DESCRIPTOR_SIZE = 36;
export const H_NUM_GTES_PER_GT = 44;
export const H_RGD_OFFSET = 48;
export const H_GD_OFFSET = 56;
export const H_OVERHEAD = 64;
export const H_UNCLEAN_SHUTDOWN = 72;
export const H_SINGLE_END_LINE_CHAR = 73;
export const H_NON_END_LINE_CHAR = 74;
export const H_DOUBLE_END_LINE_CHAR1 = 75;
export const H_DOUBLE_END_LINE_CHAR2 = 76;
export const H_COMPRESS_ALGORITHM = 77;
export const HEADER_SIZE = 512;

/**
 * "flags": bit 0 valid newline detection, bit 1 redundant
 * grain table, bit 16 compressed grains, bit 17 markers.
 */
export const FLAG_NL_DETECT = 1 << 0;
export const FLAG_RGD = 1 << 1;
/** Bit 2: a grain table entry of 1 means a zeroed grain (QEMU's VMDK4_FLAG_ZERO_GRAIN, ESXi). */
export const FLAG_ZERO_GRAIN = 1 << 2;
export const FLAG_COMPRESSED = 1 << 16;
export const FLAG_MARKERS = 1 << 17;

/** "compressAlgorithm": COMPRESSION_NONE 0, COMPRESSION_DEFLATE 1 (RFC 1950 zlib streams). */
export const COMPRESSION_NONE = 0;
export const COMPRESSION_DEFLATE = 1;

/** "gdOffset" of a stream-optimized header whose grain directory is found via the footer. */
export const GD_AT_END = 0xffff_ffff_ffff_ffffn;

/** "numGTEsPerGT" is 512 in every extent the specification describes. */
export const GTES_PER_GT = 512;
/** A grain table entry of 1 with FLAG_ZERO_GRAIN: the grain reads as zeros. */
export const GTE_ZEROED = 1;

/** Marker "type" values (the marker's "size" field is 0 for metadata markers). */
export const MARKER_EOS = 0;
export const MARKER_GT = 1;
export const MARKER_GD = 2;
export const MARKER_FOOTER = 3;
/** A grain marker: lba (uint64), size (uint32), then the compressed bytes. */
export const GRAIN_MARKER_SIZE = 12;

/** Versions this code reads: 1 (plain), 2 (zeroed grains), 3 (stream-optimized). */
export const MAX_VERSION = 3;
/** Default grain: 128 sectors (64 KiB), as VMware and QEMU write. */
export const DEFAULT_GRAIN_SECTORS = 128;
/** Grain directory bytes this code accepts (QEMU's limit is similar). */
export const MAX_GD_BYTES = 32 << 20;
