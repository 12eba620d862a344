/**
 * Linear addresses shared by the capture runner (runner.c, same numbers there) and the
 * replay. The instruction under test starts at CODE; everything it reads or writes lies in
 * the watched window, so a vector does not depend on where the host put its stack or heap.
 * Each fixture repeats these numbers in its header, and the replay reads them from there.
 */
export const LAYOUT = {
  /** First byte of the instruction under test. */
  code: 0x00100000,
  /** Watched window: the runner rejects a vector that writes outside its declared regions. */
  window: 0x00110000,
  windowSize: 0x2000,
  /** The memory operand's effective address (plus 0..3 for misaligned forms). */
  data: 0x00110800,
  /** String source and destination buffers (ESI, EDI). */
  src: 0x00110400,
  dst: 0x00110c00,
  /** The default ESP; stack forms record [stack - 0x100, stack + 0x40). */
  stack: 0x00111800,
  /**
   * 0x67 (16-bit address size) memory forms run with DS and ES loaded from a 16-bit data
   * segment: base seg16Base, limit 0xffff, access 0x93 (present, writable data, accessed).
   */
  seg16Base: 0x00110000,
} as const;
