/**
 * The one error type of the disk-image code. A malformed image never crashes the host:
 * every check that fails throws an `ImageError` that says which structure, which field
 * and which byte offset of the file was wrong, so the message alone locates the damage.
 */
export class ImageError extends Error {
  constructor(
    message: string,
    /** The on-disk field that was wrong, as the format's specification names it. */
    readonly field?: string,
    /** Byte offset in the image file where the field (or the bad data) lives. */
    readonly offset?: number,
  ) {
    super(message);
    this.name = 'ImageError';
  }
}

/** Formats a byte offset the way the error messages show it. */
export function hex(n: number): string {
  return '0x' + n.toString(16);
}

/** Throws an ImageError naming `format`, the field and where it is. */
export function fail(format: string, field: string, offset: number, problem: string): never {
  throw new ImageError(`${format}: ${field} at offset ${hex(offset)}: ${problem}`, field, offset);
}
