/**
 * Export of a VM that came from an appliance: the original descriptor is the base, and
 * only what the VM changed is rewritten. Its ProductSection and properties, EULAs,
 * annotations, deployment options, startup sections, vendor sections (vmw:Config,
 * vbox:Machine...) and every other virtual system stay as they were read.
 *
 * - Hardware unchanged (the VM configuration equals what the original maps to in one of
 *   its deployment configurations): the VirtualHardwareSection is kept whole; each disk's
 *   File points at the exported image (href, size; ovf:format and, when it changed,
 *   ovf:capacity on its Disk; a stale ovf:populatedSize is dropped).
 * - Hardware changed: that system's VirtualHardwareSection is rebuilt from the VM
 *   configuration; its disks and files replace the old system's; what the rebuilt section
 *   cannot carry (per-configuration items, ovf:bound ranges, vendor elements) is named in
 *   the notes, and a DeploymentOptionSection no item uses any more is dropped.
 * - Files of the package that are not the VM's disks (other systems' disks, ISO images,
 *   kernels) are packed as they are when they are still in the VM's folder; a File that
 *   is not is dropped with a note.
 */
import type { VmConfig } from '../config/types.js';
import type {
  Disk, DiskSection, Envelope, FileRef, Section, VirtualHardwareSection, VirtualSystem,
} from './model.js';
import { findSection, prop, props, virtualSystems } from './model.js';
import type { PackagedFile } from './from-config.js';
import { configurationIds, parseHostResource } from './interpret.js';
import { toVmConfig, type ToConfigResult } from './to-config.js';
import { hrefMemberName } from './paths.js';
import { NS_WASMVISOR } from './namespaces.js';
import { isElementNode, type XmlElement } from './xml-tree.js';

export interface MergeResult {
  envelope: Envelope;
  files: PackagedFile[];
  notes: string[];
}

/** The hardware a VM configuration states, without file names and formats. */
function shape(c: VmConfig): string {
  return JSON.stringify({
    cpus: c.cpus, memoryMiB: c.memoryMiB,
    disks: c.disks.map((d) => ({ controller: d.controller, media: d.media })),
    nics: c.nics.map((n) => ({ model: n.model, network: n.network, mac: n.mac ?? null })),
    serial: c.serial.map((s) => s.port),
    firmware: c.boot.firmware,
  });
}

function clone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

/**
 * Merges the export of `config` (`generated`, with `genFiles`) into `original`.
 * `present(member)` tells whether a package member is still in the VM's folder.
 */
