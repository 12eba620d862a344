/**
 * Node-only helpers: open an image file by path, with qcow2 backing files and VMDK extent
 * files resolved relative to the image's own folder (as QEMU does). Browser code uses
 * open.ts with its own ByteSource and resolvers instead.
 */
import { realpathSync, statSync } from 'node:fs';
import { deflateSync, createDeflate, constants as zc } from 'node:zlib';
import { dirname, isAbsolute, resolve, relative, sep } from 'node:path';
import { FileSource, fsReason } from './node-file.js';
import { openImage, type OpenOptions } from './open.js';
import type { DiskImage, ImageFormat } from './types.js';
import { ImageError } from './errors.js';
import { extentNameProblem, type ExtentResolver } from './vmdk/extents.js';
import { normalizeMemberName } from '../ovf/paths.js';
import { useCodec } from './codec.js';
import { deflateWorkers, nodeDeflatePool } from './node-deflate.js';

/**
 * Node's zlib is native code: stream-optimized VMDK grains compress in half fflate's time.
 * zlib.deflateSync makes a new zlib state and new output buffers for every grain, and that
 * garbage (outside the JavaScript heap, collected late) took the process's memory to
 * 100 MiB in a 1 GiB conversion; one zlib state per level, reset for each grain
 * (deflateReset), writing into one output buffer, keeps it flat. This goes through the
 * handle under Node's Deflate stream (`_handle.writeSync`, as zlib.deflateSync does
 * itself); deflateSync stays the fallback if that is not there.
 */
function nodeZlibDeflate(): (data: Uint8Array, level: number) => Uint8Array {
  interface Handle {
    reset(): void;
    writeSync(
      flush: number, input: Uint8Array, inOff: number, inLen: number,
      out: Uint8Array, outOff: number, outLen: number,
    ): void;
  }
  const states = new Map<number, { h: Handle; st: Uint32Array }>();
  let out = new Uint8Array(0);
  return (data, level) => {
    let s = states.get(level);
    if (!s) {
      const d = createDeflate({ level }) as unknown as { _handle?: Handle; _writeState?: unknown };
      if (!d._handle || !(d._writeState instanceof Uint32Array))
        return deflateSync(data, { level });
      s = { h: d._handle, st: d._writeState };
      states.set(level, s);
    }
    // zlib's deflateBound for the default window and memLevel, plus the zlib wrapper.
    const n = data.length;
    const bound = n + (n >> 12) + (n >> 14) + (n >> 25) + 13 + 6;
    if (out.length < bound) out = new Uint8Array(bound);
    s.h.reset();
    s.h.writeSync(zc.Z_FINISH, data, 0, data.length, out, 0, out.length);
    const [availOut, availIn] = s.st;
    if (availIn !== 0 || availOut === 0) return deflateSync(data, { level });
    return out.subarray(0, out.length - availOut);
  };
}

const zlibDeflate = nodeZlibDeflate();
/**
 * Worker threads compress stream-optimized grains in parallel (node-deflate.ts) when
 * `WASMVISOR_DEFLATE_THREADS` asks for them: N workers, or `auto` (one per CPU, at most 4).
 * Off by default: each worker is a V8 isolate of about 8-10 MiB, and the conversion keeps
 * within 64 MiB on one thread (grains that do not compress are stored, which took half
 * of the CPU time away; README "Disk images", speed).
 */
function poolWorkers(): number {
  const v = process.env.WASMVISOR_DEFLATE_THREADS;
  if (v === undefined || v === '') return 0;
  if (v === 'auto') return deflateWorkers();
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? Math.min(n, 16) : 0;
}
useCodec({
  zlibDeflate,
  deflatePool: (grainBytes) => nodeDeflatePool(grainBytes, zlibDeflate, poolWorkers()),
});

/**
 * Backing chains deeper than this are refused. qemu-img has no fixed limit (it reads a
 * chain of 500 qcow2 files; open files are the bound): 1024 keeps within the usual
 * 1024-descriptor limit of a process while reading any chain qemu-img reads in practice.
 * A loop of backing files is found by name before that.
 */
export const MAX_BACKING_DEPTH = 1024;

/**
 * Opens the extent files of the VMDK descriptor at `descriptor`: names are taken relative
 * to its folder and must stay inside it (the descriptor parser refuses `..` and absolute
 * names already; this checks the resolved path once more).
 */
