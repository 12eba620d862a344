/**
 * From VM to appliance: builds the OVF envelope (DSP0243 1.x or 2.x) describing a
 * wasmvisor VM configuration, and the list of files the package carries. Items follow
 * the conventions VMware and VirtualBox exports use (one IDE controller item per
 * channel, drives with Parent and AddressOnParent, RASD properties in the alphabetical
 * order of the CIM schema's XSD sequence), so those tools can import the result.
 * What OVF cannot say (firmware, kernel, serial backends) goes into wasmvisor's
 * BootSection with ovf:required="false".
 */
import type { DiskConfig, VmConfig } from '../config/types.js';
import { validateVmConfig } from '../config/validate.js';
import type { CimProperty, Disk, Envelope, FileRef, HardwareItem, Section } from './model.js';
import { ResourceType } from './resource-types.js';
import { envelopeNamespace } from './namespaces.js';
import { uriForFormat } from './formats.js';
import { buildWasmvisorSection } from './wasmvisor-section.js';

/** What the exporter knows about a file the configuration names. */
export interface ExportFileInfo {
  /** Bytes of the file as it goes into the package. */
  size: number;
  /** The image's virtual size (for disks), when it is known from the image. */
  capacityBytes?: number;
  /** ovf:format URI sniffed from the image, if any. */
  formatUri?: string;
}

export interface PackagedFile {
  id: string;
  /** Name inside the package. */
  href: string;
  /** The configuration's path (relative to its folder). */
  path: string;
}

export interface FromConfigOptions {
  family?: '1' | '2';
  /** Facts about each file the configuration names, by its configuration path. */
  fileInfo?: (path: string) => ExportFileInfo | undefined;
}

export interface FromConfigResult {
  envelope: Envelope;
  files: PackagedFile[];
}

/** Sorts RASD properties as the CIM XSD sequence requires (alphabetical). */
function cim(p: Record<string, string | undefined>): CimProperty[] {
  return Object.keys(p)
    .sort()
    .filter((k) => p[k] !== undefined)
    .map((k) => ({ name: k, value: p[k]! }));
}

