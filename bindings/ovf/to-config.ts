/**
 * From appliance to VM: maps one VirtualSystem of an envelope (with the deployment
 * configuration in force) to a wasmvisor VM configuration. Hardware wasmvisor does not
 * emulate is never dropped silently: every item is accounted for in `notes`, as mapped,
 * adjusted (e.g. a SCSI disk attached to IDE instead, an E1000 card emulated as an
 * NE2000) or unsupported (left out, with the reason).
 */
import type { BootConfig, DiskConfig, NicConfig, SerialConfig, VmConfig } from '../config/types.js';
import { MAX_MEMORY_MIB, MAX_VCPUS, MIN_MEMORY_MIB, VM_CONFIG_VERSION } from '../config/types.js';
import { OvfError } from './errors.js';
import type { Envelope, FileRef, HardwareItem, VirtualSystem } from './model.js';
import { findSection, prop, props, virtualSystems } from './model.js';
import { ResourceType, resourceTypeName } from './resource-types.js';
import { MAX_DISK_CAPACITY_BYTES, MAX_MEMORY_BYTES, sizeInBytes } from './units.js';
import {
  effectiveItems, intOf, memoryQuantity, parseHostResource, selectedConfiguration,
} from './interpret.js';
import { formatFromUri } from './formats.js';
import { checkPackagePath, hrefMemberName } from './paths.js';
import { readWasmvisorSection, type WasmvisorBoot } from './wasmvisor-section.js';

export interface MappingNote {
  /** mapped: as described; adjusted: changed to what wasmvisor has; unsupported: left out. */
  kind: 'mapped' | 'adjusted' | 'unsupported';
  /** The item or section it is about, e.g. `Item 7 "sound" (Sound Card)`. */
  subject: string;
  message: string;
}

/** A disk of the configuration and the package file behind it. */
export interface DiskFileLink {
  /** Index into config.disks. */
  index: number;
  diskId?: string;
  file?: FileRef;
  /** Set by import when the file was converted to a writable working copy (its name). */
  converted?: string;
}

export interface ToConfigResult {
  config: VmConfig;
  notes: MappingNote[];
  /** Which package file each disk uses (for import). */
  diskFiles: DiskFileLink[];
  /** Files the boot options use (kernel, modules). */
  bootFiles: FileRef[];
  virtualSystem: string;
  configuration?: string;
}

export interface ToConfigOptions {
  /** Which VirtualSystem (ovf:id) when the envelope has several; default: the first. */
  virtualSystem?: string;
  /** Deployment configuration id; default per DSP0243 9.8. */
  configuration?: string;
}

const IDE_SLOTS: [0 | 1, 0 | 1][] = [[0, 0], [0, 1], [1, 0], [1, 1]];

function subject(item: HardwareItem): string {
  const name = prop(item, 'ElementName') ?? prop(item, 'Caption') ?? '';
  const rt = intOf(prop(item, 'ResourceType'));
  return `${item.element} ${prop(item, 'InstanceID') ?? '?'}${name ? ` "${name}"` : ''} ` +
    `(${rt === undefined ? 'no ResourceType' : resourceTypeName(rt)})`;
}

/** Maps every VirtualSystem of the envelope. */
export function toVmConfigs(
  env: Envelope,
  opts: Omit<ToConfigOptions, 'virtualSystem'> = {},
): ToConfigResult[] {
  return virtualSystems(env.content).map((vs) =>
    toVmConfig(env, { ...opts, virtualSystem: vs.id }),
  );
}