export function mergeWithOriginal(
  original: Envelope,
  generated: Envelope,
  genFiles: PackagedFile[],
  config: VmConfig,
  present: (member: string) => boolean,
): MergeResult {
  const notes: string[] = [];
  const env = clone(original);
  const systems = virtualSystems(env.content);
  const vs = systems.length === 1
    ? systems[0]
    : systems.find((v) => v.id === generated.content?.id || v.name?.text.trim() === config.name)
      ?? systems[0];
  if (!vs) return { envelope: generated, files: genFiles, notes: ['the original descriptor ' +
    'describes no virtual system; the descriptor is rebuilt from the VM configuration'] };
  const genVs = virtualSystems(generated.content)[0];
  const genDisks = findSection(generated.sections, 'DiskSection')?.disks ?? [];
  const genFileOf = (path: string | undefined) =>
    path === undefined ? undefined : genFiles.find((f) => f.path === path);
  const genRef = (id: string) => generated.references.find((f) => f.id === id);

  let matched: ToConfigResult | undefined;
  for (const c of [undefined, ...configurationIds(original)]) {
    try {
      const m = toVmConfig(original, { virtualSystem: vs.id, configuration: c });
      if (shape(m.config) === shape(config)) {
        matched = m;
        break;
      }
    } catch {
      /* not this configuration */
    }
  }

  const files: PackagedFile[] = [];
  const usedIds = new Set<string>();
  /** Generated file id to the id it has in the merged descriptor. */
  const idOf = new Map<string, string>();
  const keepFile = (f: FileRef, path: string) => {
    files.push({ id: f.id, href: f.href, path });
    usedIds.add(f.id);
  };
  const diskSection = findSection(env.sections, 'DiskSection');

  if (matched) {
    // The hardware is the original's: keep its section; point its files at the images.
    for (const link of matched.diskFiles) {
      const d = config.disks[link.index];
      const gf = genFileOf(d?.path);
      if (!gf) continue;
      const gref = genRef(gf.id)!;
      if (link.file) {
        idOf.set(gf.id, link.file.id);
        const f = env.references.find((x) => x.id === link.file!.id)!;
        f.href = gf.href;
        if (gref.size !== undefined) f.size = gref.size;
        else delete f.size;
        delete f.compression;
        delete f.chunkSize;
        keepFile(f, gf.path);
      }
      if (link.diskId) {
        const disk = diskSection?.disks.find((x) => x.diskId === link.diskId);
        const gd = genDisks.find((x) => x.fileRef === gf.id);
        if (disk && gd) updateDisk(disk, gd);
      }
    }
    // Other generated files (a multiboot kernel, modules): the original File naming the
    // same member, else a new File.
    const taken = new Set(env.references.map((f) => f.id));
    for (const gf of genFiles) {
      if (idOf.has(gf.id)) continue;
      const same = env.references.find((f) => hrefMemberName(f.href) === gf.path);
      if (same) {
        idOf.set(gf.id, same.id);
        if (!usedIds.has(same.id)) keepFile(same, gf.path);
        continue;
      }
      let id = gf.id;
      for (let i = 2; taken.has(id); i++) id = `${gf.id}-${i}`;
      taken.add(id);
      const ref = { ...genRef(gf.id)!, id };
      env.references.push(ref);
      idOf.set(gf.id, id);
      keepFile(ref, gf.path);
    }
    notes.push(`kept the original descriptor's sections; hardware unchanged` +
      (matched.configuration ? ` (configuration "${matched.configuration}")` : ''));
  } else {
    // Rebuild this system's hardware; its old disks and files go.
    const oldHw = findSection(vs.sections, 'VirtualHardwareSection')!;
    const genHw = findSection(genVs.sections, 'VirtualHardwareSection')!;
    const oldDisks = new Set<string>();
    const oldFiles = new Set<string>();
    for (const item of oldHw?.items ?? []) {
      for (const hr of props(item, 'HostResource')) {
        const r = parseHostResource(hr);
        if (r?.kind === 'disk') oldDisks.add(r.id);
        if (r?.kind === 'file') oldFiles.add(r.id);
      }
    }
    for (const d of diskSection?.disks ?? [])
      if (oldDisks.has(d.diskId) && d.fileRef) oldFiles.add(d.fileRef);
    const lost = describeLoss(oldHw);
    const hw: VirtualHardwareSection = clone(genHw);
    if (oldHw?.transport !== undefined) hw.transport = oldHw.transport;
    // Fresh ids that cannot clash with the original's.
    const taken = new Set([...env.references.map((f) => f.id),
      ...(diskSection?.disks ?? []).map((d) => d.diskId)]);
    const rename = new Map<string, string>();
    const fresh = (id: string) => {
      let n = id;
      for (let i = 2; taken.has(n); i++) n = `${id}-${i}`;
      taken.add(n);
      rename.set(id, n);
      return n;
    };
    const newRefs: FileRef[] = generated.references.map((f) => ({ ...f, id: fresh(f.id) }));
    const newDisks: Disk[] = genDisks.map((d) => ({
      ...d, diskId: fresh(d.diskId), ...(d.fileRef ? { fileRef: rename.get(d.fileRef)! } : {}),
    }));
    for (const item of hw.items) {
      for (const p of item.props) {
        if (p.name !== 'HostResource') continue;
        const r = parseHostResource(p.value);
        if (r) p.value = `ovf:/${r.kind}/${rename.get(r.id) ?? r.id}`;
      }
    }
    env.references = [...env.references.filter((f) => !oldFiles.has(f.id)), ...newRefs];
    const ds: DiskSection = diskSection ?? { kind: 'DiskSection', info: { text:
      'Virtual disk information' }, disks: [] };
    ds.disks = [...ds.disks.filter((d) => !oldDisks.has(d.diskId)), ...newDisks];
    if (!diskSection && ds.disks.length) env.sections.unshift(ds);
    vs.sections = vs.sections.map((s) => (s === oldHw ? hw : s));
    for (const f of genFiles) {
      const ref = newRefs.find((r) => r.id === rename.get(f.id))!;
      keepFile(ref, f.path);
      idOf.set(f.id, ref.id);
    }
    notes.push('the hardware changed: the VirtualHardwareSection of ' +
      `"${vs.id}" is rebuilt from the VM configuration${lost ? `; not carried: ${lost}` : ''}`);
    dropUnusedOptions(env, notes);
  }

  // wasmvisor's own section (multiboot, boot order, serial backends) follows the VM.
  // Added only when it says something the original did not (a BIOS VM with no boot
  // order and no serial port needs nothing of it).
  const found = genVs.sections.find(isWasmvisorSection);
  const genBoot = found && found.kind === 'unknown'
    ? { kind: 'unknown' as const, xml: renameFileRefs(found.xml, idOf) } : undefined;
  const at = vs.sections.findIndex(isWasmvisorSection);
  const needed = config.boot.firmware === 'multiboot' || config.boot.order !== undefined ||
    config.serial.length > 0;
  if (genBoot && at >= 0) vs.sections[at] = genBoot;
  else if (genBoot && needed) vs.sections.push(genBoot);

  // Every other File: packed as it is if it is still in the folder, else dropped.
  const kept: FileRef[] = [];
  for (const f of env.references) {
    if (usedIds.has(f.id)) {
      kept.push(f);
      continue;
    }
    const member = hrefMemberName(f.href);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(f.href)) {
      kept.push(f);
    } else if (present(member) && f.chunkSize === undefined) {
      delete f.compression;
      kept.push(f);
      keepFile(f, member);
    } else {
      notes.push(`file "${f.href}" (File ${f.id}) is not in the VM's folder; dropped ` +
        'from the package');
      for (const d of diskSection?.disks ?? []) if (d.fileRef === f.id) delete d.fileRef;
    }
  }
  env.references = kept;
  return { envelope: env, files, notes };
}

