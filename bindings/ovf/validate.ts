/**
 * Semantic checks of an OVF envelope beyond well-formedness: the references between
 * files, disks, networks, items and deployment configurations (DSP0243 sections 7-9),
 * and the plausibility of sizes. Reading is lenient; this is where a descriptor is
 * judged. Errors make the package unusable; warnings are worth telling the user.
 */
import type { Content, Envelope, VirtualHardwareSection } from './model.js';
import { findSection, prop, props } from './model.js';
import { ResourceType, resourceTypeName } from './resource-types.js';
import { MAX_DISK_CAPACITY_BYTES, MAX_MEMORY_BYTES, sizeInBytes } from './units.js';
import { OvfError } from './errors.js';
import { configurationIds, intOf, parseHostResource } from './interpret.js';
import { checkPackagePath } from './paths.js';
import { checkProducts } from './validate-product.js';

export interface ValidationIssue {
  severity: 'error' | 'warning';
  /**
   * Where in the descriptor, as an element path with ids, e.g.
   * `VirtualSystem[vm]/Item[InstanceID=4]`.
   */
  where: string;
  message: string;
}

export interface ValidationResult {
  ok: boolean;
  issues: ValidationIssue[];
}

/** ResourceTypes that can be an item's Parent: controllers and slots. */
const CONTROLLER_TYPES = new Set<number>([
  ResourceType.IdeController,
  ResourceType.ParallelScsiHba,
  ResourceType.FcHba,
  ResourceType.IscsiHba,
  ResourceType.IbHca,
  ResourceType.OtherStorageDevice,
  ResourceType.UsbController,
  ResourceType.IoSlot,
  ResourceType.Ieee1394Controller,
  ResourceType.Other,
]);

export interface ValidateOptions {
  maxDiskCapacityBytes?: number;
}

export function validateOvf(env: Envelope, opts: ValidateOptions = {}): ValidationResult {
  const issues: ValidationIssue[] = [];
  const err = (where: string, message: string) =>
    issues.push({ severity: 'error', where, message });
  const warn = (where: string, message: string) =>
    issues.push({ severity: 'warning', where, message });
  const limit = opts.maxDiskCapacityBytes ?? MAX_DISK_CAPACITY_BYTES;

  // References (DSP0243 7.1).
  const fileIds = new Set<string>();
  const hrefs = new Set<string>();
  for (const f of env.references) {
    const where = `References/File[${f.id}]`;
    if (fileIds.has(f.id)) err(where, `duplicate file id "${f.id}"`);
    fileIds.add(f.id);
    if (hrefs.has(f.href.toLowerCase())) err(where, `duplicate file href "${f.href}"`);
    hrefs.add(f.href.toLowerCase());
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(f.href))
      warn(where, `href "${f.href}" is an external URL; it is not part of the package`);
    else {
      const bad = checkPackagePath(f.href);
      if (bad) err(where, `href "${f.href}": ${bad}`);
    }
    if (f.size !== undefined && intOf(f.size) === undefined && !/^\d+$/.test(f.size.trim()))
      err(where, `ovf:size "${f.size}" is not a non-negative integer`);
    if (f.compression !== undefined && !['gzip', 'identity'].includes(f.compression)) {
      err(where, `ovf:compression "${f.compression}" is not supported (DSP0243 7.1 defines gzip)`);
    }
  }

  // DiskSection (DSP0243 9.1).
  const disks = findSection(env.sections, 'DiskSection');
  const diskIds = new Set<string>();
  for (const d of disks?.disks ?? []) {
    const where = `DiskSection/Disk[${d.diskId}]`;
    if (diskIds.has(d.diskId)) err(where, `duplicate disk id "${d.diskId}"`);
    diskIds.add(d.diskId);
    if (d.fileRef !== undefined && !fileIds.has(d.fileRef))
      err(where, `ovf:fileRef "${d.fileRef}" names no File in References`);
    // A property reference, resolved at deployment.
    if (/^\$\{.+\}$/.test(d.capacity.trim())) continue;
    try {
      sizeInBytes(d.capacity, d.capacityAllocationUnits, 'capacity', limit, {});
    } catch (e) {
      err(where, (e as OvfError).message);
    }
  }
  for (const d of disks?.disks ?? []) {
    if (d.parentRef !== undefined && !diskIds.has(d.parentRef))
      err(`DiskSection/Disk[${d.diskId}]`, `ovf:parentRef "${d.parentRef}" names no Disk`);
  }

  const networks = new Set(
    (findSection(env.sections, 'NetworkSection')?.networks ?? []).map((n) => n.name),
  );
  const configs = new Set(configurationIds(env));

  if (!env.content)
    err(
      'Envelope',
      'the envelope describes no VirtualSystem or VirtualSystemCollection (DSP0243 7.2)',
    );
  const vsIds = new Set<string>();
  const visit = (c: Content, path: string) => {
    const where = `${path}${c.kind}[${c.id}]`;
    if (vsIds.has(c.id)) err(where, `duplicate content id "${c.id}"`);
    vsIds.add(c.id);
    if (c.kind === 'VirtualSystemCollection') {
      c.content.forEach((x) => visit(x, where + '/'));
      return;
    }
    const hws = c.sections.filter(
      (s): s is VirtualHardwareSection => s.kind === 'VirtualHardwareSection',
    );
    if (hws.length === 0)
      err(where, 'a VirtualSystem needs a VirtualHardwareSection (DSP0243 8.1)');
    for (const hw of hws)
      checkHardware(hw, where, { err, warn, diskIds, fileIds, networks, configs });
  };
  if (env.content) visit(env.content, '');

  // At most one of each of these sections per envelope (DSP0243 9.1, 9.2, 9.8).
  for (const kind of ['DiskSection', 'NetworkSection', 'DeploymentOptionSection'] as const) {
    if (env.sections.filter((s) => s.kind === kind).length > 1)
      err('Envelope', `more than one ${kind}`);
  }
  checkProducts(env, warn);
  return { ok: !issues.some((i) => i.severity === 'error'), issues };
}

