/**
 * Node-only file access for OVF/OVA: reading descriptors and packages from disk,
 * importing a package into a folder (exporting is in export.ts).
 * Every write goes to a temporary name beside the target and is renamed into place at
 * the end, so a failure (bad checksum, bomb, full disk) leaves nothing half-written.
 */
import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import {
  lstat, mkdir, open, readFile, readdir, rename, rm, rmdir, stat, writeFile,
} from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { OvfError } from '../errors.js';
import type { Envelope } from '../model.js';
import { virtualSystems } from '../model.js';
import {
  assignProperties, environmentXml, propertyValues, transports,
} from '../environment.js';
import { iso9660 } from '../iso9660.js';
import { verifyCertificateFile, type SignatureReport } from './signature.js';
import { readOvf } from '../reader.js';
import { MAX_DESCRIPTOR_BYTES } from '../xml-parse.js';
import { parseManifest, type ManifestEntry } from '../manifest.js';
import { readOva, type OvaReadResult, type OvaSink } from '../ova-read.js';
import { tarStream, type OvaFileSource } from '../ova-write.js';
import { toVmConfig, type ToConfigOptions, type ToConfigResult } from '../to-config.js';
import { checkPackagePath, outsideMessage, resolveHref } from '../paths.js';
import { validateOvf } from '../validate.js';
import { nodeHasher } from './hash-node.js';
import { validateVmConfig } from '../../config/validate.js';
import type { VmConfig } from '../../config/types.js';
import { openImageFile, UnsafeBackingError } from '../../disk/node.js';
import { FileSource, fsReason } from '../../disk/node-file.js';
import { convertImage, createImage } from '../../disk/convert.js';

/** Chunks of a file, streamed. */
export async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) yield c as Uint8Array;
}

/** Progress of a phase of long work (`done` of `total` bytes), for a meter on a terminal. */
export type ProgressFn = (phase: string, done: number, total: number) => void;

/** Passes `chunks` through, telling `progress` how many bytes have gone by. */
export async function* counted(
  chunks: AsyncIterable<Uint8Array>,
  phase: string,
  total: number,
  progress: ProgressFn,
  start = { n: 0 },
): AsyncGenerator<Uint8Array> {
  for await (const c of chunks) {
    start.n += c.length;
    progress(phase, start.n, total);
    yield c;
  }
}

export function ioError(e: unknown, file: string): OvfError {
  if (e instanceof OvfError) return e;
  const err = e as NodeJS.ErrnoException;
  const why = err.code === 'ENOENT' ? 'no such file'
    : err.code === 'EISDIR' ? 'is a directory'
    : fsReason(e);
  return new OvfError('io', why, { file });
}

/** Stats a file the user named, refusing a folder with a message that names it. */
async function statFile(path: string): Promise<Stats> {
  let st: Stats;
  try {
    st = await stat(path);
  } catch (e) {
    throw ioError(e, path);
  }
  if (st.isDirectory()) throw new OvfError('io', 'is a directory, not a file', { file: path });
  return st;
}

/** Reads and parses a descriptor file, refusing oversized ones before reading them. */
export async function readOvfFile(
  path: string,
  maxBytes = MAX_DESCRIPTOR_BYTES,
): Promise<{ envelope: Envelope; bytes: Uint8Array }> {
  const { size } = await statFile(path);
  if (size > maxBytes)
    throw new OvfError(
      'too-large',
      `the descriptor is ${size} bytes, beyond the limit of ${maxBytes} bytes`,
      { file: path },
    );
  const bytes = new Uint8Array(await readFile(path));
  return { envelope: readOvf(bytes, { file: path, maxBytes }), bytes };
}

/** What checking an unpacked `.ovf` with its files beside it finds. */
export interface OvfDirCheck {
  missing: string[];
  /** Files whose href leaves the package: never read (DSP0243 7.1 hrefs are relative URLs). */
  outside: { href: string; problem: string }[];
  manifest?: { name: string; entries: ManifestEntry[]; verified: string[] };
  certificate?: string;
  /** The certificate's signature over the manifest, checked (DSP0243 5.2). */
  signature?: SignatureReport;
}

