/**
 * VMDK disks made of a text descriptor file and separate extent files (VMware "Virtual
 * Disk Format 5.0", section "The Descriptor File", "Extent Descriptions"): createType
 * monolithicFlat, twoGbMaxExtentFlat, twoGbMaxExtentSparse and vmfs. Each extent line
 * `RW <sectors> <FLAT|SPARSE|ZERO|VMFS> "<file>" [offset]` adds `sectors` to the disk, in
 * order. FLAT and VMFS extents are raw data starting `offset` sectors into their file;
 * SPARSE extents are hosted sparse extents (read by image.ts); ZERO extents have no file
 * and read as zeros.
 *
 * Extent files are opened through a resolver callback, as qcow2 backing files are, so
 * this module never touches a file system (node.ts resolves names next to the descriptor).
 * A descriptor may only name files in its own folder or below: absolute names and `..`
 * are refused before the resolver is asked.
 */
import type { ByteSource } from '../source.js';
import { readExact } from '../source.js';
import { ImageError } from '../errors.js';
import {
  checkRange,
  type BlockStatus,
  type DiskImage,
  type ImageInfo,
  type MapEntry,
} from '../types.js';
import {
  parseDescriptor,
  hasParent,
  buildDescriptor,
  type Descriptor,
  type Extent,
} from './descriptor.js';
import { VmdkImage } from './image.js';
import { checkVmdkSize, createMonolithicSparse } from './create.js';
import * as C from './constants.js';

/** The first line of every descriptor file ("The Descriptor File"). */
export const DESCRIPTOR_SIGNATURE = '# Disk DescriptorFile';
/** Real descriptors are a few hundred bytes; anything over 1 MiB is refused unread. */
export const MAX_DESCRIPTOR_FILE = 1 << 20;
/** parseDescriptor reads this many lines; a longer descriptor is refused, not cut. */
const MAX_DESCRIPTOR_LINES = 10000;
/**
 * qemu-img's extent size for the twoGbMaxExtent* subformats: 2 GiB, the last extent holds the rest.
 */
export const SPLIT_EXTENT_SECTORS = (2 * 1024 * 1024 * 1024) / C.SECTOR;

/** Opens the extent file `file` (a name relative to the descriptor's folder). */
export type ExtentResolver = (file: string, writable: boolean) => ByteSource;

/**
 * createType values this reader handles (QEMU's list,
 * plus the single-file types in a descriptor file).
 */
const CREATE_TYPES = [
  'monolithicFlat',
  'twoGbMaxExtentFlat',
  'twoGbMaxExtentSparse',
  'vmfs',
  'monolithicSparse',
  'streamOptimized',
];
/** Extent types other tools write that this code does not read. */
const UNSUPPORTED_TYPES = ['VMFSSPARSE', 'SESPARSE', 'VMFSRDM', 'VMFSRAW'];

/**
 * True when the bytes are a descriptor file: they start (after an optional UTF-8 BOM and
 * blank space) with the descriptor signature, or, as QEMU's vmdk_probe (block/vmdk.c)
 * accepts them, comment lines and lines of blanks lead to a `version=1|2|3` line (a
 * descriptor whose first comment line was dropped).
 */
export function isDescriptorText(head: Uint8Array): boolean {
  let i = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  const start = i;
  while (
    i < head.length &&
    (head[i] === 0x20 || head[i] === 0x09 || head[i] === 0x0a || head[i] === 0x0d)
  )
    i++;
  const sig = DESCRIPTOR_SIGNATURE;
  if (head.length - i >= sig.length) {
    let k = 0;
    while (k < sig.length && head[i + k] === sig.charCodeAt(k)) k++;
    if (k === sig.length) return true;
  }
  // vmdk_probe: skip "#" lines and lines of spaces, then "version=N\n" or "version=N\r\n".
  i = start;
  while (i < head.length) {
    if (head[i] === 0x23) {
      while (i < head.length && head[i] !== 0x0a) i++;
      i++;
      continue;
    }
    if (head[i] === 0x20) {
      while (i < head.length && head[i] === 0x20) i++;
      if (i < head.length && head[i] === 0x0d) i++;
      if (i >= head.length || head[i] !== 0x0a) return false;
      i++;
      continue;
    }
    const line = String.fromCharCode(...head.subarray(i, i + 11));
    return /^version=[123](\n|\r\n)/.test(line);
  }
  return false;
}

