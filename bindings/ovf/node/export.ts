/**
 * Node-only export of a VM configuration (vm.json and the files it names) to an OVF
 * package: images that depend on other files (qcow2 overlays, VMDK descriptors with
 * extents) are flattened into one image of the package, and the package is written to a
 * temporary name beside the target and renamed into place at the end.
 */
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { OvfError } from '../errors.js';
import type { Envelope } from '../model.js';
import { writeOva, type OvaFileSource } from '../ova-write.js';
import { fromVmConfig, type ExportFileInfo } from '../from-config.js';
import { writeOvf } from '../writer.js';
import { FORMAT_VMDK_STREAM, sniffFormat } from '../formats.js';
import { nodeHasher } from './hash-node.js';
import { validateVmConfig } from '../../config/validate.js';
import type { VmConfig } from '../../config/types.js';
import { openImageFile } from '../../disk/node.js';
import { FileSource } from '../../disk/node-file.js';
import { convertImage, type TargetSpec } from '../../disk/convert.js';
import { isDescriptorText } from '../../disk/vmdk/extents.js';
import { detectFormat } from '../../disk/open.js';
import { readHeader } from '../../disk/qcow2/header.js';
import {
  ENVIRONMENT_ISO, counted, fileChunks, ioError, readOvfFile, readVmConfigFile, type ProgressFn,
} from './files.js';
import { mergeWithOriginal } from '../preserve.js';
import { signManifest } from './signature.js';
import { hrefMemberName } from '../paths.js';

export interface ExportOptions {
  family?: '1' | '2';
  mtime?: Date;
  /**
   * Convert every hard disk image that is not already a streamOptimized VMDK into one
   * (the format VMware and VirtualBox import from an OVA), through the disk image code.
   */
  convertToVmdk?: boolean;
  /** Told how far converting disks and writing the package have got. */
  progress?: ProgressFn;
  /**
   * The descriptor the VM was imported from (found beside vm.json by exportOva): its
   * sections are kept and only what the VM changed is rewritten (preserve.ts).
   */
  original?: Envelope;
  /** Rebuild the descriptor from the VM configuration even when an original is beside it. */
  rebuild?: boolean;
  /** Sign the manifest (DSP0243 5.2): a PEM private key and its X.509 certificate. */
  sign?: { keyPem: string; certPem: string };
}

/**
 * The descriptor an import left beside vm.json: the one `.ovf` file in the folder (an
 * import writes the package's descriptor there as it was). None, several, or one that
 * does not parse: undefined, and a note says why when it matters.
 */
async function originalDescriptor(dir: string, notes: string[]): Promise<Envelope | undefined> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ovf$/i.test(n));
  } catch {
    return undefined;
  }
  if (names.length !== 1) {
    if (names.length > 1)
      notes.push(`${names.length} descriptors beside the VM configuration ` +
        `(${names.join(', ')}); the descriptor is rebuilt from the VM configuration`);
    return undefined;
  }
  try {
    return (await readOvfFile(join(dir, names[0]))).envelope;
  } catch (e) {
    notes.push(`the descriptor ${names[0]} beside the VM configuration does not parse ` +
      `(${(e as Error).message}); the descriptor is rebuilt from the VM configuration`);
    return undefined;
  }
}

/** Facts about an image file: size, and from the image itself, format and virtual size. */
async function fileInfo(path: string): Promise<ExportFileInfo> {
  const st = await stat(path);
  if (!st.isFile()) throw new OvfError('io', 'not a regular file', { file: path });
  const info: ExportFileInfo = { size: st.size };
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    const s = sniffFormat(head.subarray(0, bytesRead));
    if (s) info.formatUri = s.uri;
  } finally {
    await fh.close();
  }
  if (info.formatUri) {
    try {
      const img = openImageFile(path, { readOnly: true });
      info.capacityBytes = img.size;
      img.close();
    } catch {
      /* the exporter falls back to the configuration's capacity */
    }
  }
  return info;
}

/** What an export wrote, and what it changed on the way (for the user to read). */
export interface ExportResult {
  envelope: Envelope;
  files: string[];
  /** Disks converted or flattened, and a package with nothing in it. */
  notes: string[];
}