/**
 * The sibling of a descriptor with another extension: `name.ovf` gives `name.mf`; a
 * descriptor named otherwise (`name.xml`, `name`) gives `name.xml.mf`... never the
 * descriptor itself.
 */
export function siblingName(ovfPath: string, ext: '.mf' | '.cert'): string {
  return /\.ovf$/i.test(ovfPath) ? ovfPath.replace(/\.ovf$/i, ext) : ovfPath + ext;
}

/**
 * Checks the files an `.ovf` references (beside it) and verifies its sibling manifest
 * (`name.mf`) if there is one. An href that leaves the package is listed in `outside`
 * and not opened; a checksum mismatch throws.
 */
export async function checkOvfDirectory(ovfPath: string, env: Envelope): Promise<OvfDirCheck> {
  const dir = dirname(ovfPath);
  const out: OvfDirCheck = { missing: [], outside: [] };
  for (const f of env.references) {
    const t = resolveHref(f.href);
    if (t.kind === 'external') continue;
    if (t.kind === 'outside') {
      out.outside.push({ href: f.href, problem: t.problem });
      continue;
    }
    try {
      await stat(join(dir, t.name));
    } catch {
      out.missing.push(f.href);
    }
  }
  const mfPath = siblingName(ovfPath, '.mf');
  let mfText: string | undefined;
  try {
    mfText = await readFile(mfPath, 'utf8');
  } catch {
    /* no manifest */
  }
  if (mfText !== undefined) {
    const entries = parseManifest(mfText, basename(mfPath));
    const verified: string[] = [];
    for (const e of entries) {
      const bad = checkPackagePath(e.name);
      if (bad) throw new OvfError('unsafe-path', `"${e.name}": ${bad}`, { file: basename(mfPath) });
      const p = join(dir, e.name);
      const h = nodeHasher(e.algorithm);
      try {
        for await (const c of fileChunks(p)) h.update(c);
      } catch {
        throw new OvfError(
          'missing-file',
          `the manifest lists "${e.name}", which is not beside it`,
          { file: basename(mfPath) },
        );
      }
      const got = h.hex();
      if (got !== e.digest)
        throw new OvfError(
          'checksum',
          `${e.algorithm} of "${e.name}" is ${got}, the manifest says ${e.digest}`,
          { file: basename(mfPath) },
        );
      verified.push(e.name);
    }
    out.manifest = { name: basename(mfPath), entries, verified };
  }
  let certText: string | undefined;
  try {
    certText = await readFile(siblingName(ovfPath, '.cert'), 'utf8');
    out.certificate = basename(siblingName(ovfPath, '.cert'));
  } catch {
    /* none */
  }
  if (certText !== undefined && mfText !== undefined)
    out.signature = verifyCertificateFile(certText, new TextEncoder().encode(mfText),
      basename(mfPath), out.certificate!);
  return out;
}

/** The signature report of a package's certificate, if it has one and a manifest. */
export function packageSignature(pkg: OvaReadResult): SignatureReport | undefined {
  if (!pkg.certificate || !pkg.manifest) return undefined;
  return verifyCertificateFile(pkg.certificate.text, new TextEncoder().encode(pkg.manifest.text),
    pkg.manifest.name, pkg.certificate.name);
}

/**
 * An unpacked package (`name.ovf` with its manifest, certificate and files beside it)
 * as a tar stream in DSP0243 order, so that importing it goes through exactly the checks
 * an OVA gets. Chunked files contribute their `href.000000000`... pieces that exist.
 */
