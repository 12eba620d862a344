/**
 * Node-only helpers: open an image file by path, with qcow2 backing files resolved
 * relative to the image's own folder (as QEMU does). Browser code uses open.ts with its
 * own ByteSource and resolver instead.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { FileSource } from './node-file.js';
import { openImage, type OpenOptions } from './open.js';
import type { DiskImage, ImageFormat } from './types.js';
import { ImageError } from './errors.js';

/** Backing chains deeper than this are refused (a loop of backing files ends here too). */
export const MAX_BACKING_DEPTH = 16;

export function openImageFile(path: string, opts: Omit<OpenOptions, 'backing'> = {}, chain: string[] = []): DiskImage {
  const full = resolve(path);
  if (chain.includes(full)) throw new ImageError(`backing file loop: ${[...chain, full].join(' -> ')}`);
  if (chain.length >= MAX_BACKING_DEPTH) throw new ImageError(`backing chain deeper than ${MAX_BACKING_DEPTH} at ${full}`);
  const src = new FileSource(full, opts.readOnly ? 'r' : 'r+');
  try {
    return openImage(src, {
      ...opts,
      backing: (name, format) => openImageFile(isAbsolute(name) ? name : resolve(dirname(full), name),
        { readOnly: true, format: format as ImageFormat | undefined }, [...chain, full]),
    });
  } catch (e) {
    src.close();
    throw e;
  }
}