/** Exports a VM configuration file and the files it names to an OVA package. */
export async function exportOva(
  configPath: string, ovaPath: string, opts: ExportOptions = {},
): Promise<ExportResult> {
  const config = await readVmConfigFile(configPath);
  const base = dirname(resolve(configPath));
  const found: string[] = [];
  const original = opts.rebuild || opts.original ? opts.original
    : await originalDescriptor(base, found);
  const r = await exportVmConfig(config, base, ovaPath, { ...opts, original });
  return { ...r, notes: [...found, ...r.notes] };
}

/**
 * Whether an image depends on other files: a qcow2 overlay (its backing chain) or a VMDK
 * descriptor (its extent files). Packing such a file alone would ship a disk that points
 * at files of this host, so the export writes the disk as one self-contained image.
 */
function dependsOnOtherFiles(path: string): string | undefined {
  // From the headers alone, so that an overlay whose backing file is missing is still
  // recognised (and then fails to flatten, naming it) rather than packed as it is.
  const src = new FileSource(path, 'r');
  try {
    const format = detectFormat(src);
    const head = new Uint8Array(512);
    const n = src.read(0, head);
    if (format === 'qcow2') {
      const backing = readHeader(src).backingFile;
      return backing === undefined ? undefined : `a qcow2 overlay of backing file "${backing}"`;
    }
    if (format === 'vmdk' && isDescriptorText(head.subarray(0, n))) {
      return 'a VMDK descriptor with separate extent files';
    }
    return undefined;
  } catch {
    return undefined; // damaged or unsupported: reported when it is read
  } finally {
    src.close();
  }
}

/**
 * Exports a VM configuration (paths relative to `base`) to an OVA package. A package
 * carries whole disks: a qcow2 overlay is flattened with its backing chain into one qcow2
 * image (as VirtualBox and ovftool export the current state of a disk with snapshots),
 * a VMDK descriptor with its extents into one streamOptimized VMDK; the files the
 * configuration names are left as they are. Each such change is listed in `notes`.
 */
export async function exportVmConfig(
  input: VmConfig, base: string, ovaPath: string, opts: ExportOptions = {},
): Promise<ExportResult> {
  validateVmConfig(input);
  const notes: string[] = [];
  const config: VmConfig = JSON.parse(JSON.stringify(input));
  // The OVF environment an import attached is deployment state, not part of the appliance
  // (DSP0243 11: the platform makes it at deployment).
  const envDisk = config.disks.findIndex((d) => d.path === ENVIRONMENT_ISO && d.readOnly);
  if (envDisk >= 0) {
    config.disks.splice(envDisk, 1);
    notes.push(`${ENVIRONMENT_ISO} (the OVF environment of this deployment) is not exported`);
  }
  if (!config.disks.some((d) => d.path !== undefined) && config.boot.firmware !== 'multiboot') {
    notes.push('nothing to export: no disk image, CD-ROM image or kernel; '
      + 'the package describes the hardware only');
  }
  const target = resolve(ovaPath);
  const work = join(dirname(target),
    `.${basename(target)}.disks-${randomBytes(6).toString('hex')}`);
  let made = false;
  try {
    for (const [i, d] of config.disks.entries()) {
      if (d.path === undefined) continue;
      const abs = resolve(base, d.path);
      let info: ExportFileInfo;
      try {
        info = await fileInfo(abs);
      } catch (e) {
        throw ioError(e, d.path);
      }
      const chained = dependsOnOtherFiles(abs);
      if (chained && d.media !== 'disk') {
        const why = `the CD-ROM image is ${chained}; ` +
          'give the flattened image (wasmvisor img convert)';
        throw new OvfError('invalid', why, { file: d.path });
      }
      const toVmdk = opts.convertToVmdk && d.media === 'disk'
        && info.formatUri !== FORMAT_VMDK_STREAM;
      if (!chained && !toVmdk) continue;
      const vmdk = toVmdk || (chained !== undefined && /VMDK/.test(chained));
      if (!made) {
        await mkdir(work);
        made = true;
      }
      await mkdir(join(work, String(i)));
      const stem = basename(d.path).replace(/\.[^.]*$/, '');
      const out = join(work, String(i), `${stem}.${vmdk ? 'vmdk' : 'qcow2'}`);
      let src;
      try {
        src = openImageFile(abs, { readOnly: true });
      } catch (e) {
        throw new OvfError(
          'io',
          `${chained ? `the disk is ${chained}; ` : ''}${(e as Error).message}`,
          { file: d.path },
        );
      }
      const dst = new FileSource(out, 'w');
      try {
        const phase = `${chained ? 'flattening' : 'converting'} ${d.path}${vmdk ? ' to VMDK' : ''}`;
        const progress = opts.progress;
        const spec: TargetSpec = vmdk
          ? { format: 'vmdk', vmdk: { subformat: 'streamOptimized' } }
          : { format: 'qcow2' };
        convertImage(src, dst, spec, progress && ((n, total) => progress(phase, n, total)));
      } finally {
        dst.close();
        src.close();
      }
      if (chained) notes.push(`disk ${d.path} is ${chained}; packed flattened as ${basename(out)}`);
      d.path = out;
      d.format = vmdk ? 'vmdk' : 'qcow2';
    }
    const r = await exportPrepared(config, base, ovaPath, opts);
    return { ...r, notes: [...notes, ...r.notes] };
  } finally {
    if (made) await rm(work, { recursive: true, force: true });
  }
}

