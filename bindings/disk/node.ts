/**
 * Node-only helpers: open an image file by path, with qcow2 backing files and VMDK extent
 * files resolved relative to the image's own folder (as QEMU does). Browser code uses
 * open.ts with its own ByteSource and resolvers instead.
 */
import { dirname, isAbsolute, resolve, relative, sep } from 'node:path';
import { FileSource } from './node-file.js';
import { openImage, type OpenOptions } from './open.js';
import type { DiskImage, ImageFormat } from './types.js';
import { ImageError } from './errors.js';
import { extentNameProblem, type ExtentResolver } from './vmdk/extents.js';

/** Backing chains deeper than this are refused (a loop of backing files ends here too). */
export const MAX_BACKING_DEPTH = 16;

/**
 * Opens the extent files of the VMDK descriptor at `descriptor`: names are taken relative
 * to its folder and must stay inside it (the descriptor parser refuses `..` and absolute
 * names already; this checks the resolved path once more).
 */
export function extentResolver(descriptor: string): ExtentResolver {
  const dir = dirname(resolve(descriptor));
  return (name, writable) => {
    const problem = extentNameProblem(name);
    const full = resolve(dir, name);
    const rel = relative(dir, full);
    if (problem || rel === '' || rel.startsWith('..' + sep) || rel === '..' || isAbsolute(rel)) {
      throw new ImageError(`extent file ${name}: ${problem ?? 'outside the descriptor\'s folder'}`);
    }
    // A guest write into such an extent would overwrite the descriptor.
    if (full === resolve(descriptor)) throw new ImageError(`extent file ${name} is the descriptor itself`);
    return new FileSource(full, writable ? 'r+' : 'r');
  };
}

export function openImageFile(path: string, opts: Omit<OpenOptions, 'backing' | 'extents'> = {}, chain: string[] = []): DiskImage {
  const full = resolve(path);
  if (chain.includes(full)) throw new ImageError(`backing file loop: ${[...chain, full].join(' -> ')}`);
  if (chain.length >= MAX_BACKING_DEPTH) throw new ImageError(`backing chain deeper than ${MAX_BACKING_DEPTH} at ${full}`);
  const src = new FileSource(full, opts.readOnly ? 'r' : 'r+');
  try {
    return openImage(src, {
      name: path,
      ...opts,
      backing: (name, format) => openImageFile(isAbsolute(name) ? name : resolve(dirname(full), name),
        { readOnly: true, format: format as ImageFormat | undefined }, [...chain, full]),
      extents: extentResolver(full),
    });
  } catch (e) {
    src.close();
    throw e;
  }
}
