/**
 * `wasmvisor ovf convert SRC DST`: appliances from one form to another, as `ovftool SRC
 * DST` does (VMware OVF Tool User's Guide, "Changing File or Package Formats": OVF to
 * OVA, OVA to OVF, VMX to OVF or OVA), plus the project's own VM folder (vm.json and its
 * disks) either way. The form of each side is told by its name: `.ova`, `.ovf`, `.vmx`,
 * and `vm.json` or a folder (holding a vm.json when it is the source).
 *
 * - The descriptor is converted to the OVF version asked for (convert.ts; default: the
 *   source's version, 1.x for a .vmx or a VM folder, as ovftool writes), every warning
 *   naming what the target version cannot carry.
 * - Files keep their member names; a .vmx's disks are read with their VMDK descriptor and
 *   extents (the disk image code) and packed as streamOptimized VMDK named
 *   `TARGET-disk1.vmdk`, `-disk2`... (ovftool's names and format).
 * - The manifest is SHA256 (ovftool's default since 4.2; `--sha-algorithm SHA1` for old
 *   consumers, as ovftool's `--shaAlgorithm`); a source manifest is verified as the
 *   package is read. A certificate is not carried: the manifest changes, so the signature
 *   would not verify (`ovf export --sign` signs again).
 * Work happens in a temporary folder beside the target, renamed into place at the end.
 */
import { createWriteStream } from 'node:fs';
import {
  copyFile, mkdir, readFile, readdir, rename, rm, stat, writeFile,
} from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { OvfError } from '../errors.js';
import type { Envelope } from '../model.js';
import { readOva } from '../ova-read.js';
import { writeOva, type OvaFileSource } from '../ova-write.js';
import { formatManifest, type DigestAlgorithm, type ManifestEntry } from '../manifest.js';
import { resolveHref, outsideMessage } from '../paths.js';
import { convertDescriptor, type OvfVersion } from '../convert.js';
import {
  describeVmx, parseVmx, vmxToEnvelope, STREAM_VMDK_FORMAT, type VmxPackagedDisk,
} from '../vmx.js';
import { nodeHasher } from './hash-node.js';
import {
  checkOvfDirectory, fileChunks, folderSink, importOva, readOvfFile, ioError, type ProgressFn,
} from './files.js';
import { exportOva } from './export.js';
import { openImageFile } from '../../disk/node.js';
import { FileSource } from '../../disk/node-file.js';
import { convertImage } from '../../disk/convert.js';

export type ApplianceForm = 'ova' | 'ovf' | 'vmx' | 'vm';

export interface ConvertOptions {
  /** OVF version of the result: '0.9', '1' (1.x) or '2' (2.x). */
  ovfVersion?: OvfVersion;
  /** Manifest digest (default SHA256, as ovftool 4.2 and later). */
  algorithm?: DigestAlgorithm;
  /** Member modification time in an OVA (default now). */
  mtime?: Date;
  progress?: ProgressFn;
}

export interface ConvertResult {
  from: ApplianceForm;
  to: ApplianceForm;
  ovfVersion: OvfVersion;
  /** What the target cannot carry, each naming it. */
  warnings: string[];
  /** Files written (members of an OVA, or paths beside an .ovf). */
  files: string[];
}

/** The form a path names: by its extension, `vm.json`, or a folder. */
export async function applianceForm(path: string, source: boolean): Promise<ApplianceForm> {
  const ext = extname(path).toLowerCase();
  if (ext === '.ova') return 'ova';
  if (ext === '.ovf') return 'ovf';
  if (ext === '.vmx') return 'vmx';
  if (basename(path).toLowerCase() === 'vm.json') return 'vm';
  if (source) {
    const st = await stat(path).catch(() => undefined);
    if (st?.isDirectory()) return 'vm';
    if (st?.isFile()) return 'ovf'; // a descriptor under another name, found by content
    throw new OvfError('io', 'no such file or folder', { file: path });
  }
  if (ext === '') return 'vm';
  throw new OvfError('invalid', `"${basename(path)}": name the target .ova, .ovf or a folder ` +
    '(a VM folder with vm.json)', { file: path });
}

interface Staged {
  envelope: Envelope;
  /** href -> file on disk. */
  files: Map<string, string>;
  warnings: string[];
}

