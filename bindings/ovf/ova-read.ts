/**
 * Reads an OVA package (DSP0243 1.1 section 5.3 / 2.1 section 5.3: a tar archive holding
 * the descriptor first, then the manifest and certificate, then the files in References
 * order). Streaming: members flow through to a sink (a folder on disk in Node, memory in
 * a page) while they are hashed, so multi-gigabyte disks never sit in memory. Other
 * member orders are tolerated (with a warning); links, devices, unsafe names, duplicate
 * names, missing files, checksum mismatches and decompression bombs are errors.
 *
 * Tar formats: ustar, pax (long names, sizes over 8 GiB) and GNU (long names, base-256
 * sizes), as tar-stream decodes them.
 */
import tar from 'tar-stream';
import type { Header as TarHeader } from 'tar-stream';
import { OvfError } from './errors.js';
import type { Envelope, FileRef } from './model.js';
import { findSection } from './model.js';
import { readOvf } from './reader.js';
import { MAX_DESCRIPTOR_BYTES } from './xml-parse.js';
import {
  MAX_MANIFEST_BYTES,
  parseManifest,
  type DigestAlgorithm,
  type ManifestEntry,
} from './manifest.js';
import { nobleHasher, type Hasher, type HasherFactory } from './hash.js';
import { hrefMemberName, normalizeMemberName, outsideMessage, resolveHref } from './paths.js';
import { GunzipLimited, MAX_EXPANDED_BYTES } from './gzip.js';
import { sizeInBytes, MAX_DISK_CAPACITY_BYTES } from './units.js';

/** Where package files go. */
export interface OvaSink {
  /** Opens the destination of one package file (its name is already checked as safe). */
  create(name: string): Promise<OvaSinkFile>;
}

export interface OvaSinkFile {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  /** Called instead of close() when reading fails half-way (release the file). */
  abort?(): Promise<void>;
}

export interface ReadOvaOptions {
  /** Receives the package files; without one, files are hashed and counted but not kept. */
  sink?: OvaSink;
  hasher?: HasherFactory;
  maxDescriptorBytes?: number;
  /** Ceiling for a gzip-compressed file's expanded size when no disk capacity bounds it. */
  maxExpandedBytes?: number;
  /** Name of the package, for messages. */
  packageName?: string;
  /** Most members accepted (default MAX_MEMBERS). */
  maxMembers?: number;
  /**
   * The member that is the descriptor when it is not named `*.ovf` (an unpacked package
   * whose descriptor was found by its content); the manifest is then `name.mf`.
   */
  descriptorMember?: string;
}

export interface OvaMemberInfo {
  name: string;
  /** Bytes in the package. */
  size: number;
  /** Bytes written to the sink (after gunzip, if compressed). */
  storedSize: number;
  compressed: boolean;
  /** The manifest's algorithm if the member was verified against it. */
  verified?: DigestAlgorithm;
}

export interface OvaReadResult {
  descriptorName: string;
  descriptor: Uint8Array;
  envelope: Envelope;
  manifest?: { name: string; text: string; entries: ManifestEntry[] };
  certificate?: { name: string; text: string };
  members: OvaMemberInfo[];
  /** Files whose href leaves the package: not read (an import refuses the package). */
  outside: { href: string; problem: string }[];
  warnings: string[];
}

const ALL_ALGORITHMS: DigestAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];
/**
 * Most members a package may have: 100,000 (a package holds a handful of files; a chunked
 * disk a few thousand chunks). Past it the archive is refused rather than tracked.
 */
export const MAX_MEMBERS = 100_000;

/** Largest certificate file accepted: 1 MiB (a PEM chain is a few KiB). */
const MAX_CERT_BYTES = 1024 * 1024;

type Entry = AsyncIterable<Uint8Array> & { header: TarHeader; resume(): void };

