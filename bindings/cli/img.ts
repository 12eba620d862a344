/**
 * `wasmvisor img`: info, create, convert and check for raw, qcow2 and VMDK images, with
 * qemu-img's option names (-f, -O, -o key=value, -b, -F, --output json) and output shapes.
 * New images are written to a temporary file next to the target and renamed into place,
 * so a failed command never leaves a half-written image behind.
 */
import type { Command } from 'commander';
import { basename, dirname, join, resolve } from 'node:path';
import { renameSync, rmSync, existsSync, statSync } from 'node:fs';
import { UsageError, setExitStatus } from './errors.js';
import { FileSource, fsReason } from '../disk/node-file.js';
import { ImageError } from '../disk/errors.js';
import { openImageFile, extentResolver } from '../disk/node.js';
import { QemuProgress } from './progress.js';
import {
  checkTarget,
  createImage,
  convertImage,
  VMDK_SUBFORMATS,
  type TargetSpec,
  type VmdkSubformat,
} from '../disk/convert.js';
import { checkQcow2, repairQcow2, type RepairResult } from '../disk/qcow2/check.js';
import { checkVmdk } from '../disk/vmdk/check.js';
import { checkVdi } from '../disk/vdi.js';
import { checkVhdx } from '../disk/vhdx.js';
import { checkExitStatus, checkJson, formatCheck, type CheckResult } from '../disk/check.js';
import { detectFormat } from '../disk/open.js';
import { readHeader as readQcow2Header } from '../disk/qcow2/header.js';
import { growQcow2 } from '../disk/qcow2/resize.js';
import { createSnapshot, deleteSnapshot, applySnapshot } from '../disk/qcow2/snapshot-ops.js';
import { readSnapshots } from '../disk/qcow2/snapshots.js';
import { snapshotInfo } from '../disk/qcow2/image.js';
import { compareImages } from '../disk/compare.js';
import { mapImage, mapJson } from '../disk/map.js';
import { parseSize } from '../disk/size.js';
import { infoJson, infoText, backingChain, snapshotList } from './img-info.js';
import type { ImageFormat } from '../disk/types.js';

/** Formats written (-O, create); vpc (VHD), vhdx and vdi are also read (-f). */
const FORMATS: ImageFormat[] = ['raw', 'qcow2', 'vmdk'];
const READ_FORMATS: ImageFormat[] = [...FORMATS, 'vpc', 'vhdx', 'vdi'];

function format(f: string | undefined, what = '-f'): ImageFormat | undefined {
  if (f === undefined) return undefined;
  const list = what === '-O' || what === 'create' ? FORMATS : READ_FORMATS;
  if (!list.includes(f as ImageFormat))
    throw new UsageError(`Unknown file format '${f}' (${what}); supported: ${list.join(', ')}`);
  return f as ImageFormat;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Parses `-o a=b,c=d` (several -o allowed) into a map; ",," is a literal comma as in QEMU. */
export function parseOptions(list: string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of list ?? []) {
    for (const part of item.replace(/,,/g, '\0').split(',')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const key = (eq < 0 ? part : part.slice(0, eq)).trim();
      const val = (eq < 0 ? 'on' : part.slice(eq + 1)).replace(/\0/g, ',');
      out.set(key, val);
    }
  }
  return out;
}

function onOff(key: string, v: string): boolean {
  if (['on', 'yes', 'true'].includes(v)) return true;
  if (['off', 'no', 'false'].includes(v)) return false;
  throw new UsageError(`Parameter '${key}' expects 'on' or 'off', not '${v}'`);
}

