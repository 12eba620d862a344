/**
 * The VMDK text descriptor (VMDK 5.0, "The Descriptor File"): header lines
 * (version, CID, parentCID, createType), extent descriptions and the disk database (ddb).
 * Unknown lines are kept so a descriptor reads back as it was.
 */

export interface Extent {
  access: string;
  sectors: number;
  type: string;
  file?: string;
  offset?: number;
}

export interface Descriptor {
  fields: Map<string, string>;
  extents: Extent[];
  /** The 1-based line number of each extent description, for error messages. */
  extentLines: number[];
  ddb: Map<string, string>;
  lines: string[];
  /** Line numbers (1-based) of lines that are neither comments, extents nor key = value. */
  unparsed: number[];
}

const NO_PARENT = 'ffffffff';
/** Embedded descriptors are capped in size by the header check; this bounds the line work. */
const MAX_LINES = 10000;

export function parseDescriptor(text: string): Descriptor {
  const d: Descriptor = {
    fields: new Map(),
    extents: [],
    extentLines: [],
    ddb: new Map(),
    lines: [],
    unparsed: [],
  };
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    if (i >= MAX_LINES) return;
    const line = raw.trim();
    d.lines.push(raw);
    if (line === '' || line.startsWith('#')) return;
    const ext = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+(\w+)(?:\s+"([^"]*)"(?:\s+(\d+))?)?\s*$/.exec(
      line,
    );
    if (ext) {
      d.extents.push({
        access: ext[1],
        sectors: Number(ext[2]),
        type: ext[3],
        file: ext[4],
        offset: ext[5] !== undefined ? Number(ext[5]) : undefined,
      });
      d.extentLines.push(i + 1);
      return;
    }
    // key = value, or key = "value" (quotes inside a quoted value are kept).
    const kv = /^([A-Za-z0-9_.]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (!kv) {
      // Like QEMU, lines this reader does not need are kept but not interpreted.
      d.unparsed.push(i + 1);
      return;
    }
    const v =
      kv[2].length >= 2 && kv[2].startsWith('"') && kv[2].endsWith('"')
        ? kv[2].slice(1, -1)
        : kv[2];
    (kv[1].startsWith('ddb.') ? d.ddb : d.fields).set(kv[1], v);
  });
  return d;
}

export function hasParent(d: Descriptor): boolean {
  const p = d.fields.get('parentCID');
  return p !== undefined && p.toLowerCase() !== NO_PARENT;
}

export interface NewDescriptor {
  createType:
    | 'monolithicSparse'
    | 'streamOptimized'
    | 'monolithicFlat'
    | 'twoGbMaxExtentSparse'
    | 'twoGbMaxExtentFlat';
  sectors: number;
  /** The one SPARSE extent of a single-file image. */
  extentName?: string;
  /** The extent lines of a descriptor file (flat extents carry an offset, as QEMU writes them). */
  extents?: Array<{ sectors: number; type: 'SPARSE' | 'FLAT'; file: string }>;
  cid?: number;
  adapterType?: string;
}

/** A descriptor as QEMU writes one (geometry from the LBA size, 16 heads, 63 sectors). */
export function buildDescriptor(o: NewDescriptor): string {
  const cid = o.cid ?? (globalThis.crypto.getRandomValues(new Uint32Array(1))[0] | 0) >>> 0;
  const cylinders = Math.min(Math.floor(o.sectors / (16 * 63)), 16383);
  const quote = (f: string) => f.replace(/"/g, '');
  const extentLines = o.extents
    ? o.extents.map(
        (e) => `RW ${e.sectors} ${e.type} "${quote(e.file)}"${e.type === 'FLAT' ? ' 0' : ''}`,
      )
    : [`RW ${o.sectors} SPARSE "${quote(o.extentName ?? 'disk.vmdk')}"`];
  return [
    '# Disk DescriptorFile',
    'version=1',
    // qemu writes "CID=%" PRIx32: lower-case hex, not padded.
    `CID=${cid.toString(16)}`,
    `parentCID=${NO_PARENT}`,
    `createType="${o.createType}"`,
    '',
    '# Extent description',
    ...extentLines,
    '',
    '# The Disk Data Base',
    '#DDB',
    '',
    'ddb.virtualHWVersion = "4"',
    `ddb.geometry.cylinders = "${cylinders}"`,
    'ddb.geometry.heads = "16"',
    'ddb.geometry.sectors = "63"',
    `ddb.adapterType = "${o.adapterType ?? 'ide'}"`,
    // QEMU 7.2 writes this line into the descriptor files of split and flat images.
    ...(o.extents ? ['ddb.toolsVersion = "2147483647"'] : []),
    '',
  ].join('\n');
}