/** Reads a package from a stream of bytes. */
export async function readOva(
  source: AsyncIterable<Uint8Array>,
  opts: ReadOvaOptions = {},
): Promise<OvaReadResult> {
  const extract = tar.extract();
  let pumpError: unknown;
  const pump = (async () => {
    try {
      for await (const chunk of source) {
        if (extract.destroyed) return;
        if (!extract.write(chunk)) {
          await new Promise<void>((resolve) => {
            const done = () => {
              extract.off('drain', done);
              extract.off('close', done);
              resolve();
            };
            extract.on('drain', done);
            extract.on('close', done);
          });
        }
      }
      extract.end(undefined);
    } catch (e) {
      pumpError = e;
      extract.destroy(e as Error);
    }
  })();
  try {
    const r = await consume(extract as unknown as AsyncIterable<Entry>, opts);
    await pump;
    return r;
  } catch (e) {
    extract.destroy(new Error('aborted'));
    await pump;
    if (pumpError && !(e instanceof OvfError)) throw pumpError;
    if (e instanceof OvfError) throw e;
    throw new OvfError('tar', `not a readable tar archive: ${(e as Error).message}`, {
      file: opts.packageName,
    });
  }
}

async function readAll(entry: Entry, max: number, what: string, name: string): Promise<Uint8Array> {
  if (entry.header.size !== undefined && entry.header.size > max) {
    throw new OvfError(
      'too-large',
      `${what} is ${entry.header.size} bytes, beyond the limit of ${max} bytes`,
      { file: name },
    );
  }
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of entry) {
    n += c.length;
    if (n > max)
      throw new OvfError('too-large', `${what} is beyond the limit of ${max} bytes`, {
        file: name,
      });
    parts.push(c);
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

async function consume(
  entries: AsyncIterable<Entry>,
  opts: ReadOvaOptions,
): Promise<OvaReadResult> {
  const state: { open?: { out?: OvaSinkFile } } = {};
  try {
    return await consumeEntries(entries, opts, state);
  } catch (e) {
    await state.open?.out?.abort?.().catch(() => undefined);
    throw e;
  }
}

async function consumeEntries(
  entries: AsyncIterable<Entry>,
  opts: ReadOvaOptions,
  state: { open?: { out?: OvaSinkFile } },
): Promise<OvaReadResult> {
  const hasherOf = opts.hasher ?? nobleHasher;
  const warnings: string[] = [];
  const seen = new Set<string>();
  const order: string[] = [];
  const members: OvaMemberInfo[] = [];
  const digests = new Map<string, Map<DigestAlgorithm, string>>();
  let descriptorName: string | undefined;
  let descriptor: Uint8Array | undefined;
  let envelope: Envelope | undefined;
  let manifest: OvaReadResult['manifest'];
  let certificate: OvaReadResult['certificate'];

  const wantedAlgorithms = (): DigestAlgorithm[] =>
    manifest ? [...new Set(manifest.entries.map((e) => e.algorithm))] : ALL_ALGORITHMS;
  const hashBytes = (name: string, bytes: Uint8Array) => {
    const m = new Map<DigestAlgorithm, string>();
    for (const a of ALL_ALGORITHMS) {
      const h = hasherOf(a);
      h.update(bytes);
      m.set(a, h.hex());
    }
    digests.set(name, m);
  };

  /** A package file being written (several tar members when it is chunked). */
  interface OpenFile {
    ref?: FileRef;
    name: string;
    out?: OvaSinkFile;
    gunzip?: GunzipLimited;
    hashers: Map<DigestAlgorithm, Hasher>;
    size: number;
    stored: number;
    nextChunk: number;
    lastChunkSize?: number;
  }
  let openFile: OpenFile | undefined;
  const setOpen = (f: OpenFile | undefined) => {
    openFile = f;
    state.open = f;
  };
  const chunkNames = new Map<string, string>();
  const earlyMembers: string[] = [];
  const start = async (ref: FileRef | undefined, name: string): Promise<OpenFile> => {
    const f: OpenFile = {
      ref,
      name,
      gunzip:
        ref?.compression === 'gzip'
          ? new GunzipLimited(expandLimit(envelope!, ref.id, opts), name)
          : undefined,
      hashers: new Map<DigestAlgorithm, Hasher>(wantedAlgorithms().map((a) => [a, hasherOf(a)])),
      size: 0,
      stored: 0,
      nextChunk: 0,
    };
    setOpen(f);
    if (opts.sink) f.out = await opts.sink.create(name);
    return f;
  };
  const feed = async (f: OpenFile, chunk: Uint8Array) => {
    f.size += chunk.length;
    for (const hs of f.hashers.values()) hs.update(chunk);
    for (const c of f.gunzip ? f.gunzip.push(chunk) : [chunk]) {
      f.stored += c.length;
      if (f.out) await f.out.write(c);
    }
  };
  const finish = async (f: OpenFile) => {
    if (f.gunzip)
      for (const c of f.gunzip.finish()) {
        f.stored += c.length;
        if (f.out) await f.out.write(c);
      }
    if (f.out) await f.out.close();
    setOpen(undefined);
    digests.set(f.name, new Map([...f.hashers].map(([a, hs]) => [a, hs.hex()])));
    if (f.ref?.size !== undefined && f.ref.size.trim() !== String(f.size)) {
      warnings.push(`"${f.name}" is ${f.size} bytes in the package; References says ${f.ref.size}`);
    }
    members.push({
      name: f.name,
      size: f.size,
      storedSize: f.stored,
      compressed: Boolean(f.gunzip),
    });
  };

  let count = 0;
  for await (const entry of entries) {
    const maxMembers = opts.maxMembers ?? MAX_MEMBERS;
    if (++count > maxMembers)
      throw new OvfError('too-large', `more than ${maxMembers} members`, {
        file: opts.packageName,
      });
    const h = entry.header;
    const { name, problem } = normalizeMemberName(h.name);
    if (problem)
      throw new OvfError('unsafe-path', `member "${h.name}": ${problem}`, {
        file: opts.packageName,
      });
    if (h.type === 'directory') {
      entry.resume();
      continue;
    }
    if (h.type !== 'file' && h.type !== 'contiguous-file') {
      const what =
        h.type === 'symlink' || h.type === 'link'
          ? `a ${h.type} to "${h.linkname ?? ''}"`
          : `a ${h.type}`;
      throw new OvfError(
        'unsafe-path',
        `member "${name}" is ${what}; a package holds only regular files`,
        { file: opts.packageName },
      );
    }
    const key = name.toLowerCase();
    if (seen.has(key))
      throw new OvfError('duplicate', `member "${name}" appears twice in the package`, {
        file: opts.packageName,
      });
    seen.add(key);
    order.push(name);
    const top = !name.includes('/');

    const isDescriptor = opts.descriptorMember !== undefined
      ? name === opts.descriptorMember
      : /\.ovf$/i.test(name);
    if (top && isDescriptor && !descriptorName) {
      descriptorName = name;
      descriptor = await readAll(
        entry,
        opts.maxDescriptorBytes ?? MAX_DESCRIPTOR_BYTES,
        'the descriptor',
        name,
      );
      hashBytes(name, descriptor);
      envelope = readOvf(descriptor, { file: name, maxBytes: opts.maxDescriptorBytes });
      // Files that came before the descriptor were stored as they are: fine, unless the
      // descriptor says they are compressed or chunked (they cannot be undone now).
      for (const early of earlyMembers) {
        const base = /^(.+)\.\d{9}$/.exec(early)?.[1];
        const r = envelope.references.find(
          (f) =>
            hrefMemberName(f.href) === early ||
            (f.chunkSize !== undefined && hrefMemberName(f.href) === base),
        );
        if (!r)
          warnings.push(`member "${early}" (before the descriptor) is not listed in References`);
        else if (r.compression === 'gzip' || r.chunkSize !== undefined) {
          throw new OvfError(
            'invalid',
            `"${early}" is ${r.compression === 'gzip' ? 'gzip-compressed' : 'chunked'} ` +
              'but comes before the descriptor; it cannot be ' +
              'expanded (DSP0243 5.3 puts the descriptor first)',
            { file: opts.packageName },
          );
        }
      }
      continue;
    }
    if (top && /\.mf$/i.test(name) && !manifest) {
      const bytes = await readAll(entry, MAX_MANIFEST_BYTES, 'the manifest', name);
      const text = new TextDecoder().decode(bytes);
      manifest = { name, text, entries: parseManifest(text, name) };
      continue;
    }
    if (top && /\.cert$/i.test(name) && !certificate) {
      const bytes = await readAll(entry, MAX_CERT_BYTES, 'the certificate', name);
      certificate = { name, text: new TextDecoder().decode(bytes) };
      continue;
    }
    if (top && isDescriptor)
      throw new OvfError('duplicate', `a second descriptor "${name}" (after "${descriptorName}")`, {
        file: opts.packageName,
      });

    // A chunk of a file split with ovf:chunkSize (DSP0243 7.1): `href.000000000`...
    const chunkMatch = envelope ? /^(.+)\.(\d{9})$/.exec(name) : null;
    const chunkRef = chunkMatch
      ? envelope!.references.find(
          (f) => f.chunkSize !== undefined && hrefMemberName(f.href) === chunkMatch[1],
        )
      : undefined;
    let open = openFile;
    if (open && !(chunkRef && open.ref === chunkRef)) {
      await finish(open);
      open = undefined;
    }
    if (chunkRef) {
      const index = Number(chunkMatch![2]);
      const chunkSize = Number(chunkRef.chunkSize);
      if (!(chunkSize > 0))
        throw new OvfError(
          'invalid',
          `ovf:chunkSize "${chunkRef.chunkSize}" of "${chunkRef.href}" is not a positive size`,
          { file: descriptorName },
        );
      if (!open) {
        if (index !== 0)
          throw new OvfError(
            'missing-file',
            `chunk "${name}" comes before chunk 000000000 of "${chunkRef.href}"`,
            { file: opts.packageName },
          );
        open = await start(chunkRef, hrefMemberName(chunkRef.href));
      } else if (index !== open.nextChunk) {
        throw new OvfError(
          'missing-file',
          `chunk "${name}" follows chunk ${open.nextChunk - 1} of ` +
            `"${chunkRef.href}"; chunks must be complete and in order`,
          { file: opts.packageName },
        );
      } else if (open.lastChunkSize !== chunkSize) {
        throw new OvfError(
          'invalid',
          `a chunk of "${chunkRef.href}" other than the last is ` +
            `${open.lastChunkSize} bytes, not ovf:chunkSize ${chunkSize}`,
          { file: opts.packageName },
        );
      }
      open.nextChunk = index + 1;
      const chunkHashers = new Map<DigestAlgorithm, Hasher>(
        wantedAlgorithms().map((a) => [a, hasherOf(a)]),
      );
      let n = 0;
      for await (const c of entry) {
        n += c.length;
        if (n > chunkSize)
          throw new OvfError(
            'invalid',
            `chunk "${name}" is larger than ovf:chunkSize ${chunkSize}`,
            { file: opts.packageName },
          );
        for (const hs of chunkHashers.values()) hs.update(c);
        await feed(open, c);
      }
      open.lastChunkSize = n;
      digests.set(name, new Map([...chunkHashers].map(([a, hs]) => [a, hs.hex()])));
      chunkNames.set(name, open.name);
      continue;
    }

    const ref = envelope?.references.find(
      (f) => f.href === name || hrefMemberName(f.href) === name,
    );
    if (envelope && !ref) {
      if (warnings.length < 100)
        warnings.push(`member "${name}" is not listed in References; skipped`);
      for await (const _ of entry) {
        /* drain */
      }
      continue;
    }
    if (ref?.chunkSize !== undefined) {
      throw new OvfError(
        'invalid',
        `"${name}" should be split in chunks (ovf:chunkSize) named "${name}.000000000"...`,
        { file: opts.packageName },
      );
    }
    if (!envelope) earlyMembers.push(name);
    const f = await start(ref, name);
    for await (const c of entry) await feed(f, c);
    await finish(f);
  }
  if (openFile) await finish(openFile);

  if (!descriptorName || !descriptor || !envelope) {
    throw new OvfError(
      'missing-file',
      'the package has no OVF descriptor (a top-level .ovf member)',
      { file: opts.packageName },
    );
  }

  // Every referenced file (other than external URLs) must be in the package.
  const present = new Set(members.map((m) => m.name));
  const outside: { href: string; problem: string }[] = [];
  for (const f of envelope.references) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(f.href)) {
      warnings.push(`file "${f.href}" is an external URL; not fetched`);
      continue;
    }
    const n = resolveHref(f.href);
    if (n.kind !== 'member') {
      // Reading it is what is refused (import); inspecting and validating the package
      // report it (DSP0243 7.1 hrefs are URLs: a shared disk may sit beside the package).
      if (opts.sink)
        throw new OvfError('unsafe-path', outsideMessage(f.href, n), { file: descriptorName });
      outside.push({ href: f.href, problem: n.kind === 'outside' ? n.problem : 'external' });
      continue;
    }
    if (!present.has(n.name))
      throw new OvfError(
        'missing-file',
        `"${f.href}" (File ${f.id}) is referenced but not in the package`,
        { file: opts.packageName },
      );
  }

  // Manifest check (DSP0243 5.1): every listed file exists and matches.
  if (manifest) {
    for (const e of manifest.entries) {
      const d = digests.get(e.name);
      if (!d)
        throw new OvfError(
          'missing-file',
          `the manifest lists "${e.name}", which is not in the package`,
          { file: manifest.name },
        );
      const actual = d.get(e.algorithm);
      if (actual !== e.digest) {
        throw new OvfError(
          'checksum',
          `${e.algorithm} of "${e.name}" is ${actual}, the manifest says ${e.digest}`,
          { file: manifest.name },
        );
      }
      const m = members.find((x) => x.name === (chunkNames.get(e.name) ?? e.name));
      if (m) m.verified = e.algorithm;
    }
    const listed = new Set(manifest.entries.map((e) => chunkNames.get(e.name) ?? e.name));
    for (const n of [descriptorName, ...members.map((m) => m.name)]) {
      if (!listed.has(n)) warnings.push(`"${n}" is not covered by the manifest`);
    }
  } else {
    warnings.push('the package has no manifest; nothing was verified');
  }

  checkOrder(
    order.map((n) => chunkNames.get(n) ?? n).filter((n, i, a) => a.indexOf(n) === i),
    descriptorName,
    manifest?.name,
    certificate?.name,
    envelope,
    warnings,
  );
  return {
    descriptorName, descriptor, envelope, manifest, certificate, members, warnings, outside,
  };
}