async function directoryAsTar(
  ovfPath: string, env: Envelope,
): Promise<{ size: number; stream: AsyncGenerator<Uint8Array> }> {
  const dir = dirname(resolve(ovfPath));
  const members: OvaFileSource[] = [];
  const add = async (name: string): Promise<boolean> => {
    const bad = checkPackagePath(name);
    if (bad) throw new OvfError('unsafe-path', `"${name}": ${bad}`, { file: basename(ovfPath) });
    try {
      // lstat: a symbolic link in an unpacked folder could point at any file of the host,
      // which would then be copied in as the package's file (an OVA may not hold links).
      const st = await lstat(join(dir, name));
      if (st.isSymbolicLink()) {
        const why = `"${name}" is a symbolic link; a package holds only regular files`;
        throw new OvfError('unsafe-path', why, { file: basename(ovfPath) });
      }
      if (!st.isFile())
        throw new OvfError('unsafe-path', `"${name}" is not a regular file`, {
          file: basename(ovfPath),
        });
      members.push({ name, size: st.size, open: () => fileChunks(join(dir, name)) });
      return true;
    } catch (e) {
      if (e instanceof OvfError) throw e;
      return false;
    }
  };
  await add(basename(ovfPath));
  await add(basename(siblingName(ovfPath, '.mf')));
  await add(basename(siblingName(ovfPath, '.cert')));
  for (const f of env.references) {
    const t = resolveHref(f.href);
    if (t.kind === 'external') continue;
    if (t.kind === 'outside')
      throw new OvfError('unsafe-path', outsideMessage(f.href, t), { file: basename(ovfPath) });
    if (f.chunkSize === undefined) await add(t.name);
    else
      for (let i = 0; await add(`${t.name}.${String(i).padStart(9, '0')}`); i++) {
        /* every chunk there is */
      }
  }
  // A header block and the data padded to whole blocks per member, two zero blocks at the
  // end (POSIX.1 ustar); long names add pax blocks, so this is a floor, for the meter.
  const size = members.reduce((n, m) => n + 512 + Math.ceil(m.size / 512) * 512, 1024);
  return { size, stream: tarStream(members, new Date(0)) };
}

/**
 * What a file is, by its content rather than its name: an OVA is a POSIX tar (DSP0243
 * 5.3; "ustar" at offset 257 of the first header, POSIX.1-1988); anything else is read
 * as a descriptor (XML), unless it is named .ova (an old v7 tar, or a damaged package,
 * which the tar reader then judges).
 */
