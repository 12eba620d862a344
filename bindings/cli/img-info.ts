/**
 * `wasmvisor img info` output: the text and JSON that qemu-img info prints, field for field
 * and in its order.
 */
import { dirname, isAbsolute, join } from 'node:path';
import type { DiskImage, SnapshotInfo } from '../disk/types.js';
import { formatSize } from '../disk/size.js';

/**
 * The image and its backing files, each with the name qemu gives it (relative to the one above).
 */
export function backingChain(
  image: DiskImage,
  file: string,
): Array<{ image: DiskImage; file: string }> {
  const out = [{ image, file }];
  for (;;) {
    const last = out[out.length - 1];
    const name = last.image.info()['backing-filename'];
    const b = (last.image as { backing?: DiskImage }).backing;
    if (name === undefined || !b) return out;
    out.push({ image: b, file: fullBackingName(last.file, name) });
  }
}

function fullBackingName(file: string, backing: string): string {
  return isAbsolute(backing) ? backing : join(dirname(file), backing);
}

function infoWithPath(image: DiskImage, file: string) {
  const i = image.info();
  // qemu-img names the extent by the path it opened, not by the descriptor's line.
  const exts = i['format-specific']?.data.extents as Array<Record<string, unknown>> | undefined;
  // A VMDK descriptor file's extents: their names joined
  // to the descriptor's folder (qemu's path_combine).
  if ((image as { separateExtents?: boolean }).separateExtents) {
    for (const e of exts ?? [])
      if (typeof e.filename === 'string')
        e.filename = file.slice(0, file.lastIndexOf('/') + 1) + e.filename;
  } else if (exts?.[0]) exts[0].filename = file;
  return i;
}

/** `qemu-img info --output json` for one image (keys in qemu-img's order). */
export function infoJson(
  image: DiskImage,
  file: string,
  actualSize: number,
): Record<string, unknown> {
  const i = infoWithPath(image, file);
  const backing = i['backing-filename'];
  const j: Record<string, unknown> = {};
  if (i.snapshots) j.snapshots = i.snapshots;
  if (i['backing-filename-format'] !== undefined)
    j['backing-filename-format'] = i['backing-filename-format'];
  j['virtual-size'] = i['virtual-size'];
  j.filename = file;
  if (i['cluster-size'] !== undefined) j['cluster-size'] = i['cluster-size'];
  j.format = i.format;
  j['actual-size'] = actualSize;
  if (i['format-specific']) j['format-specific'] = i['format-specific'];
  if (backing !== undefined) {
    j['full-backing-filename'] = fullBackingName(file, backing);
    j['backing-filename'] = backing;
  }
  j['dirty-flag'] = i['dirty-flag'] ?? false;
  return j;
}

/** `qemu-img info` text for one image. */
export function infoText(image: DiskImage, file: string, actualSize: number): string {
  const i = infoWithPath(image, file);
  const backing = i['backing-filename'];
  let s = `image: ${file}\nfile format: ${i.format}\n`;
  s += `virtual size: ${formatSize(i['virtual-size'])} (${i['virtual-size']} bytes)\n`;
  s += `disk size: ${formatSize(actualSize)}\n`;
  if (i['cluster-size'] !== undefined) s += `cluster_size: ${i['cluster-size']}\n`;
  if (backing !== undefined) {
    const full = fullBackingName(file, backing);
    s += `backing file: ${backing}${full !== backing ? ` (actual path: ${full})` : ''}\n`;
  }
  if (i['backing-filename-format'] !== undefined)
    s += `backing file format: ${i['backing-filename-format']}\n`;
  if (i.snapshots) s += snapshotList(i.snapshots);
  if (i['format-specific'])
    s += `Format specific information:\n${formatSpecific(i['format-specific'].data, '    ')}`;
  return s;
}

/** qemu-img's "Format specific information" block, indented by four per level. */
function formatSpecific(v: unknown, indent: string): string {
  let s = '';
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      s +=
        typeof item === 'object' && item !== null
          ? `${indent}[${i}]:\n${formatSpecific(item, indent + '    ')}`
          : `${indent}[${i}]: ${item}\n`;
    });
    return s;
  }
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (val === undefined) continue;
    const name = k.replace(/-/g, ' ');
    if (typeof val === 'object' && val !== null)
      s += `${indent}${name}:\n${formatSpecific(val, indent + '    ')}`;
    else s += `${indent}${name}: ${val}\n`;
  }
  return s;
}

/**
 * qemu's bdrv_snapshot_dump: "%-10s%-17s%8s%20s%13s%11s"
 * heading, "%-9s %-16s %8s%20s%13s%11s" rows.
 */
export function snapshotList(list: SnapshotInfo[]): string {
  const l = (s: string, n: number) => s.padEnd(n), r = (s: string, n: number) => s.padStart(n);
  let s = 'Snapshot list:\n' + l('ID', 10) + l('TAG', 17) + r('VM SIZE', 8) + r('DATE', 20) +
    r('VM CLOCK', 13) + r('ICOUNT', 11) + '\n';
  const p2 = (n: number) => String(n).padStart(2, '0');
  for (const sn of list) {
    const d = new Date(sn['date-sec'] * 1000); // local time, as qemu's localtime_r
    const date = `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ` +
      `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
    const secs = sn['vm-clock-sec'];
    const millis = String(Math.floor(sn['vm-clock-nsec'] / 1e6) % 1000).padStart(3, '0');
    const clock =
      `${p2(Math.floor(secs / 3600))}:${p2(Math.floor(secs / 60) % 60)}:${p2(secs % 60)}.${millis}`;
    const icount = sn.icount !== undefined ? String(sn.icount) : '';
    s += l(sn.id, 9) + ' ' + l(sn.name, 16) + ' ' + r(formatSize(sn['vm-state-size']), 8) +
      r(date, 20) + r(clock, 13) + r(icount, 11) + '\n';
  }
  return s;
}