export function fromVmConfig(input: VmConfig, opts: FromConfigOptions = {}): FromConfigResult {
  const config = validateVmConfig(input);
  const family = opts.family ?? '1';
  const ovfNs = envelopeNamespace(family);
  const files: PackagedFile[] = [];
  const references: FileRef[] = [];
  const usedHrefs = new Set<string>();
  const fileFor = (path: string): PackagedFile => {
    const existing = files.find((f) => f.path === path);
    if (existing) return existing;
    const base = path.split('/').pop() || 'file';
    let href = base;
    for (let i = 2; usedHrefs.has(href.toLowerCase()); i++) href = `${i}-${base}`;
    usedHrefs.add(href.toLowerCase());
    const f: PackagedFile = { id: `file${files.length + 1}`, href, path };
    files.push(f);
    const ref: FileRef = { id: f.id, href };
    const info = opts.fileInfo?.(path);
    if (info) ref.size = String(info.size);
    references.push(ref);
    return f;
  };

  const disks: Disk[] = [];
  const items: HardwareItem[] = [];
  let nextId = 1;
  const item = (
    p: Record<string, string | undefined>,
    element: HardwareItem['element'] = 'Item',
  ): string => {
    const id = String(nextId++);
    items.push({ element, props: cim({ ...p, InstanceID: id }) });
    return id;
  };
  item({
    AllocationUnits: 'hertz * 10^6',
    Description: 'Number of virtual CPUs',
    ElementName: `${config.cpus} virtual CPU(s)`,
    ResourceType: String(ResourceType.Processor),
    VirtualQuantity: String(config.cpus),
  });
  item({
    AllocationUnits: 'byte * 2^20',
    Description: 'Memory size',
    ElementName: `${config.memoryMiB} MB of memory`,
    ResourceType: String(ResourceType.Memory),
    VirtualQuantity: String(config.memoryMiB),
  });

  const ide = config.disks.filter((d) => d.controller.type === 'ide');
  const ideIds: string[] = [];
  if (ide.length) {
    for (const ch of [0, 1]) {
      // The platform's IDE function is a PIIX3 (bindings/devices/ide/piix-ide.ts); VirtualBox
      // reads PIIX3/PIIX4/ICH6 here, VMware ignores it.
      ideIds[ch] = item({
        Address: String(ch),
        Description: 'IDE Controller',
        ElementName: `ideController${ch}`,
        ResourceSubType: 'PIIX3',
        ResourceType: String(ResourceType.IdeController),
      });
    }
  }
  let virtioId: string | undefined;
  if (config.disks.some((d) => d.controller.type === 'virtio')) {
    virtioId = item({
      Address: '0',
      Description: 'virtio-blk',
      ElementName: 'virtioController0',
      ResourceSubType: 'virtio-blk',
      ResourceType: String(ResourceType.OtherStorageDevice),
    });
  }
  config.disks.forEach((d: DiskConfig, i) => {
    const parent = d.controller.type === 'ide' ? ideIds[d.controller.channel] : virtioId!;
    const address = d.controller.type === 'ide' ? d.controller.unit : d.controller.index;
    let hostResource: string | undefined;
    if (d.media === 'cdrom') {
      if (d.path) hostResource = `ovf:/file/${fileFor(d.path).id}`;
    } else {
      const diskId = `vmdisk${disks.length + 1}`;
      const disk: Disk = { diskId, capacity: '0' };
      let cap = d.capacityBytes;
      let uri: string | undefined;
      if (d.path) {
        const f = fileFor(d.path);
        disk.fileRef = f.id;
        const info = opts.fileInfo?.(d.path);
        cap ??= info?.capacityBytes ?? info?.size;
        uri = d.format ? uriForFormat(d.format) : info?.formatUri ?? uriForFormat(undefined);
      }
      if (cap === undefined)
        throw new Error(
          `disk ${i} (${d.path ?? 'empty'}): its capacity is unknown; give capacityBytes`,
        );
      disk.capacity = String(cap);
      if (uri) disk.format = uri;
      disks.push(disk);
      hostResource = `ovf:/disk/${diskId}`;
    }
    item({
      AddressOnParent: String(address),
      ElementName: d.media === 'cdrom' ? `cdrom${i}` : `disk${i}`,
      HostResource: hostResource,
      Parent: parent,
      ResourceType: String(d.media === 'cdrom' ? ResourceType.CdDrive : ResourceType.DiskDrive),
    }, family === '2' ? 'StorageItem' : 'Item');
  });

  const networks = [...new Set(config.nics.map((n) => n.network || 'default'))];
  config.nics.forEach((n, i) => {
    item({
      Address: n.mac,
      AutomaticAllocation: 'true',
      Connection: n.network || 'default',
      ElementName: `ethernet${i}`,
      ResourceSubType: n.model === 'virtio-net' ? 'virtio' : 'NE2000',
      ResourceType: String(ResourceType.EthernetAdapter),
    }, family === '2' ? 'EthernetPortItem' : 'Item');
  });
  for (const s of config.serial) {
    item({ ElementName: `serial${s.port - 1}`, ResourceType: String(ResourceType.SerialPort) });
  }

  const boot = config.boot;
  const section = buildWasmvisorSection(
    {
      firmware: boot.firmware,
      kernelFileRef: boot.firmware === 'multiboot' ? fileFor(boot.kernel).id : undefined,
      cmdline: boot.firmware === 'multiboot' ? boot.cmdline : undefined,
      moduleFileRefs:
        boot.firmware === 'multiboot' ? (boot.modules ?? []).map((m) => fileFor(m).id) : [],
      bootOrder: boot.firmware === 'bios' ? boot.order : undefined,
      serial: config.serial.map((s) =>
        s.path !== undefined
          ? { port: s.port, backend: s.backend, path: s.path }
          : { port: s.port, backend: s.backend },
      ),
    },
    ovfNs,
  );

  const vsSections: Section[] = [
    {
      kind: 'OperatingSystemSection',
      id: '1',
      info: { text: 'The guest operating system' },
      description: { text: 'Other' },
    },
    {
      kind: 'VirtualHardwareSection',
      info: { text: 'Virtual hardware requirements' },
      system: {
        props: cim({
          ElementName: 'Virtual Hardware Family',
          InstanceID: '0',
          VirtualSystemIdentifier: config.name,
          VirtualSystemType: 'wasmvisor-1',
        }),
      },
      items,
    },
  ];
  if (config.description !== undefined)
    vsSections.push({
      kind: 'AnnotationSection',
      info: { text: 'A description of the virtual machine' },
      annotation: { text: config.description },
    });
  vsSections.push({ kind: 'unknown', xml: section });

  const envSections: Section[] = [];
  if (disks.length)
    envSections.push({ kind: 'DiskSection', info: { text: 'Virtual disk information' }, disks });
  if (networks.length) {
    envSections.push({
      kind: 'NetworkSection',
      info: { text: 'The list of logical networks' },
      networks: networks.map((name) => ({ name, description: { text: `The ${name} network` } })),
    });
  }
  const envelope: Envelope = {
    family,
    version: family === '2' ? '2.0' : '1.0',
    references,
    sections: envSections,
    content: {
      kind: 'VirtualSystem',
      id: config.name.replace(/[^A-Za-z0-9_.-]/g, '_') || 'vm',
      info: { text: 'A virtual machine' },
      name: { text: config.name },
      sections: vsSections,
    },
  };
  return { envelope, files };
}
