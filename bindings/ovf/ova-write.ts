/**
 * Writes an OVA package (DSP0243 5.3): the descriptor first, then the manifest, then the
 * files in References order, as a ustar archive (tar-stream) with pax records for names
 * over 100 characters and for members over 8 GiB (whose ustar size field cannot hold
 * them; tar-stream also writes GNU base-256 sizes there). The manifest needs every
 * digest before the first file is written, so files are read twice: once to hash, once
 * to pack, both streaming.
 */
import tar from 'tar-stream';
import { OvfError } from './errors.js';
import { formatManifest, type DigestAlgorithm, type ManifestEntry } from './manifest.js';
import { nobleHasher, type HasherFactory } from './hash.js';
import { checkPackagePath } from './paths.js';

export interface OvaFileSource {
  /** Name inside the package (the File href). */
  name: string;
  size: number;
  /** Opens the file's bytes; called twice (hash, then pack). */
  open(): AsyncIterable<Uint8Array>;
}

export interface WriteOvaOptions {
  algorithm?: DigestAlgorithm;
  hasher?: HasherFactory;
  /** Modification time for every member (default: now). Fix it for reproducible packages. */
  mtime?: Date;
  /** Signs the manifest: returns the certificate file's text (DSP0243 5.2), `name.cert`. */
  sign?: (manifest: Uint8Array, manifestName: string) => string | Promise<string>;
}

/** Largest size the ustar header's 11 octal digits hold: 8 GiB - 1 (POSIX.1-1988 ustar). */
export const USTAR_MAX_SIZE = 0o77777777777;

/** Produces the package bytes. */
export async function* writeOva(
  descriptorName: string,
  descriptor: Uint8Array,
  files: readonly OvaFileSource[],
  opts: WriteOvaOptions = {},
): AsyncGenerator<Uint8Array> {
  const algorithm = opts.algorithm ?? 'SHA256';
  const hasherOf = opts.hasher ?? nobleHasher;
  const mtime = opts.mtime ?? new Date();
  const names = new Set<string>();
  for (const n of [descriptorName, ...files.map((f) => f.name)]) {
    const bad = checkPackagePath(n);
    if (bad) throw new OvfError('unsafe-path', `package member "${n}": ${bad}`);
    if (names.has(n.toLowerCase())) throw new OvfError('duplicate', `package member "${n}" twice`);
    names.add(n.toLowerCase());
  }
  if (!/\.ovf$/i.test(descriptorName))
    throw new OvfError(
      'invalid',
      `the descriptor's name "${descriptorName}" must end in .ovf (DSP0243 5.3)`,
    );

  // Pass 1: digests.
  const entries: ManifestEntry[] = [];
  const h0 = hasherOf(algorithm);
  h0.update(descriptor);
  entries.push({ algorithm, name: descriptorName, digest: h0.hex() });
  for (const f of files) {
    const h = hasherOf(algorithm);
    let n = 0;
    for await (const c of f.open()) { h.update(c); n += c.length; }
    if (n !== f.size)
      throw new OvfError('io', `"${f.name}" is ${n} bytes, not the ${f.size} announced`);
    entries.push({ algorithm, name: f.name, digest: h.hex() });
  }
  const manifestName = descriptorName.replace(/\.ovf$/i, '.mf');
  const manifest = new TextEncoder().encode(formatManifest(entries));

  // Pass 2: the archive.
  const bytes = (name: string, b: Uint8Array): OvaFileSource => ({
    name,
    size: b.length,
    open: async function* () {
      yield b;
    },
  });
  const members = [bytes(descriptorName, descriptor), bytes(manifestName, manifest)];
  // DSP0243 5.3: descriptor, manifest, certificate, then the files.
  if (opts.sign) {
    const cert = new TextEncoder().encode(await opts.sign(manifest, manifestName));
    members.push(bytes(descriptorName.replace(/\.ovf$/i, '.cert'), cert));
  }
  members.push(...files);
  yield* tarStream(members, mtime);
}

/** A tar archive of `members`, in that order, streamed (each member's bytes read once). */
export async function* tarStream(
  members: readonly OvaFileSource[],
  mtime: Date,
): AsyncGenerator<Uint8Array> {
  const pack = tar.pack();
  const producer = (async () => {
    for (const f of members)
      await writeEntry(pack, tarHeader(f.name, f.size, mtime), f.open(), f.size);
    pack.finalize();
  })();
  let failed: unknown;
  producer.catch((e) => {
    failed = e;
    pack.destroy(e as Error);
  });
  try {
    for await (const chunk of pack as AsyncIterable<Uint8Array>) yield chunk;
  } catch (e) {
    throw failed ?? e;
  }
  await producer;
  if (failed) throw failed;
}

/**
 * The tar header of a package member: a regular file, mode 0644; a pax `size` record
 * when the size does not fit the ustar field (POSIX.1-2001 pax "size" keyword).
 */
export function tarHeader(
  name: string,
  size: number,
  mtime: Date,
): Parameters<tar.Pack['entry']>[0] {
  const h: Parameters<tar.Pack['entry']>[0] = { name, size, mode: 0o644, mtime, type: 'file' };
  if (size > USTAR_MAX_SIZE) h.pax = { size: String(size) };
  return h;
}

async function writeEntry(
  pack: tar.Pack,
  header: Parameters<tar.Pack['entry']>[0],
  data: AsyncIterable<Uint8Array>,
  size: number,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    (async () => {
      let n = 0;
      for await (const c of data) {
        n += c.length;
        if (n > size)
          throw new OvfError(
            'io',
            `"${header.name}" grew beyond the ${size} bytes announced while it was packed`,
          );
        if (!sink.write(c)) await new Promise<void>((r) => sink.once('drain', () => r()));
      }
      if (n !== size)
        throw new OvfError('io', `"${header.name}" is ${n} bytes, not the ${size} announced`);
      sink.end(undefined);
    })().catch((e) => {
      sink.destroy(e as Error);
      reject(e);
    });
  });
}