/** Converts an appliance between forms and OVF versions (see the file comment). */
export async function convertAppliance(
  src: string, dst: string, opts: ConvertOptions = {},
): Promise<ConvertResult> {
  const from = await applianceForm(src, true);
  const to = await applianceForm(dst, false);
  if (to === 'vmx')
    throw new OvfError('invalid', 'writing a .vmx is not offered (import to a VM folder instead)',
      { file: dst });
  const target = resolve(dst);
  if (await stat(target).then(() => true, () => false)) {
    const empty = to === 'vm' && (await readdir(target).catch(() => ['x'])).length === 0;
    if (!empty) throw new OvfError('io', 'the target exists already', { file: dst });
  }
  // As ovftool, the target's folder is made when it is not there.
  await mkdir(dirname(target), { recursive: true });
  const work = join(dirname(target),
    `.${basename(target)}.convert-${randomBytes(6).toString('hex')}`);
  await mkdir(work);
  try {
    const staged = await stage(from, src, work, basename(target, extname(target)), opts);
    const version = opts.ovfVersion ?? (staged.envelope.family === '0.9' && from !== 'ovf'
      && from !== 'ova' ? '1' : staged.envelope.family);
    const conv = convertDescriptor(staged.envelope, version);
    const warnings = [...staged.warnings, ...conv.warnings];
    const xml = new TextEncoder().encode(conv.xml);
    const base = basename(target, extname(target));
    const files: string[] = [];
    const sources: OvaFileSource[] = [];
    for (const f of conv.envelope.references) {
      const path = staged.files.get(f.href);
      if (!path) continue;
      const size = (await stat(path)).size;
      sources.push({ name: f.href, size, open: () => fileChunks(path) });
    }
    if (to === 'ova' || to === 'vm') {
      const ova = to === 'ova' ? target : join(work, `${base}.ova`);
      const tmp = to === 'ova' ? join(work, 'out.ova') : ova;
      await writeStream(tmp, writeOva(`${base}.ovf`, xml, sources, {
        algorithm: opts.algorithm ?? 'SHA256', hasher: nodeHasher, mtime: opts.mtime,
      }));
      if (to === 'ova') {
        await rename(tmp, target);
        files.push(`${base}.ovf`, `${base}.mf`, ...sources.map((s) => s.name));
      } else {
        const r = await importOva(ova, target, { progress: opts.progress });
        files.push(...(await readdir(target)));
        warnings.push(...r.notes.filter((n) => n.kind !== 'mapped')
          .map((n) => `${n.subject}: ${n.message}`));
      }
    } else {
      // An unpacked package: descriptor, manifest and files in the target's folder.
      const dir = dirname(target);
      const entries: ManifestEntry[] = [];
      const alg = opts.algorithm ?? 'SHA256';
      const out = join(work, 'out');
      await mkdir(out);
      const descriptorName = basename(target);
      await writeFile(join(out, descriptorName), xml);
      entries.push({ algorithm: alg, name: descriptorName, digest: await digestFile(join(out,
        descriptorName), alg) });
      for (const s of sources) {
        const t = resolveHref(s.name);
        if (t.kind !== 'member') throw new OvfError('unsafe-path', outsideMessage(s.name, t));
        await mkdir(dirname(join(out, t.name)), { recursive: true });
        await copyFile(staged.files.get(s.name)!, join(out, t.name));
        entries.push({ algorithm: alg, name: t.name, digest: await digestFile(join(out, t.name),
          alg) });
      }
      const mfName = descriptorName.replace(/\.ovf$/i, '') + '.mf';
      await writeFile(join(out, mfName), formatManifest(entries));
      const names = [descriptorName, mfName, ...sources.map((s) => hrefName(s.name))];
      for (const n of names) {
        if (await stat(join(dir, n)).then(() => true, () => false))
          throw new OvfError('io', `"${n}" exists already beside the target`, { file: dst });
      }
      for (const n of names) {
        await mkdir(dirname(join(dir, n)), { recursive: true });
        await rename(join(out, n), join(dir, n));
      }
      files.push(...names);
    }
    return { from, to, ovfVersion: version, warnings, files };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function hrefName(href: string): string {
  const t = resolveHref(href);
  return t.kind === 'member' ? t.name : href;
}

async function digestFile(path: string, alg: DigestAlgorithm): Promise<string> {
  const h = nodeHasher(alg);
  for await (const c of fileChunks(path)) h.update(c);
  return h.hex();
}

async function writeStream(path: string, chunks: AsyncIterable<Uint8Array>): Promise<void> {
  const out = createWriteStream(path, { flags: 'wx' });
  try {
    for await (const c of chunks)
      if (!out.write(c)) await new Promise<void>((r) => out.once('drain', () => r()));
    await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
  } catch (e) {
    out.destroy();
    throw e;
  }
}

/** Reads the source into a descriptor model and files on disk (in `work`). */
async function stage(
  from: ApplianceForm, src: string, work: string, targetBase: string, opts: ConvertOptions,
): Promise<Staged> {
  const files = new Map<string, string>();
  if (from === 'ova' || from === 'vm') {
    let ova = src;
    const warnings: string[] = [];
    if (from === 'vm') {
      const config = (await stat(src)).isDirectory() ? join(src, 'vm.json') : src;
      ova = join(work, 'from-vm.ova');
      const family = opts.ovfVersion === '2' ? '2' : '1';
      const r = await exportOva(config, ova, { family, convertToVmdk: true, mtime: opts.mtime });
      warnings.push(...r.notes);
    }
    const into = join(work, 'in');
    await mkdir(into);
    const pkg = await readOva(fileChunks(ova), {
      sink: folderSink(into), hasher: nodeHasher, packageName: src,
    });
    for (const f of pkg.envelope.references) {
      const t = resolveHref(f.href);
      if (t.kind === 'member') files.set(f.href, join(into, t.name));
    }
    if (pkg.certificate)
      warnings.push(`${pkg.certificate.name}: the signature is not carried (the manifest is ` +
        'written anew; sign the result with ovf export --sign)');
    return { envelope: pkg.envelope, files, warnings };
  }
  if (from === 'ovf') {
    const { envelope } = await readOvfFile(src);
    const check = await checkOvfDirectory(src, envelope);
    if (check.missing.length)
      throw new OvfError('missing-file', `files missing beside the descriptor: ${check.missing
        .join(', ')}`, { file: src });
    if (check.outside.length)
      throw new OvfError('unsafe-path', outsideMessage(check.outside[0].href,
        { kind: 'outside', problem: check.outside[0].problem }), { file: src });
    for (const f of envelope.references) {
      const t = resolveHref(f.href);
      if (t.kind === 'member') files.set(f.href, join(dirname(src), t.name));
    }
    const warnings = check.certificate ? [`${check.certificate}: the signature is not carried ` +
      '(the manifest is written anew)'] : [];
    return { envelope, files, warnings };
  }
  // A .vmx and its disks.
  let text: string;
  try {
    text = await readFile(src, 'utf8');
  } catch (e) {
    throw ioError(e, src);
  }
  const m = describeVmx(parseVmx(text, basename(src)), basename(src, extname(src)));
  const disks: VmxPackagedDisk[] = [];
  let n = 0;
  for (const d of m.devices) {
    if (d.kind !== 'disk' || !d.fileName) continue;
    n++;
    const href = `${targetBase}-disk${n}.vmdk`;
    const path = resolve(dirname(src), d.fileName);
    const out = join(work, href);
    let img;
    try {
      img = openImageFile(path, { readOnly: true });
    } catch (e) {
      throw new OvfError('invalid', `${d.key}: disk "${d.fileName}": ${(e as Error).message}`,
        { file: src });
    }
    const dst = new FileSource(out, 'w');
    try {
      convertImage(img, dst, {
        format: 'vmdk', vmdk: { subformat: 'streamOptimized', extentName: href },
      });
    } finally {
      dst.close();
      img.close();
    }
    files.set(href, out);
    disks.push({ key: d.key, href, capacity: img.size, size: (await stat(out)).size,
      format: STREAM_VMDK_FORMAT });
  }
  const r = vmxToEnvelope(m, disks, opts.ovfVersion ?? '1');
  return { envelope: r.envelope, files, warnings: r.warnings };
}
