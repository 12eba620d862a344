/**
 * A block device as the disk controllers (IDE, later virtio-blk) see it: synchronous,
 * byte-addressed, so that it works the same over a file in Node and a buffer in a page.
 * Every image format (raw, qcow2, VMDK) implements it. On a damaged image, read and write
 * throw an `ImageError` (bindings/disk/errors.ts) naming the bad field: a controller
 * reports that to the guest as a media error; it never takes the host down.
 */
export interface BlockDevice {
  /** Virtual size in bytes. */
  readonly size: number;
  readonly readOnly: boolean;
  /** Fills `dst` from `offset`; unallocated ranges read as zeros. */
  read(offset: number, dst: Uint8Array): void;
  write(offset: number, src: Uint8Array): void;
  flush(): void;
  close(): void;
}

/**
 * What a range of a disk holds, as qemu's block-status query answers it: a run of
 * `length` bytes from the asked offset that either has data stored somewhere (in this
 * image or a backing file) or reads as zeros without any data behind it. Converters use
 * it to skip the empty parts of a sparse image without reading them.
 */
export interface BlockStatus {
  length: number;
  data: boolean;
}

/** Formats read and written; vpc (VHD), vhdx and vdi are read only. */
export type ImageFormat = 'raw' | 'qcow2' | 'vmdk' | 'vpc' | 'vhdx' | 'vdi';

/**
 * One run of `qemu-img map`: where guest bytes live. `depth` counts backing files down
 * from this image; `present` means some image in the chain allocates it; `offset` is the
 * host offset of the run's first byte when the data sits there uncompressed and contiguous.
 */
export interface MapEntry {
  start: number;
  length: number;
  depth: number;
  present: boolean;
  zero: boolean;
  data: boolean;
  offset?: number;
}

/** `img info` facts, with qemu-img's JSON names where they exist. */
export interface ImageInfo {
  format: ImageFormat;
  'virtual-size': number;
  'cluster-size'?: number;
  'backing-filename'?: string;
  'backing-filename-format'?: string;
  'dirty-flag'?: boolean;
  'format-specific'?: { type: ImageFormat; data: Record<string, unknown> };
  snapshots?: SnapshotInfo[];
}

/** An internal snapshot as `qemu-img info --output json` lists it. */
export interface SnapshotInfo {
  icount?: number;
  'vm-clock-nsec': number;
  name: string;
  'date-sec': number;
  'date-nsec': number;
  'vm-clock-sec': number;
  id: string;
  'vm-state-size': number;
}

/** A disk image of some format: a block device that also reports what it stores. */
export interface DiskImage extends BlockDevice {
  readonly format: ImageFormat;
  /** Status of the run that starts at `offset` (at most `length` bytes, at least 1). */
  blockStatus(offset: number, length: number): BlockStatus;
  /** The uniform run starting at `offset` (at most `length` bytes), for `img map`. */
  mapRange(offset: number, length: number): MapEntry;
  info(): ImageInfo;
}

/** Checks a guest request against the device size; shared by every format. */
export function checkRange(dev: { size: number }, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > dev.size) {
    throw new RangeError(
      `access at ${offset} (+${length}) is outside the disk (${dev.size} bytes)`,
    );
  }
}