/**
 * The expanded-size ceiling of a compressed file: its
 * disk's capacity (plus image metadata), else the default.
 */
function expandLimit(env: Envelope, fileId: string, opts: ReadOvaOptions): number {
  const max = opts.maxExpandedBytes ?? MAX_EXPANDED_BYTES;
  const disk = findSection(env.sections, 'DiskSection')?.disks.find((d) => d.fileRef === fileId);
  if (!disk) return max;
  try {
    const cap = sizeInBytes(
      disk.capacity,
      disk.capacityAllocationUnits,
      'capacity',
      MAX_DISK_CAPACITY_BYTES,
      {},
    );
    // An image holds at most its capacity plus metadata (tables, headers): 1/8 + 1 MiB is generous.
    return Math.min(max, cap + Math.ceil(cap / 8) + 2 ** 20);
  } catch {
    return max;
  }
}

/**
 * DSP0243 5.3: descriptor first, then manifest, then certificate, then files in References order.
 */
function checkOrder(
  order: string[],
  desc: string,
  mf: string | undefined,
  cert: string | undefined,
  env: Envelope,
  warnings: string[],
): void {
  if (order[0] !== desc)
    warnings.push(`the descriptor "${desc}" is not the first member (DSP0243 5.3)`);
  if (mf && order.indexOf(mf) !== order.indexOf(desc) + 1)
    warnings.push(`the manifest "${mf}" does not follow the descriptor (DSP0243 5.3)`);
  if (cert && order.indexOf(cert) !== order.indexOf(mf ?? desc) + 1)
    warnings.push(
      `the certificate "${cert}" does not follow the ` +
        `${mf ? 'manifest' : 'descriptor'} (DSP0243 5.3)`,
    );
  const refs = env.references.map((f) => hrefMemberName(f.href));
  const files = order.filter((n) => refs.includes(n));
  if (files.some((n, k) => refs.indexOf(n) < (k ? refs.indexOf(files[k - 1]) : -1))) {
    warnings.push('the files are not in References order (DSP0243 5.3)');
  }
}
