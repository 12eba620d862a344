/**
 * A minimal ISO 9660 image writer (ECMA-119, 2nd edition, level 1 interchange): one
 * volume, files in the root directory. Enough for the OVF environment's "iso" transport
 * (DSP0243 11.2), where the platform attaches an image holding `ovf-env.xml`.
 *
 * Layout, in 2048-byte logical sectors: 0-15 system area (zeros, 6.2.1), 16 Primary Volume
 * Descriptor (8.4), 17 Volume Descriptor Set Terminator (8.3), 18 and 19 the L and M path
 * tables (9.4, little- and big-endian), 20 the root directory (9.1), then each file's data.
 */

const SECTOR = 2048;

export interface IsoFile {
  /** Level 1 file identifier: up to 8 d-characters, ".", up to 3 (ECMA-119 7.5, 10.1). */
  name: string;
  data: Uint8Array;
}

/** d-characters (ECMA-119 7.4.1): A-Z, 0-9 and "_". */
function dchars(s: string, what: string): string {
  if (!/^[A-Z0-9_]*$/.test(s)) throw new Error(`ISO 9660 ${what} "${s}": only A-Z, 0-9, _`);
  return s;
}

export function iso9660(files: IsoFile[], volumeId: string, date = new Date(0)): Uint8Array {
  for (const f of files) {
    const m = /^([^.]{1,8})\.([^.]{0,3})$/.exec(f.name);
    if (!m) throw new Error(`ISO 9660 level 1 file name "${f.name}" is not 8.3`);
    dchars(m[1], 'file name');
    dchars(m[2], 'file name');
  }
  dchars(volumeId, 'volume identifier');
  const rootSector = 20;
  let next = 21;
  const extents = files.map((f) => {
    const at = next;
    next += Math.max(1, Math.ceil(f.data.length / SECTOR));
    return at;
  });
  const total = next;
  const img = new Uint8Array(total * SECTOR);
  const dv = new DataView(img.buffer);
  const both32 = (o: number, v: number) => {
    dv.setUint32(o, v, true);
    dv.setUint32(o + 4, v, false);
  };
  const both16 = (o: number, v: number) => {
    dv.setUint16(o, v, true);
    dv.setUint16(o + 2, v, false);
  };
  const text = (o: number, len: number, s: string) => {
    for (let i = 0; i < len; i++) img[o + i] = i < s.length ? s.charCodeAt(i) : 0x20;
  };
  // 9.1.5: recording date, 7 bytes (years since 1900, month, day, h, m, s, GMT offset).
  const recDate = (o: number) => {
    img.set([date.getUTCFullYear() - 1900, date.getUTCMonth() + 1, date.getUTCDate(),
      date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(), 0], o);
  };
  // 8.4.26.1: volume dates, 16 digits and a GMT offset byte.
  const volDate = (o: number, d: Date | null) => {
    const p = (n: number, w: number) => String(n).padStart(w, '0');
    const s = d
      ? p(d.getUTCFullYear(), 4) + p(d.getUTCMonth() + 1, 2) + p(d.getUTCDate(), 2) +
        p(d.getUTCHours(), 2) + p(d.getUTCMinutes(), 2) + p(d.getUTCSeconds(), 2) + '00'
      : '0000000000000000';
    text(o, 16, s);
    img[o + 16] = 0;
  };
  /** A directory record (9.1) at `o`; returns its length. */
  const record = (o: number, id: Uint8Array, extent: number, size: number, dir: boolean) => {
    const len = 33 + id.length + (id.length % 2 === 0 ? 1 : 0);
    img[o] = len;
    both32(o + 2, extent);
    both32(o + 10, size);
    recDate(o + 18);
    img[o + 25] = dir ? 2 : 0;
    both16(o + 28, 1);
    img[o + 32] = id.length;
    img.set(id, o + 33);
    return len;
  };
  const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

  // Root directory: ".", "..", then the files (9.3: identifiers in ascending order).
  const sorted = files.map((f, i) => ({ f, extent: extents[i] }))
    .sort((a, b) => (a.f.name < b.f.name ? -1 : 1));
  let o = rootSector * SECTOR;
  o += record(o, Uint8Array.of(0), rootSector, SECTOR, true);
  o += record(o, Uint8Array.of(1), rootSector, SECTOR, true);
  for (const { f, extent } of sorted) {
    if (o + 34 + f.name.length + 2 > (rootSector + 1) * SECTOR)
      throw new Error('ISO 9660: too many files for one root directory sector');
    o += record(o, ascii(`${f.name};1`), extent, f.data.length, false);
  }
  files.forEach((f, i) => img.set(f.data, extents[i] * SECTOR));

  // Path tables (9.4): the root only; L (little-endian) at 18, M (big-endian) at 19.
  for (const [sector, le] of [[18, true], [19, false]] as const) {
    const p = sector * SECTOR;
    img[p] = 1;
    dv.setUint32(p + 2, rootSector, le);
    dv.setUint16(p + 6, 1, le);
    img[p + 8] = 0;
  }

  // Primary Volume Descriptor (8.4).
  const v = 16 * SECTOR;
  img[v] = 1;
  text(v + 1, 5, 'CD001');
  img[v + 6] = 1;
  text(v + 8, 32, '');
  text(v + 40, 32, volumeId);
  both32(v + 80, total);
  both16(v + 120, 1);
  both16(v + 124, 1);
  both16(v + 128, SECTOR);
  both32(v + 132, 10);
  dv.setUint32(v + 140, 18, true);
  dv.setUint32(v + 148, 19, false);
  record(v + 156, Uint8Array.of(0), rootSector, SECTOR, true);
  text(v + 190, 128, '');
  text(v + 318, 128, '');
  text(v + 446, 128, '');
  text(v + 574, 128, 'WASMVISOR');
  text(v + 702, 37 * 3, '');
  volDate(v + 813, date);
  volDate(v + 830, date);
  volDate(v + 847, null);
  volDate(v + 864, null);
  img[v + 881] = 1;
  // Volume Descriptor Set Terminator (8.3).
  const t = 17 * SECTOR;
  img[t] = 255;
  text(t + 1, 5, 'CD001');
  img[t + 6] = 1;
  return img;
}