export function toVmConfig(env: Envelope, opts: ToConfigOptions = {}): ToConfigResult {
  const all = virtualSystems(env.content);
  if (all.length === 0)
    throw new OvfError('invalid', 'the envelope describes no VirtualSystem to map to a VM');
  const notes: MappingNote[] = [];
  let vs: VirtualSystem;
  if (opts.virtualSystem !== undefined) {
    const found = all.find((v) => v.id === opts.virtualSystem);
    if (!found)
      throw new OvfError(
        'invalid',
        `no VirtualSystem "${opts.virtualSystem}"; there are: ${all.map((v) => v.id).join(', ')}`,
      );
    vs = found;
  } else {
    vs = all[0];
    if (all.length > 1)
      notes.push({
        kind: 'adjusted',
        subject: 'VirtualSystemCollection',
        message:
          `${all.length} virtual systems; mapped "${vs.id}" ` +
          `(others: ${all.slice(1).map((v) => v.id).join(', ')})`,
      });
  }
  const configuration = selectedConfiguration(env, opts.configuration);
  if (opts.configuration !== undefined) {
    const ids = (findSection(env.sections, 'DeploymentOptionSection')?.configurations ?? []).map(
      (c) => c.id,
    );
    if (!ids.includes(opts.configuration))
      throw new OvfError(
        'invalid',
        `no deployment configuration "${opts.configuration}"; ` +
          `there are: ${ids.join(', ') || 'none'}`,
      );
  }
  const hw = findSection(vs.sections, 'VirtualHardwareSection');
  if (!hw) throw new OvfError('invalid', `VirtualSystem "${vs.id}" has no VirtualHardwareSection`);
  const effective = effectiveItems(hw.items, configuration);
  const items = effective.map((e) => e.item);
  const rangeOf = new Map(effective.map((e) => [e.item, e]));
  const files = new Map(env.references.map((f) => [f.id, f]));
  const diskDefs = new Map(
    (findSection(env.sections, 'DiskSection')?.disks ?? []).map((d) => [d.diskId, d]),
  );
  const byId = new Map<string, HardwareItem>();
  for (const i of items) {
    const id = prop(i, 'InstanceID');
    if (id !== undefined) byId.set(id, i);
  }
  const wv =
    vs.sections
      .map((s) => (s.kind === 'unknown' ? readWasmvisorSection(s.xml) : null))
      .find((x) => x) ?? null;

  let cpus: number | undefined;
  let memoryMiB: number | undefined;
  const disks: DiskConfig[] = [];
  const diskFiles: DiskFileLink[] = [];
  const nics: NicConfig[] = [];
  const serial: SerialConfig[] = [];
  const usedIde = new Set<string>();
  const pendingDrives: {
    item: HardwareItem;
    media: 'disk' | 'cdrom';
    want?: [0 | 1, 0 | 1];
    virtio?: number;
    why?: string;
  }[] = [];
  const ideChannelOf = new Map<string, 0 | 1>();
  let ideCount = 0;
  for (const i of items) {
    if (intOf(prop(i, 'ResourceType')) !== ResourceType.IdeController) continue;
    const a = intOf(prop(i, 'Address'));
    const ch = a === 0 || a === 1 ? a : ideCount < 2 ? (ideCount as 0 | 1) : undefined;
    ideCount++;
    if (ch !== undefined) ideChannelOf.set(prop(i, 'InstanceID') ?? '', ch);
  }
  const controllersWithDrives = new Set<string>();

  for (const item of items) {
    const rt = intOf(prop(item, 'ResourceType'));
    const subj = subject(item);
    const range = rangeOf.get(item);
    if (range?.min || range?.max) {
      const v = (i?: HardwareItem) => (i ? prop(i, 'VirtualQuantity') ?? '?' : '');
      notes.push({
        kind: 'adjusted', subject: subj,
        message: `range ${v(range.min) || 'unbounded'}..${v(range.max) || 'unbounded'} ` +
          '(ovf:bound, DSP0243 8.4); the normal value is used',
      });
    }
    switch (rt) {
      case ResourceType.Processor: {
        // A processor's Reservation and Limit are speeds (AllocationUnits, e.g. MHz), not a
        // count: an item with only those asks for one vCPU (VirtualQuantity's default).
        const q = intOf(prop(item, 'VirtualQuantity'));
        if (q === undefined)
          notes.push({
            kind: 'adjusted', subject: subj,
            message: 'no VirtualQuantity (only a speed reservation or limit); 1 vCPU',
          });
        const n = q ?? 1;
        if (cpus !== undefined) {
          notes.push({
            kind: 'unsupported',
            subject: subj,
            message: 'a second processor item; the first one counts',
          });
          break;
        }
        cpus = Math.max(1, Math.min(n, MAX_VCPUS));
        notes.push(
          n === cpus
            ? { kind: 'mapped', subject: subj, message: `${cpus} vCPU(s)` }
            : {
                kind: 'adjusted',
                subject: subj,
                message: `${n} vCPUs requested; ${cpus} given (limit ${MAX_VCPUS})`,
              },
        );
        break;
      }
      case ResourceType.Memory: {
        if (memoryMiB !== undefined) {
          notes.push({
            kind: 'unsupported',
            subject: subj,
            message: 'a second memory item; the first one counts',
          });
          break;
        }
        // DSP0243 requires AllocationUnits on memory; producers that omit it mean MiB (VMware).
        // Without VirtualQuantity, the Reservation (the least the VM gets) or else the
        // Limit (the most) says how much memory the appliance expects (CIM RASD).
        const quantity = memoryQuantity(item);
        if (quantity.from !== 'VirtualQuantity')
          notes.push({
            kind: 'adjusted', subject: subj,
            message: `no VirtualQuantity; memory size taken from its ${quantity.from}`,
          });
        const bytes = sizeInBytes(
          quantity.value,
          prop(item, 'AllocationUnits'),
          'memory',
          MAX_MEMORY_BYTES,
          { path: subj },
          'byte * 2^20',
        );
        const mib = Math.ceil(bytes / 2 ** 20);
        memoryMiB = Math.max(MIN_MEMORY_MIB, Math.min(mib, MAX_MEMORY_MIB));
        notes.push(
          mib === memoryMiB
            ? { kind: 'mapped', subject: subj, message: `${memoryMiB} MiB of RAM` }
            : {
                kind: 'adjusted',
                subject: subj,
                message: `${mib} MiB requested; ${memoryMiB} MiB given ` +
                  `(wasmvisor gives ${MIN_MEMORY_MIB} to ${MAX_MEMORY_MIB} MiB)`,
              },
        );
        break;
      }
      case ResourceType.DiskDrive:
      case ResourceType.StorageExtent:
      case ResourceType.LogicalDisk:
      case ResourceType.CdDrive:
      case ResourceType.DvdDrive: {
        const media =
          rt === ResourceType.CdDrive || rt === ResourceType.DvdDrive ? 'cdrom' : 'disk';
        const parentId = prop(item, 'Parent');
        const parent = parentId !== undefined ? byId.get(parentId) : undefined;
        const prt = parent ? intOf(prop(parent, 'ResourceType')) : undefined;
        if (parentId !== undefined) controllersWithDrives.add(parentId);
        const unit = intOf(prop(item, 'AddressOnParent'));
        if (
          prt === ResourceType.IdeController &&
          ideChannelOf.has(parentId!) &&
          (unit === 0 || unit === 1)
        ) {
          pendingDrives.push({ item, media, want: [ideChannelOf.get(parentId!)!, unit] });
        } else if (
          parent &&
          prt === ResourceType.OtherStorageDevice &&
          /virtio-blk/i.test(prop(parent, 'ResourceSubType') ?? '') &&
          media === 'disk'
        ) {
          pendingDrives.push({ item, media, virtio: unit ?? 0 });
        } else {
          const parentKind = parent
            ? [prop(parent, 'ResourceSubType'), resourceTypeName(prt ?? 0)]
              .filter(Boolean)
              .join(' ')
            : '';
          const why =
            prt === ResourceType.IdeController
              ? `at AddressOnParent ${prop(item, 'AddressOnParent') ?? '(none)'} ` +
                `of IDE controller ${parentId} (units are 0 and 1)`
              : parent
                ? `on controller ${prop(parent, 'InstanceID')} (${parentKind}, not emulated)`
                : parentId !== undefined
                  ? `on controller "${parentId}", which is not in this configuration`
                  : 'with no controller given';
          pendingDrives.push({ item, media, why });
        }
        break;
      }
      case ResourceType.EthernetAdapter: {
        const sub = prop(item, 'ResourceSubType') ?? '';
        const model: NicConfig['model'] = /virtio/i.test(sub) ? 'virtio-net' : 'ne2k';
        const nic: NicConfig = { model, network: props(item, 'Connection')[0] ?? '' };
        const mac = normalizeMac(prop(item, 'Address'));
        if (mac) nic.mac = mac;
        nics.push(nic);
        const same = model === 'virtio-net' || /^(ne2k|ne2000|ne2k_pci|ne2k_isa)$/i.test(sub);
        notes.push(
          same
            ? { kind: 'mapped', subject: subj, message: `${model} on network "${nic.network}"` }
            : {
                kind: 'adjusted',
                subject: subj,
                message: `${sub || 'unspecified'} adapter emulated ` +
                  `as an NE2000 (ne2k) on network "${nic.network}"`,
              },
        );
        break;
      }
      case ResourceType.SerialPort: {
        const port = serialPortNumber(item, serial.length);
        if (port === undefined || serial.some((s) => s.port === port)) {
          notes.push({
            kind: 'unsupported',
            subject: subj,
            message: 'no free COM port (COM1..COM4)',
          });
          break;
        }
        const fromWv = wv?.serial.find((s) => s.port === port);
        const s: SerialConfig = {
          port,
          backend: (fromWv?.backend as SerialConfig['backend']) ?? (port === 1 ? 'stdio' : 'null'),
        };
        if (fromWv?.path !== undefined) {
          // The file the guest's output would be written to: it must stay in the package's
          // folder, as any file the package names (an absolute path could be any host file).
          const bad = checkPackagePath(fromWv.path);
          if (bad) {
            const what = `the wasmvisor BootSection sends COM${port} to file "${fromWv.path}"`;
            throw new OvfError('unsafe-path', `${what}: ${bad}`);
          }
          s.path = fromWv.path;
        }
        serial.push(s);
        notes.push({
          kind: 'mapped',
          subject: subj,
          message: `COM${port} (16550A), output to ${s.backend}`,
        });
        break;
      }
      case ResourceType.IdeController:
      case ResourceType.ParallelScsiHba:
      case ResourceType.OtherStorageDevice:
      case ResourceType.FcHba:
      case ResourceType.IscsiHba:
        break; // accounted for with their drives below
      default:
        // ovf:required="false" (DSP0243 8.3) says the appliance works without it.
        notes.push({
          kind: 'unsupported',
          subject: subj,
          message: 'not emulated by wasmvisor; ' +
            `left out${item.required === 'false' ? ' (optional)' : ''}`,
        });
    }
  }

  // Controllers: IDE maps; others without drives are left out; their drives are remapped below.
  for (const item of items) {
    const rt = intOf(prop(item, 'ResourceType'));
    const id = prop(item, 'InstanceID') ?? '';
    if (rt === ResourceType.IdeController) {
      if (ideChannelOf.has(id))
        notes.push({
          kind: 'mapped',
          subject: subject(item),
          message: `IDE channel ${ideChannelOf.get(id)} ` +
            `(${ideChannelOf.get(id) === 0 ? 'primary, 0x1F0' : 'secondary, 0x170'})`,
        });
      else
        notes.push({
          kind: 'unsupported',
          subject: subject(item),
          message: 'a third IDE controller; the PC has two channels',
        });
    } else if (
      rt === ResourceType.ParallelScsiHba ||
      rt === ResourceType.OtherStorageDevice ||
      rt === ResourceType.FcHba ||
      rt === ResourceType.IscsiHba
    ) {
      const virtio =
        rt === ResourceType.OtherStorageDevice &&
        /virtio-blk/i.test(prop(item, 'ResourceSubType') ?? '');
      if (virtio) notes.push({ kind: 'mapped', subject: subject(item), message: 'virtio-blk' });
      else
        notes.push({
          kind: controllersWithDrives.has(id) ? 'adjusted' : 'unsupported',
          subject: subject(item),
          message: controllersWithDrives.has(id)
            ? 'not emulated; its drives are attached to IDE instead'
            : 'not emulated; left out',
        });
    }
  }

  // Drives: requested IDE slots first, then the others into free slots.
  const place = (d: (typeof pendingDrives)[number], slot: [0 | 1, 0 | 1]) => {
    usedIde.add(slot.join(':'));
    addDrive(d.item, d.media, { type: 'ide', channel: slot[0], unit: slot[1] }, d.why);
  };
  const addDrive = (
    item: HardwareItem,
    media: 'disk' | 'cdrom',
    controller: DiskConfig['controller'],
    why?: string,
  ) => {
    const d: DiskConfig = { controller, media };
    const link: DiskFileLink = { index: disks.length };
    const hr = props(item, 'HostResource').find((x) => x !== '');
    const where =
      controller.type === 'ide'
        ? `IDE channel ${controller.channel} unit ${controller.unit}`
        : `virtio-blk ${controller.index}`;
    if (hr) {
      const ref = parseHostResource(hr);
      if (
        ref?.kind === 'disk' &&
        diskDefs.has(ref.id) &&
        (diskDefs.get(ref.id)!.parentRef ?? '') !== ''
      ) {
        notes.push({
          kind: 'unsupported',
          subject: subject(item),
          message: `disk "${ref.id}" is a differencing disk (ovf:parentRef ` +
            `"${diskDefs.get(ref.id)!.parentRef}"); disk chains are not assembled; left out`,
        });
        return;
      } else if (ref?.kind === 'disk' && diskDefs.has(ref.id)) {
        const def = diskDefs.get(ref.id)!;
        link.diskId = def.diskId;
        const cap = resolveCapacity(env, vs, def.capacity);
        if (cap !== undefined)
          d.capacityBytes = sizeInBytes(
            cap,
            def.capacityAllocationUnits,
            `capacity of disk "${def.diskId}"`,
            MAX_DISK_CAPACITY_BYTES,
            { path: subject(item) },
          );
        else
          notes.push({
            kind: 'adjusted',
            subject: subject(item),
            message: `capacity "${def.capacity}" is a ` +
              'property with no value; size taken from the image',
          });
        const fmt = formatFromUri(def.format);
        // An empty ovf:fileRef (VMware's spelling) is no file: a blank disk (DSP0243 9.1).
        if (def.fileRef !== undefined && def.fileRef !== '') {
          const f = files.get(def.fileRef);
          if (!f)
            throw new OvfError(
              'missing-file',
              `disk "${def.diskId}" refers to file "${def.fileRef}", ` +
                'which References does not list',
            );
          link.file = f;
          d.path = hrefMemberName(f.href);
        }
        if (fmt) d.format = fmt;
        else if (def.format)
          notes.push({
            kind: 'adjusted',
            subject: subject(item),
            message: `unknown disk format "${def.format}"; detected from the image instead`,
          });
      } else if (ref?.kind === 'file' && files.has(ref.id)) {
        const f = files.get(ref.id)!;
        link.file = f;
        d.path = hrefMemberName(f.href);
        if (media === 'cdrom') d.format = 'iso';
      } else {
        throw new OvfError(
          'invalid',
          `${subject(item)}: HostResource "${hr}" names no disk or file of the package`,
        );
      }
    } else if (media === 'disk') {
      notes.push({
        kind: 'unsupported',
        subject: subject(item),
        message: 'a disk drive with no HostResource (no disk behind it); left out',
      });
      return;
    }
    if (media === 'cdrom') d.readOnly = true;
    disks.push(d);
    diskFiles.push(link);
    const contents = d.path
      ? ` from ${d.path}`
      : d.capacityBytes !== undefined
        ? `, empty, ${d.capacityBytes} bytes`
        : ', empty';
    notes.push(
      why
        ? {
            kind: 'adjusted',
            subject: subject(item),
            message: `${media} ${why}; attached to ${where} instead`,
          }
        : { kind: 'mapped', subject: subject(item), message: `${media} on ${where}${contents}` },
    );
  };
  const done = new Set<HardwareItem>();
  for (const d of pendingDrives) {
    if (d.want && !usedIde.has(d.want.join(':'))) place(d, d.want);
    else if (d.virtio !== undefined) addDrive(d.item, d.media, { type: 'virtio', index: d.virtio });
    else continue;
    done.add(d.item);
  }
  for (const d of pendingDrives) {
    if (done.has(d.item)) continue;
    const free = IDE_SLOTS.find((s) => !usedIde.has(s.join(':')));
    if (!free) {
      notes.push({
        kind: 'unsupported',
        subject: subject(d.item),
        message: 'no free IDE slot (the PC has four); left out',
      });
      continue;
    }
    place({ ...d, why: d.why ?? 'on an IDE slot already taken' }, free);
  }

  if (cpus === undefined) {
    cpus = 1;
    notes.push({
      kind: 'adjusted',
      subject: 'VirtualHardwareSection',
      message: 'no processor item; 1 vCPU given',
    });
  }
  if (memoryMiB === undefined) {
    memoryMiB = 64;
    notes.push({
      kind: 'adjusted',
      subject: 'VirtualHardwareSection',
      message: 'no memory item; 64 MiB given',
    });
  }

  const bootFiles: FileRef[] = [];
  const boot = bootFrom(wv, files, bootFiles, notes, vs);
  const config: VmConfig = {
    version: VM_CONFIG_VERSION,
    name: (vs.name?.text ?? '').trim() || vs.id,
    cpus,
    memoryMiB,
    boot,
    disks,
    nics,
    serial,
  };
  const description = describe(vs);
  if (description) config.description = description;
  const out: ToConfigResult = { config, notes, diskFiles, bootFiles, virtualSystem: vs.id };
  if (configuration !== undefined) out.configuration = configuration;
  return out;
}