/** The section with its fileRef attributes (kernel, modules) renamed through `ids`. */
function renameFileRefs(x: XmlElement, ids: Map<string, string>): XmlElement {
  return {
    ...x,
    attrs: x.attrs.map((a) => (a.name === 'fileRef' && ids.has(a.value)
      ? { ...a, value: ids.get(a.value)! } : a)),
    children: x.children.map((c) => (isElementNode(c) ? renameFileRefs(c, ids) : c)),
  };
}

function isWasmvisorSection(s: Section): boolean {
  return s.kind === 'unknown' && s.xml.ns === NS_WASMVISOR;
}

function updateDisk(disk: Disk, gd: Disk): void {
  if (gd.format !== undefined) disk.format = gd.format;
  else delete disk.format;
  const bytes = (d: Disk) => {
    try {
      const unitsMatch = /^\s*byte\s*(?:\*\s*2\s*\^\s*(\d+))?\s*$/i.exec(
        d.capacityAllocationUnits ?? 'byte');
      return unitsMatch ? BigInt(d.capacity.trim()) << BigInt(unitsMatch[1] ?? 0) : undefined;
    } catch {
      return undefined;
    }
  };
  if (bytes(disk) !== BigInt(gd.capacity)) {
    disk.capacity = gd.capacity;
    delete disk.capacityAllocationUnits;
  }
  delete disk.populatedSize;
}

function describeLoss(hw: VirtualHardwareSection | undefined): string {
  if (!hw) return '';
  const out: string[] = [];
  const cfg = hw.items.filter((i) => (i.configuration ?? '').trim() !== '').length;
  const bound = hw.items.filter((i) => ['min', 'max'].includes((i.bound ?? '').trim())).length;
  const vendor = hw.items.reduce((n, i) => n + (i.extra?.length ?? 0), 0) + (hw.extra?.length ?? 0);
  if (cfg) out.push(`${cfg} configuration-specific item(s)`);
  if (bound) out.push(`${bound} ovf:bound range marker(s)`);
  if (vendor) out.push(`${vendor} vendor element(s) (e.g. vmw:Config)`);
  if (hw.items.some((i) => prop(i, 'ResourceSubType') !== undefined))
    out.push('device subtypes (ResourceSubType)');
  return out.join(', ');
}

/** Drops a DeploymentOptionSection once no item or property value names a configuration. */
function dropUnusedOptions(env: Envelope, notes: string[]): void {
  const dos = findSection(env.sections, 'DeploymentOptionSection');
  if (!dos) return;
  const used = virtualSystems(env.content).some((v: VirtualSystem) =>
    v.sections.some((s) =>
      (s.kind === 'VirtualHardwareSection' && s.items.some((i) => (i.configuration ?? '') !== ''))
      || (s.kind === 'ProductSection' && s.entries.some((e) =>
        e.kind === 'Property' && (e.values ?? []).some((x) => x.configuration !== undefined)))));
  if (used) return;
  env.sections = env.sections.filter((s) => s !== dos);
  notes.push('the DeploymentOptionSection is dropped: the rebuilt hardware has one configuration');
}
