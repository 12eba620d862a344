/**
 * The VMDK text descriptor (VMDK 5.0, "The Descriptor File"): header lines
 * (version, CID, parentCID, createType), extent descriptions and the disk database (ddb).
 * Unknown lines are kept so a descriptor reads back as it was.
 */
import { ImageError } from '../errors.js';

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
  ddb: Map<string, string>;
  lines: string[];
}

const NO_PARENT = 'ffffffff';

export function parseDescriptor(text: string, where: string): Descriptor {
  const d: Descriptor = { fields: new Map(), extents: [], ddb: new Map(), lines: [] };
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    d.lines.push(raw);
    if (line === '' || line.startsWith('#')) return;
    const ext = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+(\w+)(?:\s+"([^"]*)"(?:\s+(\d+))?)?\s*$/.exec(line);
    if (ext) {
      d.extents.push({ access: ext[1], sectors: Number(ext[2]), type: ext[3], file: ext[4], offset: ext[5] !== undefined ? Number(ext[5]) : undefined });
      return;
    }
    const kv = /^([A-Za-z0-9_.]+)\s*=\s*"?([^"]*)"?\s*$/.exec(line);
    if (!kv) throw new ImageError(`vmdk: ${where}, line ${i + 1}: cannot parse "${line.slice(0, 80)}"`, 'descriptor');
    (kv[1].startsWith('ddb.') ? d.ddb : d.fields).set(kv[1], kv[2]);
  });
  return d;
}

export function hasParent(d: Descriptor): boolean {
  const p = d.fields.get('parentCID');
  return p !== undefined && p.toLowerCase() !== NO_PARENT;
}

export interface NewDescriptor {
  createType: 'monolithicSparse' | 'streamOptimized';
  sectors: number;
  extentName: string;
  cid?: number;
  adapterType?: string;
}

/** A descriptor as QEMU writes one (geometry from the LBA size, 16 heads, 63 sectors). */
export function buildDescriptor(o: NewDescriptor): string {
  const cid = o.cid ?? (globalThis.crypto.getRandomValues(new Uint32Array(1))[0] | 0) >>> 0;
  const cylinders = Math.min(Math.floor(o.sectors / (16 * 63)), 16383);
  return [
    '# Disk DescriptorFile',
    'version=1',
    `CID=${cid.toString(16).padStart(8, '0')}`,
    `parentCID=${NO_PARENT}`,
    `createType="${o.createType}"`,
    '',
    '# Extent description',
    `RW ${o.sectors} SPARSE "${o.extentName.replace(/"/g, '')}"`,
    '',
    '# The Disk Data Base',
    '#DDB',
    '',
    'ddb.virtualHWVersion = "4"',
    `ddb.geometry.cylinders = "${cylinders}"`,
    'ddb.geometry.heads = "16"',
    'ddb.geometry.sectors = "63"',
    `ddb.adapterType = "${o.adapterType ?? 'ide'}"`,
    '',
  ].join('\n');
}
