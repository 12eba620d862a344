/**
 * qcow2 on-disk constants. Every number comes from QEMU's qcow2 specification
 * (docs/interop/qcow2.txt, "QCOW2 Image format"); the section is named beside it.
 */

/** "Header": bytes 0-3, 'Q' 'F' 'I' 0xfb. */
export const QCOW2_MAGIC = 0x514649fb;

/** "Header": field offsets (big-endian). */
export const H_MAGIC = 0;
export const H_VERSION = 4;
export const H_BACKING_FILE_OFFSET = 8;
export const H_BACKING_FILE_SIZE = 16;
export const H_CLUSTER_BITS = 20;
export const H_SIZE = 24;
export const H_CRYPT_METHOD = 32;
export const H_L1_SIZE = 36;
export const H_L1_TABLE_OFFSET = 40;
export const H_REFCOUNT_TABLE_OFFSET = 48;
export const H_REFCOUNT_TABLE_CLUSTERS = 56;
export const H_NB_SNAPSHOTS = 60;
export const H_SNAPSHOTS_OFFSET = 64;
/** Version 3 fields follow at 72. */
export const H_INCOMPATIBLE_FEATURES = 72;
export const H_COMPATIBLE_FEATURES = 80;
export const H_AUTOCLEAR_FEATURES = 88;
export const H_REFCOUNT_ORDER = 96;
export const H_HEADER_LENGTH = 100;
/** "Additional fields (version 3 and higher)": byte 104, present when header_length > 104. */
export const H_COMPRESSION_TYPE = 104;

/** A version 2 header is 72 bytes; version 3 at least 104 ("header_length"). */
export const V2_HEADER_LENGTH = 72;
export const V3_MIN_HEADER_LENGTH = 104;
/** QEMU writes 112: the compression-type byte padded to a multiple of 8. */
export const V3_HEADER_LENGTH = 112;

/** "incompatible_features" bits. */
export const INCOMPAT_DIRTY = 1 << 0;
export const INCOMPAT_CORRUPT = 1 << 1;
export const INCOMPAT_DATA_FILE = 1 << 2;
export const INCOMPAT_COMPRESSION = 1 << 3;
export const INCOMPAT_EXTL2 = 1 << 4;
/** "compatible_features" bit 0: lazy refcounts. */
export const COMPAT_LAZY_REFCOUNTS = 1 << 0;
/** "autoclear_features" bits 0 (bitmaps extension consistent) and 1 (raw external data). */
export const AUTOCLEAR_BITMAPS = 1 << 0;
export const AUTOCLEAR_DATA_FILE_RAW = 1 << 1;

/** "Header extensions": type codes. */
export const EXT_END = 0x00000000;
export const EXT_BACKING_FORMAT = 0xe2792aca;
export const EXT_FEATURE_TABLE = 0x6803f857;
export const EXT_BITMAPS = 0x23852875;
export const EXT_CRYPTO = 0x0537be77;
export const EXT_DATA_FILE = 0x44415441;

/** "crypt_method": 0 none, 1 AES, 2 LUKS. */
export const CRYPT_NONE = 0;
/** "compression_type": 0 zlib (raw deflate), 1 zstd. */
export const COMPRESSION_ZLIB = 0;
export const COMPRESSION_ZSTD = 1;

/** "cluster_bits": at least 9 (512-byte clusters); QEMU's limit is 21 (2 MiB). */
export const MIN_CLUSTER_BITS = 9;
export const MAX_CLUSTER_BITS = 21;
/** "refcount_order": 0..6 (1 to 64-bit refcounts); version 2 images always use 4. */
export const MAX_REFCOUNT_ORDER = 6;
/** QEMU's limits on table sizes (block/qcow2.h QCOW_MAX_L1_SIZE, QCOW_MAX_REFTABLE_SIZE). */
export const MAX_L1_BYTES = 32 << 20;
export const MAX_REFTABLE_BYTES = 8 << 20;
/** Backing file names are at most 1023 bytes ("backing_file_size"). */
export const MAX_BACKING_NAME = 1023;

/**
 * "L1 table" entries: bits 9-55 are the L2 table offset; bit 63 means refcount == 1
 * ("COPIED"). "L2 table" entries: bit 62 compressed, bit 63 COPIED; a standard cluster
 * descriptor has bit 0 "all zeros" (version 3) and bits 9-55 the host cluster offset.
 * Masks below are on the high and low 32-bit halves of the 64-bit entry.
 */
export const HI_COPIED = 0x8000_0000;
export const HI_COMPRESSED = 0x4000_0000;
export const HI_OFFSET_MASK = 0x00ff_ffff; // bits 32-55
export const LO_OFFSET_MASK = 0xffff_fe00; // bits 9-31
export const LO_ZERO = 0x1; // bit 0
/** Reserved bits that must be zero: L1 bits 0-8 and 56-62, L2 standard bits 1-8 and 56-61. */
export const L1_HI_RESERVED = 0x7f00_0000;
export const L1_LO_RESERVED = 0x0000_01ff;
export const L2_HI_RESERVED = 0x3f00_0000;
export const L2_LO_RESERVED = 0x0000_01fe;
/** Refcount table entries: bits 9-63 the refcount block offset, bits 0-8 reserved. */
export const RT_LO_RESERVED = 0x0000_01ff;
/** "Snapshot table" entries are aligned to 8 bytes; the fixed part is 40 bytes. */
export const SNAPSHOT_FIXED_SIZE = 40;