/** Why an extent file name may not be used (undefined when it may). */
export function extentNameProblem(file: string): string | undefined {
  if (file === '') return 'the file name is empty';
  if (/^[\\/]/.test(file) || /^[A-Za-z]:/.test(file))
    return 'absolute paths are refused (a descriptor may only name files in its own folder)';
  if (file.split(/[\\/]/).includes('..'))
    return '".." is refused (a descriptor may not reach outside its folder)';
  if (file.includes('\0')) return 'the file name contains a NUL character';
  return undefined;
}

/** An extent description and the line it is on. */
export interface ExtentLine extends Extent {
  line: number;
}

/** Reads and parses a descriptor file, refusing what this reader would misread. */
export function readDescriptorFile(
  src: ByteSource,
  name: string,
): { descriptor: Descriptor; extents: ExtentLine[]; crlf: boolean } {
  if (src.size > MAX_DESCRIPTOR_FILE) {
    throw new ImageError(
      `vmdk: ${name}: the descriptor file is ${src.size} bytes, ` +
        `over the ${MAX_DESCRIPTOR_FILE >> 20} MiB a descriptor may be`,
      'descriptor',
      0,
    );
  }
  const bytes = readExact(src, 0, src.size, `vmdk descriptor ${name}`);
  const nul = bytes.indexOf(0);
  const text = new TextDecoder().decode(nul >= 0 ? bytes.subarray(0, nul) : bytes);
  const lines = text.split(/\r?\n/);
  if (lines.length > MAX_DESCRIPTOR_LINES) {
    throw new ImageError(
      `vmdk: ${name}: the descriptor has ${lines.length} lines, ` +
        `more than the ${MAX_DESCRIPTOR_LINES} this reader accepts`,
      'descriptor',
      0,
    );
  }
  const d = parseDescriptor(text);
  const at = (line: number, problem: string): never => {
    const l = lines[line - 1].trim();
    throw new ImageError(
      `vmdk: ${name} line ${line}: ${problem}: "${l.length > 120 ? l.slice(0, 120) + '...' : l}"`,
      'extent description',
      0,
    );
  };
  // A line that starts like an extent description but did not parse as one.
  const parsed = new Set(d.extentLines);
  lines.forEach((l, i) => {
    if (/^\s*(RW|RDONLY|NOACCESS)\b/.test(l) && !parsed.has(i + 1)) {
      at(
        i + 1,
        'the extent description does not parse (expected RW ' +
          '<sectors> <FLAT|SPARSE|ZERO|VMFS> "<file>" [offset])',
      );
    }
  });
  const ct = d.fields.get('createType');
  const ctLine = lines.findIndex((l) => /^\s*createType\s*=/.test(l)) + 1;
  if (ct === undefined)
    throw new ImageError(`vmdk: ${name}: the descriptor has no createType`, 'createType', 0);
  if (
    ct === 'vmfsSparse' ||
    ct === 'seSparse' ||
    ct === 'vmfsRDM' ||
    ct === 'vmfsRaw' ||
    ct === 'vmfsPassthroughRawDeviceMap'
  ) {
    at(ctLine, `createType ${ct} is not supported`);
  }
  if (!CREATE_TYPES.includes(ct)) at(ctLine, `unknown createType "${ct}"`);
  if (hasParent(d)) {
    const pl = lines.findIndex((l) => /^\s*parentCID\s*=/.test(l)) + 1;
    at(
      pl,
      `the descriptor names a parent (parentCID=${d.fields.get('parentCID')}): ` +
        'delta links are not supported',
    );
  }
  const extents: ExtentLine[] = d.extents.map((e, k) => ({ ...e, line: d.extentLines[k] }));
  for (const e of extents) {
    if (e.access === 'NOACCESS') at(e.line, 'NOACCESS extents cannot be read');
    if (!Number.isSafeInteger(e.sectors) || e.sectors <= 0)
      at(e.line, 'the extent size must be a positive number of sectors');
    if (UNSUPPORTED_TYPES.includes(e.type)) at(e.line, `${e.type} extents are not supported`);
    if (!['FLAT', 'VMFS', 'SPARSE', 'ZERO'].includes(e.type))
      at(e.line, `unknown extent type ${e.type}`);
    if (e.type === 'ZERO') continue;
    if (e.file === undefined) at(e.line, `a ${e.type} extent needs a file name`);
    const problem = extentNameProblem(e.file!);
    if (problem) at(e.line, problem);
    if (e.type === 'SPARSE' && e.offset !== undefined && e.offset !== 0)
      at(e.line, 'a SPARSE extent cannot start at an offset');
    if (e.offset !== undefined && !Number.isSafeInteger(e.offset))
      at(e.line, 'the offset is too large');
  }
  // A sparse extent named twice would be two readers with separate table caches over one
  // file, each overwriting the other's grains; flat extents may share a file (at offsets).
  const seen = new Map<string, ExtentLine>();
  for (const e of extents) {
    if (e.file === undefined) continue;
    const key = e.file
      .split(/[\\/]/)
      .filter((p) => p !== '' && p !== '.')
      .join('/');
    const other = seen.get(key);
    if (other && (other.type === 'SPARSE' || e.type === 'SPARSE'))
      at(
        e.line,
        `the file is already the extent on line ${other.line}; a sparse extent cannot be shared`,
      );
    seen.set(key, e);
  }
  const total = d.extents.reduce((n, e) => n + e.sectors, 0);
  if (!Number.isSafeInteger(total * C.SECTOR)) {
    throw new ImageError(
      `vmdk: ${name}: the extents add up to ${total} sectors, beyond 2^53 - 1 bytes`,
      'extent description',
      0,
    );
  }
  return { descriptor: d, extents, crlf: text.includes('\r\n') };
}

