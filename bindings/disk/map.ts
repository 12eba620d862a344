/**
 * `img map`: the whole disk as runs of where its bytes live, merged as qemu-img merges them
 * (same depth, flags and presence of an offset, and offsets that continue each other).
 */
import type { DiskImage, MapEntry } from './types.js';
import { ImageError } from './errors.js';

export function mapImage(img: DiskImage): MapEntry[] {
  const out: MapEntry[] = [];
  for (let pos = 0; pos < img.size;) {
    const e = img.mapRange(pos, img.size - pos);
    if (e.length <= 0) throw new ImageError(`map at ${pos} returned an empty run`);
    const last = out[out.length - 1];
    if (last && mergeable(last, e)) last.length += e.length;
    else out.push({ ...e });
    pos += e.length;
  }
  return out;
}

function mergeable(a: MapEntry, b: MapEntry): boolean {
  if (a.zero !== b.zero || a.data !== b.data || a.depth !== b.depth || a.present !== b.present)
    return false;
  if ((a.offset === undefined) !== (b.offset === undefined)) return false;
  return a.offset === undefined || a.offset + a.length === b.offset;
}

/** `qemu-img map --output json`, byte for byte. */
export function mapJson(entries: MapEntry[]): string {
  const line = (e: MapEntry) =>
    `{ "start": ${e.start}, "length": ${e.length}, "depth": ` +
      `${e.depth}, "present": ${e.present}, "zero": ${e.zero}, "data": ` +
      `${e.data}${e.offset !== undefined ? `, "offset": ${e.offset}` : ''}}`;
  return '[' + entries.map(line).join(',\n') + ']\n';
}
