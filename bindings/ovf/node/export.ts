/**
 * Node-only export of a VM configuration (vm.json and the files it names) to an OVF
 * package: images that depend on other files (qcow2 overlays, VMDK descriptors with
 * extents) are flattened into one image of the package, and the package is written to a
 * temporary name beside the target and renamed into place at the end.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
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
  counted, fileChunks, ioError, readVmConfigFile, type ProgressFn,
} from './files.js';

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
  return exportVmConfig(config, dirname(resolve(configPath)), ovaPath, opts);
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
    return { ...(await exportPrepared(config, base, ovaPath, opts)), notes };
  } finally {
    if (made) await rm(work, { recursive: true, force: true });
  }
}

async function exportPrepared(
  config: VmConfig, base: string, ovaPath: string, opts: ExportOptions,
): Promise<Omit<ExportResult, 'notes'>> {
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
  const { envelope, files } = fromVmConfig(config, {
    family: opts.family,
    fileInfo: (p) => infos.get(p),
  });
  const descriptorName = `${envelope.content!.id}.ovf`;
  const descriptor = new TextEncoder().encode(writeOvf(envelope));
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
    for await (const chunk of writeOva(descriptorName, descriptor, sources, {
      hasher: nodeHasher,
      mtime: opts.mtime,
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
    files: [descriptorName, descriptorName.replace(/\.ovf$/, '.mf'), ...files.map((f) => f.href)],
  };
}