interface OpenExtent {
  desc: ExtentLine;
  kind: 'flat' | 'sparse' | 'zero';
  /** First byte of the disk this extent holds. */
  start: number;
  size: number;
  src?: ByteSource;
  /** Byte offset of the extent's data in a flat file. */
  base: number;
  sparse?: VmdkImage;
}

export interface VmdkExtentsOpenOptions {
  readOnly?: boolean;
  /** Opens the extent files; without it only a disk of ZERO extents opens. */
  resolve?: ExtentResolver;
  /** The descriptor's name in messages. */
  name?: string;
}

/** A disk described by a descriptor file: its extents one after the other. */
export class VmdkExtentsImage implements DiskImage {
  readonly format = 'vmdk' as const;
  /** Tells `img info` that extents live in files of their own. */
  readonly separateExtents = true;
  readonly descriptor: Descriptor;
  readonly size: number;
  readonly readOnly: boolean;
  readonly extents: OpenExtent[] = [];
  private readonly name: string;
  /** Set once the first write has given the disk a new content ID. */
  private cidRenewed = false;
  private readonly crlf: boolean;

  constructor(
    private readonly src: ByteSource,
    opts: VmdkExtentsOpenOptions = {},
  ) {
    this.name = opts.name ?? 'descriptor';
    const parsed = readDescriptorFile(src, this.name);
    this.descriptor = parsed.descriptor;
    this.crlf = parsed.crlf;
    let readOnly = !!opts.readOnly;
    if (parsed.extents.some((e) => e.access === 'RDONLY')) readOnly = true;
    let start = 0;
    try {
      for (const e of parsed.extents) {
        const ext = this.openExtent(e, start, readOnly, opts.resolve);
        this.extents.push(ext);
        if (ext.sparse?.readOnly) readOnly = true;
        start += ext.size;
      }
    } catch (err) {
      for (const x of this.extents) x.src?.close();
      throw err;
    }
    this.size = start;
    this.readOnly = readOnly;
  }

  private fail(e: ExtentLine, problem: string): never {
    throw new ImageError(
      `vmdk: ${this.name} line ${e.line}: extent "${e.file ?? e.type}": ${problem}`,
      'extent description',
      0,
    );
  }

  private openExtent(
    e: ExtentLine,
    start: number,
    readOnly: boolean,
    resolve?: ExtentResolver,
  ): OpenExtent {
    const size = e.sectors * C.SECTOR;
    if (e.type === 'ZERO') return { desc: e, kind: 'zero', start, size, base: 0 };
    if (!resolve) this.fail(e, 'no way to open extent files was given');
    let src: ByteSource;
    try {
      src = resolve(e.file!, !readOnly);
    } catch (err) {
      this.fail(e, (err as Error).message);
    }
    try {
      if (e.type === 'SPARSE') {
        let sparse: VmdkImage;
        try {
          sparse = new VmdkImage(src, { readOnly });
        } catch (err) {
          this.fail(e, (err as Error).message);
        }
        if (sparse.header.capacity !== e.sectors) {
          this.fail(
            e,
            `the extent line says ${e.sectors} sectors but the sparse ` +
              `extent holds ${sparse.header.capacity}: the sizes do not add up`,
          );
        }
        return { desc: e, kind: 'sparse', start, size, src, base: 0, sparse };
      }
      const base = (e.offset ?? 0) * C.SECTOR;
      if (base + size > src.size) {
        this.fail(
          e,
          `the flat extent needs ${base + size} bytes (offset ${e.offset ?? 0} + ` +
            `${e.sectors} sectors) but the file has ${src.size}: the sizes do not add up`,
        );
      }
      return { desc: e, kind: 'flat', start, size, src, base };
    } catch (err) {
      src.close();
      throw err;
    }
  }