/** Turns -o options into a target description, refusing options the format does not have. */
export function targetSpec(
  fmt: ImageFormat,
  opts: Map<string, string>,
  outPath: string,
): TargetSpec {
  const t: TargetSpec = { format: fmt };
  const known: Record<ImageFormat, string[]> = {
    vpc: [],
    vhdx: [],
    vdi: [],
    raw: ['preallocation'],
    qcow2: [
      'compat',
      'cluster_size',
      'refcount_bits',
      'lazy_refcounts',
      'backing_file',
      'backing_fmt',
      'preallocation',
      'compression_type',
      'extended_l2',
    ],
    vmdk: ['subformat', 'adapter_type', 'backing_file', 'compat6', 'zeroed_grain', 'hwversion'],
  };
  for (const k of opts.keys())
    if (!known[fmt].includes(k)) throw new UsageError(`${outPath}: Invalid parameter '${k}'`);
  const pre = opts.get('preallocation');
  if (pre !== undefined && pre !== 'off')
    throw new UsageError(`${outPath}: preallocation=${pre} is not supported (only off)`);
  if (fmt === 'qcow2') {
    const compat = opts.get('compat');
    const c =
      compat === undefined
        ? undefined
        : compat === 'v2'
          ? '0.10'
          : compat === 'v3'
            ? '1.1'
            : compat;
    if (c !== undefined && c !== '0.10' && c !== '1.1')
      throw new UsageError(`${outPath}: Invalid compatibility level: '${compat}'`);
    const ct = opts.get('compression_type');
    if (ct !== undefined && ct !== 'zlib')
      throw new UsageError(`${outPath}: compression_type=${ct} is not supported (only zlib)`);
    if (opts.has('extended_l2') && onOff('extended_l2', opts.get('extended_l2')!))
      throw new UsageError(`${outPath}: extended_l2 is not supported`);
    t.qcow2 = {
      compat: c as '0.10' | '1.1' | undefined,
      clusterSize: opts.has('cluster_size') ? parseSize(opts.get('cluster_size')!) : undefined,
      refcountBits: opts.has('refcount_bits') ? Number(opts.get('refcount_bits')) : undefined,
      lazyRefcounts: opts.has('lazy_refcounts')
        ? onOff('lazy_refcounts', opts.get('lazy_refcounts')!)
        : undefined,
      backingFile: opts.get('backing_file'),
      backingFormat: opts.get('backing_fmt'),
    };
  }
  if (fmt === 'vmdk') {
    const sub = opts.get('subformat') ?? 'monolithicSparse';
    if (!VMDK_SUBFORMATS.includes(sub)) {
      throw new UsageError(
        `${outPath}: subformat '${sub}' is not supported (${VMDK_SUBFORMATS.join(', ')})`,
      );
    }
    for (const k of ['backing_file', 'zeroed_grain', 'hwversion'])
      if (opts.has(k)) throw new UsageError(`${outPath}: vmdk option ${k} is not supported`);
    const adapter = opts.get('adapter_type');
    if (adapter !== undefined && !['ide', 'lsilogic', 'buslogic', 'legacyESX'].includes(adapter))
      throw new UsageError(`${outPath}: Unknown adapter type: '${adapter}'`);
    t.vmdk = {
      subformat: sub as VmdkSubformat,
      extentName: basename(outPath),
      adapterType: adapter,
    };
  }
  return t;
}

/**
 * Runs `write` on a temporary file next to `out`, then renames it into place. Errors name
 * `out` as the user gave it, never the temporary file. `extra(name)` creates another file
 * next to `out` the same way (the extents of a VMDK descriptor); all are renamed at the end.
 */