export function extentResolver(descriptor: string, within?: string): ExtentResolver {
  const dir = dirname(resolve(descriptor));
  return (name, writable) => {
    const problem = extentNameProblem(name);
    const full = resolve(dir, name);
    const rel = relative(dir, full);
    if (problem || rel === '' || rel.startsWith('..' + sep) || rel === '..' || isAbsolute(rel)) {
      throw new ImageError(`extent file ${name}: ${problem ?? 'outside the descriptor\'s folder'}`);
    }
    // A guest write into such an extent would overwrite the descriptor.
    if (full === resolve(descriptor))
      throw new ImageError(`extent file ${name} is the descriptor itself`);
    if (within !== undefined) {
      const bad = confinedProblem(within, full);
      if (bad) throw new UnsafeBackingError(shown(within, descriptor), name, bad, 'extent file');
    }
    return new FileSource(full, writable ? 'r+' : 'r');
  };
}

/**
 * A backing or extent file an image in a package names that would take the image out of
 * its package (an absolute path, "..", a symbolic link, a file that is not there). The
 * message names the image and the name it gives.
 */
export class UnsafeBackingError extends ImageError {
  constructor(
    /** The image (or VMDK descriptor) that names the file, relative to the package. */
    readonly image: string,
    /** The name as the image gives it. */
    readonly backing: string,
    readonly problem: string,
    what = 'backing file',
  ) {
    const rule = 'an image in a package may only name a file of the package';
    super(image === backing
      ? `"${image}": ${problem}`
      : `"${image}" names ${what} "${backing}": ${problem}; ${rule}`, 'backing file');
    this.name = 'UnsafeBackingError';
  }
}

/** `file` as the user sees it: relative to the package folder when confined to one. */
function shown(within: string | undefined, file: string): string {
  if (within === undefined) return file;
  return relative(resolve(within), resolve(file)).split(sep).join('/');
}

/**
 * Why `full` is not a regular file inside `root` reached without a symbolic link, or
 * undefined when it is. (A link in a folder the user unpacked could point anywhere.)
 */
function confinedProblem(root: string, full: string): string | undefined {
  const rootAbs = resolve(root);
  const rel = relative(rootAbs, full);
  const outside = rel === '' || rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel);
  if (outside) return 'outside the package';
  let real: string;
  let rootReal: string;
  try {
    rootReal = realpathSync(rootAbs);
    real = realpathSync(full);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not in the package' : fsReason(e);
  }
  if (real !== resolve(rootReal, rel)) {
    return 'reached through a symbolic link, which a package may not hold';
  }
  if (!statSync(real).isFile()) return 'not a regular file';
  return undefined;
}

/** Options of openImageFile: those of openImage, less the resolvers it makes itself. */
export interface FileOpenOptions extends Omit<OpenOptions, 'backing' | 'extents'> {
  /**
   * The folder of the package the image came in. Every file of its chain must then be a
   * regular file inside that folder: a backing file name must be a safe package path
   * (relative, no "..", as an OVA member name; ovf/paths.ts), resolve next to the image
   * naming it, exist, and not go through a symbolic link; VMDK extent files likewise.
   * Anything else throws an UnsafeBackingError naming the image and the backing name.
   * Without it, names resolve as QEMU resolves them: relative to the image, or absolute.
   */
  within?: string;
}

export function openImageFile(
  path: string, opts: FileOpenOptions = {}, chain: string[] = [],
): DiskImage {
  const full = resolve(path);
  if (chain.includes(full))
    throw new ImageError(`backing file loop: ${[...chain, full].join(' -> ')}`);
  if (chain.length >= MAX_BACKING_DEPTH)
    throw new ImageError(`backing chain deeper than ${MAX_BACKING_DEPTH} at ${full}`);
  const { within, ...rest } = opts;
  if (within !== undefined && chain.length === 0) {
    const bad = confinedProblem(within, full);
    if (bad) throw new UnsafeBackingError(path, path, bad);
  }
  const src = new FileSource(full, opts.readOnly ? 'r' : 'r+');
  try {
    return openImage(src, {
      name: path,
      ...rest,
      backing: (name, format) => {
        const next = { readOnly: true, format: format as ImageFormat | undefined, within };
        if (within === undefined) {
          const target = isAbsolute(name) ? name : resolve(dirname(full), name);
          return openImageFile(target, next, [...chain, full]);
        }
        // The rules of OVA member names; "./base.qcow2" is "base.qcow2" there too.
        const { name: rel, problem } = normalizeMemberName(name);
        const target = resolve(dirname(full), rel);
        const bad = problem ?? confinedProblem(within, target);
        if (bad) throw new UnsafeBackingError(shown(within, full), name, bad);
        return openImageFile(target, next, [...chain, full]);
      },
      extents: extentResolver(full, within),
    });
  } catch (e) {
    src.close();
    throw e;
  }
}