  /** The extent holding byte `pos` (binary search: the extents are in disk order). */
  private at(pos: number): OpenExtent {
    let lo = 0,
      hi = this.extents.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.extents[mid].start <= pos) lo = mid;
      else hi = mid - 1;
    }
    return this.extents[lo];
  }

  /** Runs `fn` on each extent piece of [offset, offset + length). */
  private each(
    offset: number,
    length: number,
    fn: (x: OpenExtent, rel: number, n: number, done: number) => void,
  ): void {
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const x = this.at(pos);
      const rel = pos - x.start;
      const n = Math.min(x.size - rel, length - done);
      fn(x, rel, n, done);
      done += n;
    }
  }

  read(offset: number, dst: Uint8Array): void {
    checkRange(this, offset, dst.length);
    this.each(offset, dst.length, (x, rel, n, done) => {
      const out = dst.subarray(done, done + n);
      if (x.kind === 'zero') out.fill(0);
      else if (x.kind === 'sparse') x.sparse!.read(rel, out);
      else {
        const got = x.src!.read(x.base + rel, out);
        if (got < n) out.fill(0, got);
      }
    });
  }

  write(offset: number, data: Uint8Array): void {
    checkRange(this, offset, data.length);
    if (this.readOnly) throw new ImageError('vmdk: the image is open read-only');
    if (!this.cidRenewed) this.renewCid();
    this.each(offset, data.length, (x, rel, n, done) => {
      const piece = data.subarray(done, done + n);
      if (x.kind === 'zero') this.fail(x.desc, 'a ZERO extent has no file to write into');
      else if (x.kind === 'sparse') x.sparse!.write(rel, piece);
      else x.src!.write(x.base + rel, piece);
    });
  }

  /**
   * The content ID is a random 32-bit value renewed the first time the disk is written
   * after it is opened (VMDK 5.0, "The Descriptor File", CID); a child disk compares it
   * with its parentCID. QEMU does the same on the first write (vmdk_write_cid). The
   * descriptor's other lines and its line ends stay as they were.
   */
  private renewCid(): void {
    this.cidRenewed = true;
    if (!this.src.writable) return;
    const cid = globalThis.crypto.getRandomValues(new Uint32Array(1))[0];
    const lines = this.descriptor.lines.map((l) =>
      /^\s*CID\s*=/.test(l) ? `CID=${cid.toString(16)}` : l,
    );
    const bytes = new TextEncoder().encode(lines.join(this.crlf ? '\r\n' : '\n'));
    this.src.write(0, bytes);
    this.src.truncate(bytes.length);
    this.descriptor.fields.set('CID', cid.toString(16));
  }

  blockStatus(offset: number, length: number): BlockStatus {
    const x = this.at(offset);
    const rel = offset - x.start;
    const n = Math.min(length, x.size - rel);
    if (x.kind === 'sparse') return x.sparse!.blockStatus(rel, n);
    // A flat file is all data unless its source knows its holes (Node has no SEEK_DATA).
    if (x.kind === 'flat' && x.src!.holeStatus) return x.src!.holeStatus(x.base + rel, n);
    return { length: n, data: x.kind === 'flat' };
  }

  /**
   * Runs as in a single extent; `file` (beyond MapEntry)
   * names the extent file, for `img map`'s File column.
   */
  mapRange(offset: number, length: number): MapEntry & { file?: string } {
    const x = this.at(offset);
    const rel = offset - x.start;
    const n = Math.min(length, x.size - rel);
    if (x.kind === 'sparse') {
      const m = x.sparse!.mapRange(rel, n);
      return { ...m, start: offset, file: x.desc.file };
    }
    if (x.kind === 'zero')
      return { start: offset, length: n, depth: 0, present: true, zero: true, data: false };
    return {
      start: offset,
      length: n,
      depth: 0,
      present: true,
      zero: false,
      data: true,
      offset: x.base + rel,
      file: x.desc.file,
    };
  }

  /** The open extent files (for the space they take on disk). */
  extentSources(): ByteSource[] {
    return this.extents.flatMap((x) => (x.src ? [x.src] : []));
  }

  get createType(): string | undefined {
    return this.descriptor.fields.get('createType');
  }

  /**
   * qemu-img 7.2's info: the cluster size is the first
   * extent's grain, each extent listed with its type.
   */
  info(): ImageInfo {
    const d = this.descriptor;
    const cid = d.fields.get('CID');
    const pcid = d.fields.get('parentCID');
    const first = this.extents[0]?.sparse;
    return {
      format: 'vmdk',
      'virtual-size': this.size,
      'cluster-size': first ? first.grainBytes : undefined,
      'format-specific': {
        type: 'vmdk',
        data: {
          cid: cid !== undefined ? parseInt(cid, 16) : undefined,
          'parent-cid': pcid !== undefined ? parseInt(pcid, 16) : undefined,
          'create-type': this.createType,
          extents: this.extents.map((x) => ({
            compressed: x.sparse?.compressed ? true : undefined,
            'virtual-size': x.size,
            filename: x.desc.file,
            'cluster-size': x.sparse ? x.sparse.grainBytes : undefined,
            format: x.desc.type,
          })),
        },
      },
    };
  }

  flush(): void {
    for (const x of this.extents) x.src?.flush();
    this.src.flush();
  }

  close(): void {
    for (const x of this.extents) x.src?.close();
    this.src.close();
  }
}

