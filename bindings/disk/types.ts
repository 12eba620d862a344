/**
 * A block device as the disk controllers (IDE, later virtio-blk) see it: synchronous,
 * byte-addressed, so that it works the same over a file in Node and a buffer in a page.
 * Every image format (raw, qcow2, VMDK) implements it.
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