function bootFrom(
  wv: WasmvisorBoot | null,
  files: Map<string, FileRef>,
  bootFiles: FileRef[],
  notes: MappingNote[],
  vs: VirtualSystem,
): BootConfig {
  if (wv?.firmware === 'multiboot' && wv.kernelFileRef) {
    const k = files.get(wv.kernelFileRef);
    if (!k)
      throw new OvfError(
        'missing-file',
        'the wasmvisor BootSection names kernel file ' +
          `"${wv.kernelFileRef}", which References does not list`,
      );
    bootFiles.push(k);
    const boot: BootConfig = { firmware: 'multiboot', kernel: hrefMemberName(k.href) };
    if (wv.cmdline !== undefined) boot.cmdline = wv.cmdline;
    const modules = wv.moduleFileRefs.map((r) => {
      const f = files.get(r);
      if (!f)
        throw new OvfError(
          'missing-file',
          `the wasmvisor BootSection names module file "${r}", which References does not list`,
        );
      bootFiles.push(f);
      return hrefMemberName(f.href);
    });
    if (modules.length) boot.modules = modules;
    return boot;
  }
  const boot: BootConfig = { firmware: 'bios' };
  const order = wv?.bootOrder?.filter((d): d is 'disk' | 'cdrom' => d === 'disk' || d === 'cdrom');
  if (order && order.length) boot.order = order;
  // VMware states the firmware in a vmw:Config key="firmware" (efi or bios).
  const hw = findSection(vs.sections, 'VirtualHardwareSection');
  const fw = hw?.extra?.find(
    (x) => x.name === 'Config' && x.attrs.some((a) => a.name === 'key' && a.value === 'firmware'),
  );
  const fwValue = fw?.attrs.find((a) => a.name === 'value')?.value;
  if (fwValue && fwValue.toLowerCase() !== 'bios') {
    notes.push({
      kind: 'adjusted',
      subject: 'vmw:Config firmware',
      message: `${fwValue} firmware requested; wasmvisor boots with its PC BIOS`,
    });
  }
  return boot;
}