async function exportPrepared(
  config: VmConfig, base: string, ovaPath: string, opts: ExportOptions,
): Promise<ExportResult> {
  const infos = new Map<string, ExportFileInfo>();
  const paths = [
    ...config.disks.map((d) => d.path).filter((p): p is string => p !== undefined),
    ...(config.boot.firmware === 'multiboot'
      ? [config.boot.kernel, ...(config.boot.modules ?? [])]
      : []),
  ];
  for (const p of paths) {
    try {
      infos.set(p, await fileInfo(resolve(base, p)));
    } catch (e) {
      throw ioError(e, p);
    }
  }
  const family = opts.family ?? (opts.original?.family === '2' ? '2' : '1');
  let { envelope, files } = fromVmConfig(config, {
    family,
    fileInfo: (p) => infos.get(p),
  });
  const extraNotes: string[] = [];
  if (opts.original) {
    const present = new Map<string, boolean>();
    for (const f of opts.original.references) {
      const member = hrefMemberName(f.href);
      try {
        const st = await lstat(resolve(base, member));
        present.set(member, st.isFile());
        if (st.isFile() && !infos.has(member)) infos.set(member, { size: st.size });
      } catch {
        present.set(member, false);
      }
    }
    const m = mergeWithOriginal(opts.original, envelope, files, config,
      (member) => present.get(member) === true);
    envelope = m.envelope;
    files = m.files;
    extraNotes.push(...m.notes);
  }
  const descriptorName = `${envelope.content!.id}.ovf`;
  const descriptor = new TextEncoder().encode(writeOvf(envelope, { family }));
  // writeOva reads each file twice (digest, then archive): the meter counts both passes.
  const total = 2 * files.reduce((n, f) => n + infos.get(f.path)!.size, 0);
  const phase = `exporting ${basename(ovaPath)}`;
  const done = { n: 0 };
  const progress = opts.progress;
  const sources: OvaFileSource[] = files.map((f) => {
    const open = () => fileChunks(resolve(base, f.path));
    const size = infos.get(f.path)!.size;
    return {
      name: f.href,
      size,
      open: progress ? () => counted(open(), phase, total, progress, done) : open,
    };
  });
  const target = resolve(ovaPath);
  const tmp = join(
    dirname(target),
    `.${basename(target)}.export-${randomBytes(6).toString('hex')}`,
  );
  const out = createWriteStream(tmp, { flags: 'wx' });
  try {
    await new Promise<void>((res, rej) => {
      out.once('open', () => res());
      out.once('error', (e: NodeJS.ErrnoException) =>
        rej(
          e.code === 'ENOENT'
            ? new OvfError('io', 'the folder it would go in does not exist', { file: ovaPath })
            : e,
        ),
      );
    });
    const sign = opts.sign;
    for await (const chunk of writeOva(descriptorName, descriptor, sources, {
      hasher: nodeHasher,
      mtime: opts.mtime,
      sign: sign && ((m, name) => signManifest(m, name, sign.keyPem, sign.certPem)),
    })) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((res, rej) =>
      out.end((err?: Error | null) => (err ? rej(err) : res())),
    );
    await rename(tmp, target);
  } catch (e) {
    out.destroy();
    await rm(tmp, { force: true });
    throw ioError(e, ovaPath);
  }
  return {
    envelope,
    files: [descriptorName, descriptorName.replace(/\.ovf$/, '.mf'),
      ...(opts.sign ? [descriptorName.replace(/\.ovf$/, '.cert')] : []),
      ...files.map((f) => f.href)],
    notes: extraNotes,
  };
}