export async function packageKind(path: string): Promise<'ova' | 'ovf'> {
  await statFile(path);
  let head: Uint8Array;
  try {
    const fh = await open(path, 'r');
    try {
      const buf = new Uint8Array(1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw ioError(e, path);
  }
  const ascii = (a: number, b: number) => String.fromCharCode(...head.subarray(a, b));
  if (head.length >= 262 && ascii(257, 262) === 'ustar') return 'ova';
  if (/\.ova$/i.test(path)) return 'ova';
  // Anything else is read as a descriptor: the XML parser says what is wrong with it.
  return 'ovf';
}

/** Reads (and verifies) a package without keeping its files. */
export async function inspectOvaFile(path: string): Promise<OvaReadResult> {
  await statFile(path);
  return readOva(fileChunks(path), { hasher: nodeHasher, packageName: path });
}

/** A sink that writes package files under `root`, refusing any path that would leave it. */
export function folderSink(root: string): OvaSink {
  const rootAbs = resolve(root);
  return {
    async create(name) {
      const target = resolve(rootAbs, name);
      if (!target.startsWith(rootAbs + sep))
        throw new OvfError('unsafe-path', `"${name}" would be written outside the target folder`);
      await mkdir(dirname(target), { recursive: true });
      // 'wx': never follow or overwrite anything already there.
      const stream = createWriteStream(target, { flags: 'wx' });
      await new Promise<void>((res, rej) => {
        stream.once('open', () => res());
        stream.once('error', rej);
      });
      return {
        write: (chunk) => new Promise<void>((res, rej) => {
          stream.write(chunk, (err) => (err ? rej(err) : res()));
        }),
        close: () => new Promise<void>((res, rej) => {
          stream.end((err?: Error | null) => (err ? rej(err) : res()));
        }),
        abort: () => new Promise<void>((res) => {
          if (stream.closed) return res();
          stream.once('close', () => res());
          stream.destroy();
        }),
      };
    },
  };
}

export interface ImportResult extends ToConfigResult {
  dir: string;
  configPath: string;
  package: OvaReadResult;
  /** The OVF environment written for the guest, if the appliance has properties. */
  environment?: ImportedEnvironment;
}

export interface ImportedEnvironment {
  /** `ovf-env.xml` beside vm.json (DSP0243 11.1). */
  xml: string;
  /** `ovf-env.iso`, attached to the VM (DSP0243 11.2 "iso" transport), if it is. */
  iso?: string;
  /** The guestinfo variable that carries it ("ovfEnv"), with the guestinfo transport. */
  guestinfo?: string;
  properties: { key: string; value: string; assigned: boolean }[];
}

/** Names of the environment files an import writes beside vm.json. */
export const ENVIRONMENT_XML = 'ovf-env.xml';
export const ENVIRONMENT_ISO = 'ovf-env.iso';
/** VMware's name of the guestinfo transport in ovf:transport (ovftool, vSphere). */
export const GUESTINFO_TRANSPORT = 'com.vmware.guestInfo';
/**
 * How the OVF environment reaches the guest: `iso` (DSP0243 11.2, an ISO 9660 image) or
 * `guestinfo` (VMware's `com.vmware.guestInfo`: the guestinfo.ovfEnv variable on the
 * backdoor port, vm.json `guestinfo`).
 */
export type EnvironmentTransport = 'iso' | 'guestinfo';

/**
 * Delivers the appliance's ProductSection property values to the guest (DSP0243 11):
 * `ovf-env.xml` beside vm.json always, and, when the VirtualHardwareSection lists the
 * "iso" transport or the deployer set values, `ovf-env.iso`: an ISO 9660 image whose root
 * holds OVF_ENV.XML (the name cloud-init's OVF data source and VMware guests look for,
 * read as "ovf_env.xml" by Linux without Rock Ridge). DSP0243 11.2 attaches it as a
 * CD-ROM; wasmvisor does not emulate ATAPI yet, so it is attached as a read-only IDE disk
 * on the first free slot, which a guest mounts the same way (`mount -t iso9660 /dev/sdX`).
 */
async function writeEnvironment(
  dir: string, env: Envelope, mapped: ToConfigResult, assignments: Record<string, string>,
  transport?: readonly EnvironmentTransport[],
): Promise<ImportedEnvironment | undefined> {
  const vs = virtualSystems(env.content).find((v) => v.id === mapped.virtualSystem);
  if (!vs) return undefined;
  const values = propertyValues(vs, mapped.configuration);
  assignProperties(values, assignments);
  if (values.length === 0) return undefined;
  const xml = environmentXml(vs.id, values);
  await writeFile(join(dir, ENVIRONMENT_XML), xml, { flag: 'wx' });
  const out: ImportedEnvironment = {
    xml: ENVIRONMENT_XML,
    properties: values.map((v) => ({ key: v.key, value: v.value, assigned: v.assigned === true })),
  };
  // DSP0243 11.2 ovf:transport: "iso", and VMware's "com.vmware.guestInfo" (ovftool).
  const listed = transports(env, vs.id);
  const chosen = transport ?? [
    ...(listed.includes('iso') ? ['iso' as const] : []),
    ...(listed.includes(GUESTINFO_TRANSPORT) ? ['guestinfo' as const] : []),
  ];
  if (chosen.includes('guestinfo')) {
    mapped.config.guestinfo = { ...mapped.config.guestinfo, ovfEnv: { file: ENVIRONMENT_XML } };
    out.guestinfo = 'ovfEnv';
    mapped.notes.push({
      kind: 'mapped', subject: 'OVF environment',
      message: `${values.length} propert${values.length === 1 ? 'y' : 'ies'} as ` +
        `guestinfo.ovfEnv (${ENVIRONMENT_XML}) on VMware's backdoor port, read in the guest ` +
        'by `vmware-rpctool "info-get guestinfo.ovfEnv"` ("com.vmware.guestInfo" transport)',
    });
  }
  const wantsIso = chosen.includes('iso') ||
    (transport === undefined && chosen.length === 0 && Object.keys(assignments).length > 0);
  if (!wantsIso) {
    if (chosen.length === 0) {
      mapped.notes.push({
        kind: 'adjusted', subject: 'OVF environment',
        message: 'the descriptor lists no transport (ovf:transport "iso" or ' +
          `"${GUESTINFO_TRANSPORT}"); ${ENVIRONMENT_XML} is written beside vm.json but not ` +
          'attached (--transport iso|guestinfo attaches it)',
      });
    }
    return out;
  }
  const used = new Set(mapped.config.disks.map((d) =>
    d.controller.type === 'ide' ? `${d.controller.channel}:${d.controller.unit}` : ''));
  const slot = ([[0, 0], [0, 1], [1, 0], [1, 1]] as const).find(([c, u]) => !used.has(`${c}:${u}`));
  if (!slot) {
    mapped.notes.push({
      kind: 'unsupported', subject: 'OVF environment',
      message: `no free IDE slot for ${ENVIRONMENT_ISO}; ${ENVIRONMENT_XML} is beside vm.json`,
    });
    return out;
  }
  const iso = iso9660([{ name: 'OVF_ENV.XML', data: new TextEncoder().encode(xml) }], 'OVF_ENV');
  await writeFile(join(dir, ENVIRONMENT_ISO), iso, { flag: 'wx' });
  mapped.config.disks.push({
    controller: { type: 'ide', channel: slot[0], unit: slot[1] },
    media: 'disk', path: ENVIRONMENT_ISO, format: 'raw', readOnly: true,
    capacityBytes: iso.length,
  });
  mapped.notes.push({
    kind: 'mapped', subject: 'OVF environment',
    message: `${values.length} propert${values.length === 1 ? 'y' : 'ies'} in ` +
      `${ENVIRONMENT_ISO} (ISO 9660, OVF_ENV.XML), read-only on IDE channel ${slot[0]} ` +
      `unit ${slot[1]} (DSP0243 11.2 "iso" transport, as a disk until CD-ROMs are emulated)`,
  });
  out.iso = ENVIRONMENT_ISO;
  return out;
}

/** The configuration file an import writes. */
export const IMPORTED_CONFIG_NAME = 'vm.json';

/**
 * Imports a package into `dir` (which must not exist, or be empty): its files, the
 * descriptor and manifest as they were, and `vm.json`, the VM configuration. Everything
 * is written into a temporary folder beside `dir` and renamed at the end. `ovaPath` may
 * also be an `.ovf` with its files beside it; it gets the same checks.
 */
export interface ImportOptions extends ToConfigOptions {
  /**
   * Keep streamOptimized VMDKs as they are (read-only
   * for the guest) instead of converting them to qcow2.
   */
  keepStreamOptimized?: boolean;
  /** Told how far reading the package and converting its disks have got. */
  progress?: ProgressFn;
  /** ProductSection property values to set (`key` or `class.key.instance` to value). */
  properties?: Record<string, string>;
  /**
   * The OVF environment's transports (ovftool: the descriptor's ovf:transport); absent:
   * those the descriptor lists, or `iso` when it lists none and values were given.
   */
  transport?: EnvironmentTransport[];
}

export async function importOva(
  ovaPath: string,
  dir: string,
  opts: ImportOptions = {},
): Promise<ImportResult> {
  const target = resolve(dir);
  const packageSize = (await statFile(ovaPath)).size;
  let targetExists = false;
  try {
    const entries = await readdir(target);
    if (entries.length)
      throw new OvfError('io', 'the target folder exists and is not empty', { file: dir });
    targetExists = true;
  } catch (e) {
    if (e instanceof OvfError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(e, dir);
  }
  const tmp = join(
    dirname(target),
    `.${basename(target)}.import-${randomBytes(6).toString('hex')}`,
  );
  try {
    await mkdir(tmp, { recursive: false });
  } catch (e) {
    throw new OvfError(
      'io',
      (e as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'the folder it would go in does not exist'
        : (e as Error).message,
      { file: dir },
    );
  }
  try {
    const kind = await packageKind(ovaPath);
    const { size, stream } = kind === 'ovf'
      ? await directoryAsTar(ovaPath, (await readOvfFile(ovaPath)).envelope)
      : { size: packageSize, stream: fileChunks(ovaPath) };
    const phase = `importing ${basename(ovaPath)}`;
    const source = opts.progress ? counted(stream, phase, size, opts.progress) : stream;
    const sink = folderSink(tmp);
    const descriptorMember =
      kind === 'ovf' && !/\.ovf$/i.test(ovaPath) ? basename(ovaPath) : undefined;
    const pkg = await readOva(source, {
      sink, hasher: nodeHasher, packageName: ovaPath, descriptorMember,
    });
    await writeFile(join(tmp, pkg.descriptorName), pkg.descriptor, { flag: 'wx' });
    if (pkg.manifest)
      await writeFile(join(tmp, pkg.manifest.name), pkg.manifest.text, { flag: 'wx' });
    if (pkg.certificate)
      await writeFile(join(tmp, pkg.certificate.name), pkg.certificate.text, { flag: 'wx' });
    // A signed package whose signature does not match its manifest is not deployed, as
    // ovftool refuses it (DSP0243 5.2).
    const signature = packageSignature(pkg);
    if (signature && !signature.verified)
      throw new OvfError('checksum', `certificate ${pkg.certificate!.name}: ${signature.problem}`,
        { file: ovaPath });
    // A descriptor that breaks a DSP0243 rule is not deployed (7.3: a consumer shall fail
    // on a required extension it does not understand; the other rules in validate.ts).
    const invalid = validateOvf(pkg.envelope).issues.filter((i) => i.severity === 'error');
    if (invalid.length)
      throw new OvfError(
        'invalid',
        invalid.slice(0, 5).map((i) => `${i.where}: ${i.message}`).join('; ') +
          (invalid.length > 5 ? `; and ${invalid.length - 5} more` : ''),
        { file: pkg.descriptorName },
      );
    const mapped = toVmConfig(pkg.envelope, {
      virtualSystem: opts.virtualSystem,
      configuration: opts.configuration,
    });
    checkImageChains(tmp, mapped, ovaPath);
    await checkImportedDisks(tmp, mapped, pkg, opts.keepStreamOptimized === true, opts.progress);
    const environment = await writeEnvironment(tmp, pkg.envelope, mapped, opts.properties ?? {},
      opts.transport);
    validateVmConfig(mapped.config);
    await writeFile(
      join(tmp, IMPORTED_CONFIG_NAME),
      JSON.stringify(mapped.config, null, 2) + '\n',
      { flag: 'wx' },
    );
    if (targetExists) await rmdir(target);
    await rename(tmp, target);
    return {
      ...mapped, dir: target, configPath: join(target, IMPORTED_CONFIG_NAME), package: pkg,
      ...(environment ? { environment } : {}),
    };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw ioError(e, ovaPath);
  }
}

/**
 * Refuses a package whose images name backing (or extent) files outside it: a qcow2 image
 * whose backing file is `/etc/passwd` or `../x` would let the guest read that host file
 * through its disk. Every drive's file is checked, whatever media and format the
 * descriptor claims, since the format is detected from the file when it is opened.
 */
function checkImageChains(dir: string, mapped: ToConfigResult, packageName: string): void {
  for (const d of mapped.config.disks) {
    if (!d.path) continue;
    try {
      openImageFile(join(dir, d.path), { readOnly: true, within: dir }).close();
    } catch (e) {
      if (e instanceof UnsafeBackingError) {
        const where = e.image === d.path
          ? 'disk image '
          : `disk image "${d.path}": in its backing chain, `;
        throw new OvfError('unsafe-path', where + e.message, { file: packageName });
      }
      // Other problems (damage, unsupported formats) are reported when the disk is checked.
    }
  }
}

/**
 * Creates the empty disks the descriptor asks for, checks each imported disk image against
 * the descriptor (its own virtual size wins) and turns read-only images into writable ones: a
 * streamOptimized VMDK (compressed grains) cannot be written in place, so, as VMware and VirtualBox
 * do on import, it becomes a qcow2 working copy and the package's copy is removed (unless `keep`).
 */
async function checkImportedDisks(
  dir: string, mapped: ToConfigResult, pkg: OvaReadResult, keep: boolean, progress?: ProgressFn,
): Promise<void> {
  for (const [i, d] of mapped.config.disks.entries()) {
    if (!d.path && d.media === 'disk' && d.capacityBytes !== undefined) {
      // An empty disk (a Disk with no ovf:fileRef, DSP0243 9.1): created as an empty qcow2
      // image of its capacity, as VMware and VirtualBox create it on import.
      const base = (mapped.diskFiles.find((l) => l.index === i)?.diskId ?? `disk${i}`).replace(
        /[^A-Za-z0-9_.-]/g,
        '_',
      );
      let name = `${base}.qcow2`;
      for (let k = 1; await exists(join(dir, name)); k++) name = `${base}-${k}.qcow2`;
      const dst = new FileSource(join(dir, name), 'w');
      try {
        createImage(dst, d.capacityBytes, { format: 'qcow2' });
      } finally {
        dst.close();
      }
      mapped.notes.push({
        kind: 'mapped',
        subject: `disk ${i}`,
        message: `empty disk created as ${name} (${d.capacityBytes} bytes)`,
      });
      d.path = name;
      d.format = 'qcow2';
      continue;
    }
    if (!d.path || d.media !== 'disk' || d.format === 'vhd' || d.format === 'iso') continue;
    const path = join(dir, d.path);
    let img;
    try {
      img = openImageFile(path, { readOnly: d.readOnly, within: dir });
    } catch (e) {
      pkg.warnings.push(`disk image "${d.path}" could not be opened: ${(e as Error).message}`);
      continue;
    }
    try {
      // DSP0243 9.1: ovf:format names the disk's format; a file of another format (a raw
      // image labelled VMDK) would boot as garbage, so import stops here, naming both.
      const claimed = mapped.diskFiles.find((l) => l.index === i)?.diskId !== undefined
        ? d.format : undefined;
      if (claimed !== undefined && claimed !== img.format) {
        throw new OvfError(
          'invalid',
          `disk image "${d.path}" is ${img.format === 'raw' ? 'a raw image (no known ' +
            'header)' : `a ${img.format} image`}, but the descriptor's ovf:format says ` +
            `${claimed} (DSP0243 9.1)`,
          { file: pkg.descriptorName },
        );
      }
      const vsize = img.size;
      if (d.capacityBytes !== undefined && vsize !== d.capacityBytes) {
        mapped.notes.push({
          kind: 'adjusted',
          subject: `disk ${i} (${d.path})`,
          message: `the image's virtual size is ${vsize} bytes; ` +
            `the descriptor says ${d.capacityBytes}; the image wins`,
        });
      }
      d.capacityBytes = vsize;
      d.format ??= img.format;
      if (img.readOnly && !d.readOnly && !keep) {
        const base = d.path.replace(/\.[^./]*$/, '');
        let name = `${base}.qcow2`;
        for (let k = 1; await exists(join(dir, name)); k++) name = `${base}-${k}.qcow2`;
        const dst = new FileSource(join(dir, name), 'w');
        try {
          const phase = `converting ${d.path} to qcow2`;
          const meter = progress && ((n: number, total: number) => progress(phase, n, total));
          convertImage(img, dst, { format: 'qcow2' }, meter);
        } finally {
          dst.close();
        }
        img.close();
        img = undefined;
        await rm(path);
        mapped.notes.push({
          kind: 'adjusted',
          subject: `disk ${i} (${d.path})`,
          message: `a ${d.format} image that cannot be written in place; ` +
            `converted to the qcow2 working copy ${name}`,
        });
        const link = mapped.diskFiles.find((l) => l.index === i);
        if (link) link.converted = name;
        d.path = name;
        d.format = 'qcow2';
      }
    } finally {
      img?.close();
    }
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Reads a VM configuration file (JSON) and validates it. */
export async function readVmConfigFile(path: string): Promise<VmConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw ioError(e, path);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new OvfError('config', `not valid JSON: ${(e as Error).message}`, { file: path });
  }
  return validateVmConfig(json, path);
}