interface HwCtx {
  err: (w: string, m: string) => void;
  warn: (w: string, m: string) => void;
  diskIds: Set<string>;
  fileIds: Set<string>;
  networks: Set<string>;
  configs: Set<string>;
}

function checkHardware(hw: VirtualHardwareSection, vsWhere: string, x: HwCtx): void {
  const byId = new Map<string, number>();
  // Items for disjoint deployment configurations may share an InstanceID (VMware writes
  // per-configuration variants of one item); two that can apply together may not.
  const seen = new Map<string, (string[] | null)[]>();
  const overlaps = (a: string[] | null, b: string[] | null) =>
    a === null || b === null || a.some((c) => b.includes(c));
  for (const item of hw.items) {
    const id = prop(item, 'InstanceID');
    const rt = intOf(prop(item, 'ResourceType'));
    const where = `${vsWhere}/${item.element}[InstanceID=${id ?? '?'}]`;
    const cfgs = item.configuration?.trim() ? item.configuration.trim().split(/\s+/) : null;
    if (id === undefined) x.err(where, 'item has no InstanceID');
    else if ((seen.get(id) ?? []).some((o) => overlaps(o, cfgs)))
      x.err(where, `duplicate InstanceID "${id}"`);
    if (id !== undefined) seen.set(id, [...(seen.get(id) ?? []), cfgs]);
    if (rt === undefined) x.err(where, 'item has no valid ResourceType');
    if (id !== undefined && rt !== undefined) byId.set(id, rt);
    for (const cfg of (item.configuration ?? '').trim().split(/\s+/).filter(Boolean)) {
      if (!x.configs.has(cfg))
        x.err(
          where,
          `ovf:configuration "${cfg}" names no Configuration in DeploymentOptionSection`,
        );
    }
  }
  for (const item of hw.items) {
    const id = prop(item, 'InstanceID');
    const rt = intOf(prop(item, 'ResourceType'));
    const where = `${vsWhere}/${item.element}[InstanceID=${id ?? '?'}]`;
    const parent = prop(item, 'Parent');
    if (parent !== undefined) {
      const prt = byId.get(parent);
      if (prt === undefined) x.err(where, `Parent "${parent}" names no item`);
      else if (!CONTROLLER_TYPES.has(prt))
        x.err(
          where,
          `Parent "${parent}" is an item of type ` +
            `${resourceTypeName(prt)} (${prt}), not a controller`,
        );
    }
    if (
      rt === ResourceType.DiskDrive ||
      rt === ResourceType.StorageExtent ||
      rt === ResourceType.CdDrive ||
      rt === ResourceType.DvdDrive ||
      rt === ResourceType.FloppyDrive ||
      rt === ResourceType.LogicalDisk
    ) {
      for (const hr of props(item, 'HostResource')) {
        if (hr === '') continue;
        const ref = parseHostResource(hr);
        if (!ref) x.err(where, `HostResource "${hr}" is neither ovf:/disk/<id> nor ovf:/file/<id>`);
        else if (ref.kind === 'disk' && !x.diskIds.has(ref.id))
          x.err(where, `HostResource "${hr}" names no Disk in DiskSection`);
        else if (ref.kind === 'file' && !x.fileIds.has(ref.id))
          x.err(where, `HostResource "${hr}" names no File in References`);
      }
    }
    if (rt === ResourceType.EthernetAdapter) {
      for (const c of props(item, 'Connection')) {
        if (c && !x.networks.has(c))
          x.warn(where, `Connection "${c}" names no Network in NetworkSection`);
      }
    }
    if (rt === ResourceType.Processor) {
      const n = intOf(prop(item, 'VirtualQuantity'));
      if (n === undefined || n < 1)
        x.err(
          where,
          `VirtualQuantity "${prop(item, 'VirtualQuantity') ?? ''}" is not a processor count`,
        );
    }
    if (rt === ResourceType.Memory) {
      try {
        sizeInBytes(
          prop(item, 'VirtualQuantity'),
          prop(item, 'AllocationUnits'),
          'memory',
          MAX_MEMORY_BYTES,
          {},
          'byte * 2^20',
        );
      } catch (e) {
        x.err(where, (e as OvfError).message);
      }
    }
  }
}