export type ExtentSubformat = 'monolithicFlat' | 'twoGbMaxExtentSparse' | 'twoGbMaxExtentFlat';
export const EXTENT_SUBFORMATS: readonly string[] = [
  'monolithicFlat',
  'twoGbMaxExtentSparse',
  'twoGbMaxExtentFlat',
];

/**
 * The extent files qemu-img writes for a descriptor named `name` (its last folder-free
 * part): the name is cut at its last dot into prefix and extension, and the extents are
 * PREFIX-flat.EXT, PREFIX-s001.EXT... or PREFIX-f001.EXT..., 2 GiB each but the last.
 */
export function extentLayout(
  sub: ExtentSubformat,
  sectors: number,
  name: string,
): Array<{ sectors: number; type: 'SPARSE' | 'FLAT'; file: string }> {
  const dot = name.lastIndexOf('.');
  const prefix = dot >= 0 ? name.slice(0, dot) : name;
  const ext = dot >= 0 ? name.slice(dot) : '';
  // An empty disk has no extent (qemu-img writes no line and no file).
  if (sub === 'monolithicFlat')
    return sectors === 0 ? [] : [{ sectors, type: 'FLAT', file: `${prefix}-flat${ext}` }];
  const out: Array<{ sectors: number; type: 'SPARSE' | 'FLAT'; file: string }> = [];
  const flat = sub === 'twoGbMaxExtentFlat';
  for (let done = 0, i = 1; done < sectors; done += SPLIT_EXTENT_SECTORS, i++) {
    out.push({
      sectors: Math.min(SPLIT_EXTENT_SECTORS, sectors - done),
      type: flat ? 'FLAT' : 'SPARSE',
      file: `${prefix}-${flat ? 'f' : 's'}${String(i).padStart(3, '0')}${ext}`,
    });
  }
  return out;
}

export interface VmdkExtentsCreateOptions {
  subformat: ExtentSubformat;
  /** The descriptor's file name (no folder): extent names derive from it. */
  name: string;
  /** Creates an empty extent file next to the descriptor. */
  create: (file: string) => ByteSource;
  adapterType?: string;
  cid?: number;
}

/**
 * Writes a descriptor into `dst` and its empty extents through `o.create`, as qemu-img
 * create does: flat extents are sparse files of their full size, sparse extents are laid
 * out like monolithicSparse without the embedded descriptor. Returns the extent sources
 * by file name (still open).
 */
export function createVmdkExtents(
  dst: ByteSource,
  size: number,
  o: VmdkExtentsCreateOptions,
): Map<string, ByteSource> {
  const sectors = checkVmdkSize(size);
  const layout = extentLayout(o.subformat, sectors, o.name);
  for (const e of layout) {
    const problem = extentNameProblem(e.file);
    if (problem) throw new ImageError(`vmdk: extent file name "${e.file}": ${problem}`);
  }
  const files = new Map<string, ByteSource>();
  for (const e of layout) {
    const s = o.create(e.file);
    files.set(e.file, s);
    if (e.type === 'FLAT') s.truncate(e.sectors * C.SECTOR);
    else createMonolithicSparse(s, e.sectors * C.SECTOR, { embedDescriptor: false });
  }
  const text = buildDescriptor({
    createType: o.subformat,
    sectors,
    extents: layout,
    cid: o.cid,
    adapterType: o.adapterType,
  });
  dst.truncate(0);
  dst.write(0, new TextEncoder().encode(text));
  return files;
}