function writeAtomically(
  out: string,
  write: (src: FileSource, extra: (name: string) => FileSource) => void,
): void {
  const full = resolve(out);
  if (existsSync(full) && statSync(full).isDirectory())
    throw new ImageError(`${out}: is a directory`);
  const tmpName = (f: string) =>
    join(dirname(full), `.${basename(f)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  const tmp = tmpName(full);
  const extras: Array<{ tmp: string; full: string; src: FileSource }> = [];
  const extra = (name: string): FileSource => {
    const f = join(dirname(full), name);
    const tmpf = tmpName(f);
    let xs: FileSource;
    try {
      xs = new FileSource(tmpf, 'w');
    } catch (err) {
      const reason = fsReason(err).replace(`cannot open ${tmpf}: `, '');
      throw new ImageError(`cannot create ${join(dirname(out), name)}: ${reason}`);
    }
    const e = { tmp: tmpf, full: f, src: xs };
    extras.push(e);
    return e.src;
  };
  let src: FileSource | undefined;
  try {
    try {
      src = new FileSource(tmp, 'w');
    } catch (e) {
      const m = fsReason(e);
      const prefix = `cannot open ${tmp}: `;
      throw new ImageError(
        `cannot create ${out}: ${m.startsWith(prefix) ? m.slice(prefix.length) : m}`,
      );
    }
    write(src, extra);
    for (const e of extras) {
      e.src.flush();
      e.src.close();
    }
    src.flush();
    src.close();
    src = undefined;
    try {
      for (const e of extras) renameSync(e.tmp, e.full);
      renameSync(tmp, full);
    } catch (e) {
      throw new ImageError(`cannot create ${out}: ${fsReason(e)}`);
    }
  } catch (e) {
    src?.close();
    if (existsSync(tmp)) rmSync(tmp);
    for (const x of extras) {
      x.src.close();
      if (existsSync(x.tmp)) rmSync(x.tmp);
    }
    throw e;
  }
}

/** A target whose VMDK extent files (if its subformat has any) are created by `extra`. */
function withExtentFiles(t: TargetSpec, extra: (name: string) => FileSource): TargetSpec {
  return t.vmdk ? { ...t, vmdk: { ...t.vmdk, extentFile: extra } } : t;
}

function print(s: string): void {
  process.stdout.write(s);
}

/** qemu-img create's first line: the format's options in QEMU's order, defaults filled in. */
function formattingLine(
  file: string,
  fmt: ImageFormat,
  size: number,
  opts: Map<string, string>,
): string {
  const parts: string[] = [];
  const given = (k: string) => {
    if (opts.has(k)) parts.push(`${k}=${opts.get(k)}`);
  };
  if (fmt === 'qcow2') {
    parts.push(
      `cluster_size=${opts.has('cluster_size') ? parseSize(opts.get('cluster_size')!) : 65536}`,
    );
    parts.push(
      `extended_l2=${opts.get('extended_l2') ?? 'off'}`,
      `compression_type=${opts.get('compression_type') ?? 'zlib'}`,
      `size=${size}`,
    );
    given('compat');
    given('backing_file');
    given('backing_fmt');
    parts.push(
      `lazy_refcounts=${opts.get('lazy_refcounts') ?? 'off'}`,
      `refcount_bits=${opts.get('refcount_bits') ?? 16}`,
    );
  } else if (fmt === 'vmdk') {
    parts.push(`size=${size}`);
    given('adapter_type');
    parts.push(
      `compat6=${opts.get('compat6') ?? 'off'}`,
      `hwversion=${opts.get('hwversion') ?? 'undefined'}`,
    );
    given('subformat');
  } else {
    parts.push(`size=${size}`);
    given('preallocation');
  }
  return `Formatting '${file}', fmt=${fmt} ${parts.join(' ')}\n`;
}

export function registerImg(program: Command): void {
  const img = program
    .command('img')
    .description(
      "Disk images (raw, qcow2 v2/v3, VMDK sparse, " +
        "stream-optimized, flat and split), with qemu-img's options",
    );

  img.command('info')
    .description('Show the format, sizes and format-specific facts of an image')
    .argument('<file>')
    .option('-f, --format <fmt>', 'image format (detected when absent)')
    .option('--output <fmt>', 'human or json', 'human')
    .option('--backing-chain', 'also show every backing file')
    .action((file: string, o: { format?: string; output: string; backingChain?: boolean }) => {
      if (o.output !== 'human' && o.output !== 'json')
        throw new UsageError(`--output must be human or json, not '${o.output}'`);
      const image = openImageFile(file, { format: format(o.format), readOnly: true });
      try {
        const chain = o.backingChain ? backingChain(image, file) : [{ image, file }];
        // A VMDK descriptor's disk size includes its extent files, as qemu-img counts it.
        const extentBytes = (i: unknown) =>
          ((i as { extentSources?: () => unknown[] }).extentSources?.() ?? []).reduce<number>(
            (n, s) => n + (s instanceof FileSource ? s.allocatedBytes() : 0),
            0,
          );
        const sizes = chain.map((c) => {
          const f = new FileSource(resolve(c.file), 'r');
          const n = f.allocatedBytes() + extentBytes(c.image);
          f.close();
          return n;
        });
        if (o.output === 'json') {
          const objs = chain.map((c, k) => infoJson(c.image, c.file, sizes[k]));
          print(JSON.stringify(o.backingChain ? objs : objs[0], null, 4) + '\n');
        } else {
          print(chain.map((c, k) => infoText(c.image, c.file, sizes[k])).join('\n'));
        }
      } finally {
        image.close();
      }
    });

  img
    .command('create')
    .description('Create an empty image: SIZE like 10G, 512M (k, M, G, T, P, E suffixes)')
    .argument('<file>')
    .argument('[size]')
    .requiredOption('-f, --format <fmt>', 'raw, qcow2 or vmdk')
    .option(
      '-o, --options <list>',
      'format options (compat=0.10|1.1, cluster_size, refcount_bits, lazy_refcounts, ' +
        'subformat=monolithicSparse|streamOptimized|monolithicFlat|twoGbMaxExtentSparse|' +
        'twoGbMaxExtentFlat, adapter_type)',
      collect,
    )
    .option('-b, --backing <file>', 'backing file (qcow2)')
    .option('-F, --backing-format <fmt>', 'format of the backing file')
    .option('-q, --quiet', 'print nothing')
    .action(
      (
        file: string,
        sizeText: string | undefined,
        o: {
          format: string;
          options?: string[];
          backing?: string;
          backingFormat?: string;
          quiet?: boolean;
        },
      ) => {
        const fmt = format(o.format, 'create')!;
        const opts = parseOptions(o.options);
        if (o.backing !== undefined) opts.set('backing_file', o.backing);
        if (o.backingFormat !== undefined) opts.set('backing_fmt', o.backingFormat);
        const t = targetSpec(fmt, opts, file);
        let size: number;
        if (sizeText !== undefined) {
          try {
            size = parseSize(sizeText);
          } catch (e) {
            throw new UsageError((e as Error).message);
          }
        } else if (t.qcow2?.backingFile !== undefined) {
          const b = resolve(dirname(resolve(file)), t.qcow2.backingFile);
          const bi = openImageFile(b, {
            readOnly: true,
            format: format(t.qcow2.backingFormat, '-F'),
          });
          size = bi.size;
          bi.close();
        } else {
          throw new UsageError('Image creation needs a size parameter');
        }
        if (fmt !== 'raw') size = Math.ceil(size / 512) * 512;
        checkTarget(size, t);
        if (!o.quiet) print(formattingLine(file, fmt, size, opts));
        writeAtomically(file, (dst, extra) => createImage(dst, size, withExtentFiles(t, extra)));
      },
    );

  img
    .command('convert')
    .description('Convert an image to another format, reading only the parts that hold data')
    .argument('<input>')
    .argument('<output>')
    .option('-f, --format <fmt>', 'input format (detected when absent)')
    .requiredOption('-O, --output-format <fmt>', 'raw, qcow2 or vmdk')
    .option('-o, --options <list>', 'output format options', collect)
    .option(
      '-c, --compress',
      'compress the output (qcow2 clusters; zero clusters stay unallocated)',
    )
    .option('-p, --progress', 'show progress as qemu-img does ("    (NN.NN/100%)" on stdout)')
    .option('-q, --quiet', 'print nothing')
    .action(
      (
        input: string,
        output: string,
        o: {
          format?: string;
          outputFormat: string;
          options?: string[];
          compress?: boolean;
          progress?: boolean;
          quiet?: boolean;
        },
      ) => {
        const fmt = format(o.outputFormat, '-O')!;
        const t = targetSpec(fmt, parseOptions(o.options), output);
        if (o.compress) {
          if (fmt === 'raw') throw new UsageError('Compression not supported for this file format');
          t.compress = true;
        }
        if (t.qcow2?.backingFile !== undefined)
          throw new UsageError('convert does not write backing files (-o backing_file)');
        if (resolve(input) === resolve(output))
          throw new UsageError('input and output are the same file');
        const src = openImageFile(input, { format: format(o.format), readOnly: true });
        // qemu-img: -q wins over -p; the meter starts at 0 and ends with 100 and a newline.
        const meter = o.progress && !o.quiet ? new QemuProgress(process.stdout) : undefined;
        try {
          writeAtomically(output, (dst, extra) => {
            convertImage(src, dst, withExtentFiles(t, extra), meter?.onBytes);
          });
          meter?.print(100);
        } finally {
          meter?.end();
          src.close();
        }
      },
    );

  img.command('map')
    .description('Show where the guest\'s bytes live (allocated, zero, backing file, host offset)')
    .argument('<file>')
    .option('-f, --format <fmt>', 'image format (detected when absent)')
    .option('--output <fmt>', 'human or json', 'human')
    .action(function (this: Command, file: string, o: { format?: string; output: string }) {
      if (o.output !== 'human' && o.output !== 'json')
        throw new UsageError(`--output must be human or json, not '${o.output}'`);
      const image = openImageFile(file, { format: format(o.format), readOnly: true });
      try {
        const entries = mapImage(image);
        if (o.output === 'json') { print(mapJson(entries)); return; }
        // The file of each depth: the image, then its backing files as qemu names them.
        const names = backingChain(image, file).map((c) => c.file);
        const hex = (n: number) => (n === 0 ? '0' : '0x' + n.toString(16)).padEnd(16);
        let s = 'Offset          Length          Mapped to       File\n';
        for (const e of entries) {
          if (e.data && e.offset === undefined) {
            print(s);
            throw new UsageError('File contains external, encrypted or compressed clusters.', 1);
          }
          // A VMDK descriptor's runs name their extent file,
          // joined to the descriptor's folder as qemu does.
          const ext = (e as { file?: string }).file;
          const name =
            ext !== undefined ? file.slice(0, file.lastIndexOf('/') + 1) + ext : names[e.depth];
          if (e.data && !e.zero)
            s += hex(e.start) + hex(e.length) + hex(e.offset ?? 0) + (name ?? '') + '\n';
        }
        print(s);
      } finally {
        image.close();
      }
    });

  img
    .command('resize')
    .description(
      'Grow an image (raw and qcow2; a raw image also shrinks with --shrink): SIZE, +SIZE or -SIZE',
    )
    .argument('<file>')
    .argument('<size>')
    .option('-f, --format <fmt>', 'image format (detected when absent)')
    .option('--shrink', 'allow making a raw image smaller (the data past the new end is lost)')
    .option('-q, --quiet', 'print nothing')
    .action(
      (
        file: string,
        sizeText: string,
        o: { format?: string; shrink?: boolean; quiet?: boolean },
      ) => {
        const src = new FileSource(resolve(file), 'r+');
        try {
          const fmt = format(o.format) ?? detectFormat(src, file);
          if (fmt !== 'raw' && fmt !== 'qcow2')
            throw new UsageError('Image format driver does not support resize');
          const current = fmt === 'raw' ? src.size : readQcow2Header(src).size;
          const rel = /^[+-]/.exec(sizeText)?.[0];
          let delta: number;
          try {
            delta = parseSize(rel ? sizeText.slice(1) : sizeText);
          } catch (e) {
            throw new UsageError((e as Error).message);
          }
          const size = rel === '+' ? current + delta : rel === '-' ? current - delta : delta;
          if (size < 0) throw new UsageError('New image size must be positive');
          if (size < current && !o.shrink) {
            throw new UsageError('Use the --shrink option to perform a shrink operation.');
          }
          if (fmt === 'raw') src.truncate(size);
          else growQcow2(src, size);
        } finally {
          src.close();
        }
        if (!o.quiet) print('Image resized.\n');
      },
    );

  img
    .command('snapshot')
    .description('List, create, apply or delete internal snapshots of a qcow2 image')
    .argument('<file>')
    .option('-l, --list', 'list the snapshots')
    .option('-c, --create <name>', 'create a snapshot of the current contents')
    .option('-d, --delete <name>', 'delete the snapshot with this ID or name')
    .option('-a, --apply <name>', 'revert the disk to the snapshot with this ID or name')
    .option('-f, --format <fmt>', 'image format (detected when absent)')
    .option('-q, --quiet', 'print nothing')
    .action(
      (
        file: string,
        o: { list?: boolean; create?: string; delete?: string; apply?: string; format?: string },
      ) => {
        const n = [
          o.list,
          o.create !== undefined,
          o.delete !== undefined,
          o.apply !== undefined,
        ].filter(Boolean).length;
        if (n !== 1)
          throw new UsageError('snapshot needs exactly one of -l, -c NAME, -d NAME, -a NAME');
        const src = new FileSource(resolve(file), o.list ? 'r' : 'r+');
        try {
          const fmt = format(o.format) ?? detectFormat(src, file);
          if (fmt !== 'qcow2') {
            const action = o.list ? 'list'
              : o.create !== undefined ? 'create'
              : o.apply !== undefined ? 'apply'
              : 'delete';
            throw new UsageError(
              `Could not ${action} snapshot: this image format (${fmt}) has no internal snapshots`,
              1,
            );
          }
          if (o.list) {
            const h = readQcow2Header(src);
            if (h.nbSnapshots > 0) print(snapshotList(snapshotInfo(readSnapshots(src, h).list)));
          } else if (o.create !== undefined) {
            createSnapshot(src, { name: o.create });
          } else {
            try {
              if (o.apply !== undefined) applySnapshot(src, o.apply);
              else deleteSnapshot(src, o.delete!);
            } catch (e) {
              throw new UsageError((e as Error).message, 1);
            }
          }
        } finally {
          src.close();
        }
      },
    );

  img
    .command('compare')
    .description('Compare the contents of two images (exit 0 identical, 1 different)')
    .argument('<image1>')
    .argument('<image2>')
    .option('-f, --format <fmt>', 'format of the first image (detected when absent)')
    .option('-F, --format2 <fmt>', 'format of the second image (detected when absent)')
    .option('-s, --strict', 'images of different sizes differ')
    .option('-q, --quiet', 'print nothing, only set the exit status')
    .action(function (
      this: Command,
      f1: string,
      f2: string,
      o: { format?: string; format2?: string; strict?: boolean; quiet?: boolean },
    ) {
      const a = openImageFile(f1, { format: format(o.format), readOnly: true });
      try {
        const b = openImageFile(f2, { format: format(o.format2, '-F'), readOnly: true });
        try {
          const r = compareImages(a, b, { strict: o.strict });
          const say = (s: string) => {
            if (!o.quiet) print(s + '\n');
          };
          if (r.sizeMismatch)
            say(o.strict ? 'Strict mode: Image size mismatch!' : 'Warning: Image size mismatch!');
          if (r.mismatchAt !== undefined) say(`Content mismatch at offset ${r.mismatchAt}!`);
          if (r.identical) say('Images are identical.');
          setExitStatus(this, r.identical ? 0 : 1);
        } finally {
          b.close();
        }
      } finally {
        a.close();
      }
    });

  img
    .command('check')
    .description(
      "Check an image's metadata (qcow2 refcounts, VMDK grain directory and tables). Exit " +
        'status as qemu-img: 0 clean, 1 check not completed, 2 corruptions, 3 leaks only, ' +
        '63 format without checks',
    )
    .argument('<file>')
    .option('-f, --format <fmt>', 'image format (detected when absent)')
    .option('--output <fmt>', 'human or json', 'human')
    .option('-r, --repair <what>', 'qcow2: repair leaks, or all inconsistencies')
    .action(function (
      this: Command,
      file: string,
      o: { format?: string; output: string; repair?: string },
    ) {
      if (o.output !== 'human' && o.output !== 'json')
        throw new UsageError(`--output must be human or json, not '${o.output}'`);
      if (o.repair !== undefined && o.repair !== 'leaks' && o.repair !== 'all')
        throw new UsageError(
          `Unknown option value for -r (expecting 'leaks' or 'all'): ${o.repair}`,
        );
      const src = new FileSource(resolve(file), o.repair ? 'r+' : 'r');
      let r: CheckResult;
      let repaired: RepairResult | undefined;
      try {
        const fmt = format(o.format) ?? detectFormat(src, file);
        if (fmt === 'qcow2') {
          if (o.repair) {
            repaired = repairQcow2(src, o.repair as 'leaks' | 'all');
            r = repaired.after;
          } else r = checkQcow2(src);
        } else if (fmt === 'vmdk') {
          if (o.repair) throw new UsageError('repair is supported for qcow2 images only');
          r = checkVmdk(src, extentResolver(file));
        } else if (fmt === 'vdi' || fmt === 'vhdx') {
          if (o.repair) throw new UsageError('repair is supported for qcow2 images only');
          r = fmt === 'vdi' ? checkVdi(src) : checkVhdx(src);
        } else throw new UsageError(`This image format does not support checks (${fmt})`, 63);
      } finally {
        src.close();
      }
      // Findings go to stderr and the summary to stdout, as qemu-img does.
      const findings = repaired
        ? [...repaired.before.messages, ...repaired.messages, ...r.messages]
        : r.messages;
      if (findings.length) process.stderr.write(findings.join('\n') + '\n');
      if (o.output === 'json') {
        const fixed = repaired
          ? { leaks: repaired.leaksFixed, corruptions: repaired.corruptionsFixed }
          : undefined;
        print(JSON.stringify(checkJson(r, file, fixed), null, 4) + '\n');
      } else {
        let s = '';
        if (repaired && (repaired.leaksFixed || repaired.corruptionsFixed)) {
          s += 'The following inconsistencies were found and repaired:\n\n' +
            `    ${repaired.leaksFixed} leaked clusters\n` +
            `    ${repaired.corruptionsFixed} corruptions\n\n` +
            'Double checking the fixed image now...\n';
        }
        print(s + formatCheck(r));
      }
      // qemu-img: a check that could not complete ends with "Check failed" and status 1.
      if (r['check-errors'] > 0) process.stderr.write('Check failed\n');
      setExitStatus(this, checkExitStatus(r));
    });
}
