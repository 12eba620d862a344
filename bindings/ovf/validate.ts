/**
 * Semantic checks of an OVF envelope beyond well-formedness: the references between
 * files, disks, networks, items and deployment configurations (DSP0243 sections 7-9),
 * and the plausibility of sizes. Reading is lenient; this is where a descriptor is
 * judged. Errors make the package unusable; warnings are worth telling the user.
 */
import type { Content, Envelope, HardwareItem, VirtualHardwareSection } from './model.js';
import { findSection, prop, props } from './model.js';
import { ResourceType, resourceTypeName } from './resource-types.js';
import { MAX_DISK_CAPACITY_BYTES, MAX_MEMORY_BYTES, sizeInBytes } from './units.js';
import { OvfError } from './errors.js';
import {
  boundOf, configurationIds, effectiveItems, intOf, isConfigurationSpecific, itemApplies,
  memoryQuantity, parseHostResource,
} from './interpret.js';
import { resolveHref } from './paths.js';
import { checkProducts } from './validate-product.js';
import { checkRules } from './validate-rules.js';

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
    const target = resolveHref(f.href);
    const key = (target.kind === 'member' ? target.name : f.href).toLowerCase();
    if (hrefs.has(key)) err(where, `duplicate file href "${f.href}"`);
    hrefs.add(key);
    // DSP0243 7.1: ovf:href is a URL, relative ones resolved against the descriptor.
    // Parsing never depends on where it points; opening a file outside the package does.
    if (target.kind === 'external')
      warn(where, `href "${f.href}" is an external URL; it is not part of the package`);
    else if (target.kind === 'outside')
      warn(where, `href "${f.href}" leaves the package (${target.problem}); ` +
        'import and the file checks refuse to read it');
    else if (target.backslash)
      warn(where, `href "${f.href}" uses backslashes; read as "${target.name}"`);
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
    // ovf:fileRef absent, or empty as VMware writes it, is a blank disk to be created
    // (DSP0243 9.1: "if ovf:fileRef is not specified, an empty disk is created").
    if (d.fileRef !== undefined && d.fileRef !== '' && !fileIds.has(d.fileRef))
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
    // oVirt writes ovf:parentRef="" on a disk with no parent.
    if (d.parentRef !== undefined && d.parentRef !== '' && !diskIds.has(d.parentRef))
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
      checkHardware(hw, where, {
        v09: env.family === '0.9', err, warn, diskIds, fileIds, networks, configs,
      });
  };
  if (env.content) visit(env.content, '');

  // At most one of each of these sections per envelope (DSP0243 9.1, 9.2, 9.8).
  for (const kind of ['DiskSection', 'NetworkSection', 'DeploymentOptionSection'] as const) {
    if (env.sections.filter((s) => s.kind === kind).length > 1)
      err('Envelope', `more than one ${kind}`);
  }
  checkProducts(env, warn);
  checkRules(env, err, warn);
  return { ok: !issues.some((i) => i.severity === 'error'), issues };
}

interface HwCtx {
  v09: boolean;
  err: (w: string, m: string) => void;
  warn: (w: string, m: string) => void;
  diskIds: Set<string>;
  fileIds: Set<string>;
  networks: Set<string>;
  configs: Set<string>;
}