/** Resolves `${key}` capacities from ProductSection property values (DSP0243 9.1). */
function resolveCapacity(env: Envelope, vs: VirtualSystem, capacity: string): string | undefined {
  const m = /^\$\{(.+)\}$/.exec(capacity.trim());
  if (!m) return capacity;
  for (const s of [...vs.sections, ...env.sections]) {
    if (s.kind !== 'ProductSection') continue;
    for (const e of s.entries)
      if (e.kind === 'Property' && e.key === m[1] && e.value !== undefined) return e.value;
  }
  return undefined;
}

function describe(vs: VirtualSystem): string | undefined {
  const ps = findSection(vs.sections, 'ProductSection');
  const product = [ps?.product?.text, ps?.version?.text].filter(Boolean).join(' ').trim();
  const ann = findSection(vs.sections, 'AnnotationSection')?.annotation?.text?.trim();
  return [product, ann].filter(Boolean).join(': ') || undefined;
}

/** MAC from RASD Address: `00-16-8B-DB-00-5E`, `00:16:8b:db:00:5e` or `00168BDB005E`. */
function normalizeMac(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const hex = s.replace(/[-:.\s]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) return undefined;
  const mac = hex.toLowerCase().match(/../g)!.join(':');
  return parseInt(hex.slice(0, 2), 16) & 1 ? undefined : mac;
}

/**
 * COM port of a serial item: Address 1..4 or "COMn", ElementName "serialN" (N+1), else the next.
 */
function serialPortNumber(item: HardwareItem, index: number): 1 | 2 | 3 | 4 | undefined {
  const a = prop(item, 'Address') ?? '';
  let n = /^[1-4]$/.test(a) ? Number(a) : /^com([1-4])$/i.test(a) ? Number(a.slice(3)) : undefined;
  const en = /^serial(\d)$/i.exec(prop(item, 'ElementName') ?? '');
  if (n === undefined && en) n = Number(en[1]) + 1;
  n ??= index + 1;
  return n >= 1 && n <= 4 ? (n as 1 | 2 | 3 | 4) : undefined;
}