function checkHardware(hw: VirtualHardwareSection, vsWhere: string, x: HwCtx): void {
  const byId = new Map<string, number>();
  for (const item of hw.items) {
    const id = prop(item, 'InstanceID');
    const rt = intOf(prop(item, 'ResourceType'));
    const where = `${vsWhere}/${item.element}[InstanceID=${id ?? '?'}]`;
    if (id === undefined) x.err(where, 'item has no InstanceID (DSP0243 8.3)');
    else if (!item.props.some((p) => p.name === 'InstanceID') && !x.v09)
      x.warn(where, 'rasd:InstanceId is not a RASD property (the CIM name is InstanceID); ' +
        'read as InstanceID, as ovftool does');
    if (rt === undefined) x.err(where, 'item has no valid ResourceType (DSP0243 8.3)');
    if (id !== undefined && rt !== undefined && boundOf(item) === 'normal') byId.set(id, rt);
    const bound = boundOf(item);
    if (!['min', 'max', 'normal'].includes(bound))
      x.err(where, `ovf:bound "${item.bound}" is none of min, max, normal (DSP0243 8.4)`);
    for (const cfg of (item.configuration ?? '').trim().split(/\s+/).filter(Boolean)) {
      if (!x.configs.has(cfg))
        x.err(
          where,
          `ovf:configuration "${cfg}" names no Configuration in DeploymentOptionSection`,
        );
    }
  }
  checkInstances(hw, vsWhere, x);
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
    // VirtualQuantity is optional in RASD; an item may give only a Reservation or Limit.
    const vq = prop(item, 'VirtualQuantity');
    if (rt === ResourceType.Processor && vq !== undefined) {
      const n = intOf(vq);
      if (n === undefined || n < 1)
        x.err(where, `VirtualQuantity "${vq}" is not a processor count`);
    }
    if (rt === ResourceType.Memory) {
      const q = memoryQuantity(item);
      if (q.value === undefined)
        x.warn(where, 'memory item with no VirtualQuantity, Reservation or Limit');
      else
        try {
          const n = sizeInBytes(
            q.value, prop(item, 'AllocationUnits'), 'memory', MAX_MEMORY_BYTES, {}, 'byte * 2^20',
          );
          if (n === 0 && boundOf(item) !== 'min') x.err(where, `memory ${q.from} of 0 bytes`);
        } catch (e) {
          x.err(where, (e as OvfError).message);
        }
    }
  }
}

/**
 * Items that share an InstanceID describe one resource (DSP0243 8.3: InstanceID
 * identifies the item). Per configuration in force (every declared one, or none):
 * - at most one item for all configurations and one naming the configuration, which
 *   replaces it (DSP0243 9.8; see effectiveItems);
 * - at most one ovf:bound="min" and one "max" range marker, each with a normal item of the
 *   same ResourceType, whose value lies within the range (DSP0243 8.4).
 */
function checkInstances(hw: VirtualHardwareSection, vsWhere: string, x: HwCtx): void {
  const said = new Set<string>();
  const once = (where: string, message: string) => {
    if (said.has(where + message)) return;
    said.add(where + message);
    x.err(where, message);
  };
  const configs: (string | undefined)[] = x.configs.size ? [...x.configs] : [undefined];
  for (const cfg of configs) {
    const byId = new Map<string, HardwareItem[]>();
    for (const item of hw.items) {
      const id = prop(item, 'InstanceID');
      if (id === undefined || !itemApplies(item, cfg)) continue;
      byId.set(id, [...(byId.get(id) ?? []), item]);
    }
    for (const [id, group] of byId) {
      const where = `${vsWhere}/${group[0].element}[InstanceID=${id}]`;
      const inCfg = cfg === undefined ? '' : ` in configuration "${cfg}"`;
      const normal = group.filter((i) => boundOf(i) === 'normal');
      for (const specific of [false, true]) {
        if (normal.filter((i) => isConfigurationSpecific(i) === specific).length > 1)
          once(where, `duplicate InstanceID "${id}"${inCfg} (DSP0243 8.3)`);
      }
      for (const b of ['min', 'max'] as const) {
        const markers = group.filter((i) => boundOf(i) === b);
        for (const specific of [false, true]) {
          if (markers.filter((i) => isConfigurationSpecific(i) === specific).length > 1)
            once(where, `more than one ovf:bound="${b}" item for InstanceID "${id}"${inCfg} ` +
              '(DSP0243 8.4)');
        }
      }
      const value = effectiveItems(group, cfg)[0];
      if (!value) continue;
      if (boundOf(value.item) !== 'normal') {
        once(where, `a range marker (ovf:bound) for InstanceID "${id}" with no normal ` +
          `item${inCfg} (DSP0243 8.4)`);
        continue;
      }
      const rt = prop(value.item, 'ResourceType');
      const q = (i: HardwareItem) => intOf(prop(i, 'VirtualQuantity'));
      for (const m of [value.min, value.max]) {
        if (!m) continue;
        if (prop(m, 'ResourceType') !== rt)
          once(where, `the ovf:bound="${m.bound}" item's ResourceType differs from the ` +
            `normal item's (DSP0243 8.4)`);
      }
      const [lo, v, hi] = [value.min && q(value.min), q(value.item), value.max && q(value.max)];
      if (v !== undefined && ((lo !== undefined && v < lo) || (hi !== undefined && v > hi)))
        once(where, `the normal VirtualQuantity ${v} is outside its range ` +
          `${lo ?? ''}..${hi ?? ''}${inCfg} (DSP0243 8.4)`);
    }
  }
}
