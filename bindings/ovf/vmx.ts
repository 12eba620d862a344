/**
 * VMware's `.vmx` configuration file, read and described as OVF, as `ovftool vm.vmx
 * vm.ovf` does (VMware OVF Tool User's Guide, "Converting VMX Format to an OVF Package").
 *
 * The format (as VMware Workstation, Fusion, GSX and ESX write it; the fixtures are files
 * written by them, collected by libvirt's vmx2xml tests): one `key = "value"` per line,
 * `#` comments and blank lines, keys case-insensitive (`memsize` and `memSize` both
 * occur), values in double quotes with `|XX` hex escapes for bytes such as `"` (`|22`)
 * and `|` itself (`|7C`), or unquoted. What is read:
 * - `displayName`, `annotation`, `guestOS`, `virtualHW.version`, `memsize` (MiB),
 *   `numvcpus` (default 1), `cpuid.coresPerSocket`, `firmware`;
 * - controllers `scsiN` (`virtualDev` lsilogic, buslogic, lsisas1068, pvscsi), `ideN`
 *   (two, always present), `sataN` and `nvmeN`; devices `CTRL:UNIT` with `present`,
 *   `deviceType` (a disk when absent or `disk`, `scsi-hardDisk`, `ata-hardDisk`;
 *   `cdrom-image`, `atapi-cdrom`, `cdrom-raw` are CD-ROMs) and `fileName` (a VMDK for a
 *   disk, read with its extents by the caller);
 * - `ethernetN` with `present`, `virtualDev` (e1000, e1000e, vmxnet3, vlance...),
 *   `networkName` or else `connectionType` (bridged, nat, hostonly, custom), `address` or
 *   `generatedAddress`, `startConnected`;
 * - `usb.present`, `ehci.present`, `sound.present`, `floppyN.present`, `serialN.present`,
 *   `parallelN.present` (reported when OVF, as ovftool writes it, does not carry them).
 * Everything else (PCI slot numbers, UUIDs, tools settings...) is per-host state that
 * ovftool does not carry either; it is listed in one warning by key.
 */
import { OvfError } from './errors.js';
import type {
  CimProperty, Disk, Envelope, FileRef, HardwareItem, Section, VirtualSystem,
} from './model.js';
import { ResourceType } from './resource-types.js';
import { envelopeNamespace, type OvfFamily } from './namespaces.js';

/** A parsed .vmx: keys in file order, looked up case-insensitively. */
export interface VmxFile {
  /** Lower-cased key -> value (the last one wins, as VMware reads it). */
  values: Map<string, string>;
  /** Keys as written, in order (for reports). */
  keys: string[];
}

/** Largest .vmx read (VMware's are a few KiB). */
export const MAX_VMX_BYTES = 1 << 20;

/** Parses .vmx text. Throws OvfError naming the line that is not `key = value`. */
export function parseVmx(text: string, file = 'config.vmx'): VmxFile {
  if (text.length > MAX_VMX_BYTES)
    throw new OvfError('too-large', `the .vmx is over ${MAX_VMX_BYTES} bytes`, { file });
  const values = new Map<string, string>();
  const keys: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^([A-Za-z0-9_.:\-[\]]+)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      throw new OvfError('invalid', `line ${i + 1} is not key = "value": ${line.slice(0, 60)}`,
        { file });
    }
    let v = m[2].trim();
    if (v.startsWith('"')) {
      const end = v.indexOf('"', 1);
      if (end < 0) throw new OvfError('invalid', `line ${i + 1}: unterminated quote`, { file });
      v = v.slice(1, end);
    }
    v = v.replace(/\|([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    values.set(m[1].toLowerCase(), v);
    keys.push(m[1]);
  });
  return { values, keys };
}

const isTrue = (v: string | undefined) => v !== undefined && /^(true|yes|1)$/i.test(v);
const isFalse = (v: string | undefined) => v !== undefined && /^(false|no|0)$/i.test(v);

export type VmxControllerKind = 'scsi' | 'ide' | 'sata' | 'nvme';

export interface VmxController {
  kind: VmxControllerKind;
  bus: number;
  /** scsiN.virtualDev / sataN... as written (lsilogic...), if any. */
  virtualDev?: string;
}

export interface VmxDevice {
  /** The .vmx device key: `scsi0:0`, `ide1:0`, `sata0:1`. */
  key: string;
  controller: VmxController;
  unit: number;
  kind: 'disk' | 'cdrom';
  /** fileName as written (a VMDK for disks, an ISO or a host device for CD-ROMs). */
  fileName?: string;
  startConnected?: boolean;
}

export interface VmxNic {
  index: number;
  virtualDev: string;
  network: string;
  mac?: string;
  startConnected: boolean;
}

export interface VmxMachine {
  name: string;
  annotation?: string;
  guestOS?: string;
  hwVersion?: number;
  memoryMiB: number;
  cpus: number;
  coresPerSocket?: number;
  firmware?: string;
  controllers: VmxController[];
  devices: VmxDevice[];
  nics: VmxNic[];
  usb: boolean;
  sound: boolean;
  /** Devices OVF (as ovftool writes it) does not carry: `floppy0`, `serial0`... */
  notCarried: string[];
  /** Keys read for nothing (host state), by name. */
  ignoredKeys: string[];
}

const DISK_TYPES = ['disk', 'scsi-harddisk', 'ata-harddisk', 'plainDisk'.toLowerCase()];
const CDROM_TYPES = ['cdrom-image', 'atapi-cdrom', 'cdrom-raw'];

/** What a .vmx describes. `name` is the fallback display name (the file's base name). */
export function describeVmx(vmx: VmxFile, name = 'vm'): VmxMachine {
  const get = (k: string) => vmx.values.get(k.toLowerCase());
  const used = new Set<string>();
  const take = (k: string) => {
    used.add(k.toLowerCase());
    return get(k);
  };
  const int = (k: string, dflt: number, min: number, max: number) => {
    const v = take(k);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new OvfError('invalid', `${k} = "${v}" is not an integer from ${min} to ${max}`);
    return n;
  };
  const m: VmxMachine = {
    name: take('displayName') || name,
    annotation: take('annotation'),
    guestOS: take('guestOS'),
    hwVersion: get('virtualHW.version') === undefined ? undefined
      : int('virtualHW.version', 4, 1, 99),
    memoryMiB: int('memsize', 32, 1, 16 << 20),
    cpus: int('numvcpus', 1, 1, 1024),
    coresPerSocket: get('cpuid.coresPerSocket') === undefined ? undefined
      : int('cpuid.coresPerSocket', 1, 1, 1024),
    firmware: take('firmware'),
    controllers: [], devices: [], nics: [], usb: false, sound: false,
    notCarried: [], ignoredKeys: [],
  };
  // Controllers: scsiN/sataN/nvmeN when present; IDE's two channels always exist.
  const ctrls = new Map<string, VmxController>();
  for (const kind of ['scsi', 'sata', 'nvme', 'ide'] as const) {
    for (let bus = 0; bus < (kind === 'ide' ? 2 : 4); bus++) {
      const present = take(`${kind}${bus}.present`);
      const virtualDev = take(`${kind}${bus}.virtualDev`);
      take(`${kind}${bus}.pciSlotNumber`);
      if (kind !== 'ide' && !isTrue(present)) continue;
      ctrls.set(`${kind}${bus}`, { kind, bus, virtualDev });
    }
  }
  for (const k of vmx.keys) {
    const d = /^(scsi|ide|sata|nvme)(\d+):(\d+)\.present$/i.exec(k);
    if (!d || !isTrue(get(k))) continue;
    const key = `${d[1].toLowerCase()}${d[2]}:${d[3]}`;
    const type = (take(`${key}.deviceType`) ?? 'disk').toLowerCase();
    const fileName = take(`${key}.fileName`);
    const startConnected = take(`${key}.startConnected`);
    used.add(k.toLowerCase());
    for (const s of ['mode', 'redo', 'writeThrough', 'autodetect', 'clientDevice'])
      take(`${key}.${s}`);
    const ctrlName = `${d[1].toLowerCase()}${d[2]}`;
    let controller = ctrls.get(ctrlName);
    if (!controller) {
      // A device on a controller the file does not mark present: VMware adds it.
      controller = { kind: d[1].toLowerCase() as VmxControllerKind, bus: Number(d[2]) };
      ctrls.set(ctrlName, controller);
    }
    const kind = CDROM_TYPES.includes(type) ? 'cdrom' : DISK_TYPES.includes(type) ? 'disk'
      : undefined;
    if (!kind) {
      m.notCarried.push(`${key} (deviceType "${type}")`);
      continue;
    }
    m.devices.push({
      key, controller, unit: Number(d[3]), kind, fileName,
      startConnected: startConnected === undefined ? undefined : !isFalse(startConnected),
    });
  }
  // Only the controllers something uses or the file declares (IDE only when used).
  m.controllers = [...ctrls.values()].filter((c) => c.kind !== 'ide'
    || m.devices.some((d) => d.controller === c));
  for (let i = 0; i < 10; i++) {
    if (!isTrue(take(`ethernet${i}.present`))) continue;
    const connectionType = take(`ethernet${i}.connectionType`);
    const network = take(`ethernet${i}.networkName`) || connectionType || 'bridged';
    const mac = take(`ethernet${i}.address`) || take(`ethernet${i}.generatedAddress`);
    for (const s of ['addressType', 'generatedAddressOffset', 'pciSlotNumber', 'vnet', 'pvnID',
      'linkStatePropagation.enable', 'wakeOnPcktRcv', 'uptCompatibility'])
      take(`ethernet${i}.${s}`);
    m.nics.push({
      index: i, virtualDev: take(`ethernet${i}.virtualDev`) || 'vlance', network,
      mac: mac || undefined, startConnected: !isFalse(take(`ethernet${i}.startConnected`)),
    });
  }
  m.usb = isTrue(take('usb.present')) || isTrue(take('ehci.present'));
  m.sound = isTrue(take('sound.present'));
  for (const dev of ['floppy0', 'floppy1', 'serial0', 'serial1', 'parallel0'])
    if (isTrue(take(`${dev}.present`))) m.notCarried.push(dev);
  m.ignoredKeys = vmx.keys.filter((k) => !used.has(k.toLowerCase())
    && !/^\.encoding$|^config\.version$/i.test(k));
  return m;
}

/**
 * guestOS (the .vmx name) -> the CIM_OperatingSystem.OsType code DSP0243 9.9 wants and the
 * vSphere guest id ovftool writes as vmw:osType. CIM codes from the CIM schema's OsType
 * ValueMap (as VirtualBox's ovfreader.h lists them: 1 Other, 36 LINUX, 67 Windows XP,
 * 93/94 Ubuntu, 95/96 Debian, 99/100 Linux 2.6.x, 101 Linux 64-Bit, 102 Other 64-Bit,
 * 112 Windows Server 2012, 114 Windows 8 64-Bit).
 */
export const GUEST_OS: Readonly<Record<string, [number, string]>> = {
  'other': [1, 'otherGuest'],
  'other-64': [102, 'otherGuest64'],
  'linux': [36, 'otherLinuxGuest'],
  'other26xlinux': [99, 'other26xLinuxGuest'],
  'other26xlinux-64': [100, 'other26xLinux64Guest'],
  'otherlinux-64': [101, 'otherLinux64Guest'],
  'ubuntu': [93, 'ubuntuGuest'],
  'ubuntu-64': [94, 'ubuntu64Guest'],
  'debian': [95, 'debian10Guest'],
  'debian-64': [96, 'debian10_64Guest'],
  'winxppro': [67, 'winXPProGuest'],
  'windows8-64': [114, 'windows8_64Guest'],
  'windows8srv-64': [112, 'windows8Server64Guest'],
};

/** A disk of the machine as the package will carry it. */
export interface VmxPackagedDisk {
  /** The device (`scsi0:0`). */
  key: string;
  /** The member name (ovftool's `NAME-diskN.vmdk`). */
  href: string;
  /** Virtual size in bytes. */
  capacity: number;
  /** Bytes of the packaged file, if known. */
  size?: number;
  /** ovf:format: the streamOptimized VMDK URI (DSP0243 9.1, VMware's). */
  format: string;
}

export const STREAM_VMDK_FORMAT =
  'http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized';
const NS_VMW = 'http://www.vmware.com/schema/ovf';

export interface VmxToOvfResult {
  envelope: Envelope;
  warnings: string[];
}

/** The OVF model of a .vmx machine with its disks packaged as `disks` say. */
export function vmxToEnvelope(
  m: VmxMachine, disks: readonly VmxPackagedDisk[], family: OvfFamily = '1',
): VmxToOvfResult {
  const ns = envelopeNamespace(family);
  const warnings: string[] = [];
  const references: FileRef[] = [];
  const diskList: Disk[] = [];
  const items: HardwareItem[] = [];
  let next = 1;
  const cim = (p: Record<string, string | undefined>): CimProperty[] =>
    Object.keys(p).sort().filter((k) => p[k] !== undefined)
      .map((k) => ({ name: k, value: p[k]! }));
  const item = (p: Record<string, string | undefined>, required?: string): string => {
    const id = String(next++);
    items.push({ element: 'Item', props: cim({ ...p, InstanceID: id }), required });
    return id;
  };
  const cpu = item({
    AllocationUnits: 'hertz * 10^6', Description: 'Number of Virtual CPUs',
    ElementName: `${m.cpus} virtual CPU(s)`, ResourceType: String(ResourceType.Processor),
    VirtualQuantity: String(m.cpus),
  });
  if (m.coresPerSocket !== undefined) {
    const it = items.find((i) => i.props.some((p) => p.name === 'InstanceID' && p.value === cpu))!;
    // ovftool: <vmw:CoresPerSocket ovf:required="false">N</vmw:CoresPerSocket> in the CPU item.
    it.props.push({ name: 'CoresPerSocket', value: String(m.coresPerSocket), ns: NS_VMW,
      attrs: [{ ns, name: 'required', value: 'false' }] });
  }
  item({
    AllocationUnits: 'byte * 2^20', Description: 'Memory Size',
    ElementName: `${m.memoryMiB}MB of memory`, ResourceType: String(ResourceType.Memory),
    VirtualQuantity: String(m.memoryMiB),
  });
  const ctrlIds = new Map<VmxController, string>();
  for (const c of m.controllers) {
    const scsiSub: Record<string, string> = {
      lsilogic: 'lsilogic', buslogic: 'buslogic', lsisas1068: 'lsilogicsas', pvscsi: 'VirtualSCSI',
    };
    const p: Record<string, string | undefined> = { Address: String(c.bus) };
    if (c.kind === 'scsi') {
      Object.assign(p, { Description: 'SCSI Controller', ElementName: `SCSI Controller ${c.bus}`,
        ResourceSubType: scsiSub[c.virtualDev ?? 'lsilogic'] ?? c.virtualDev ?? 'lsilogic',
        ResourceType: String(ResourceType.ParallelScsiHba) });
    } else if (c.kind === 'ide') {
      Object.assign(p, { Description: 'IDE Controller',
        ElementName: `VirtualIDEController ${c.bus}`,
        ResourceType: String(ResourceType.IdeController) });
    } else if (c.kind === 'sata') {
      Object.assign(p, { Description: 'SATA Controller', ElementName: `SATA Controller ${c.bus}`,
        ResourceSubType: 'vmware.sata.ahci', ResourceType: '20' });
    } else {
      Object.assign(p, { Description: 'NVMe Controller', ElementName: `NVMe Controller ${c.bus}`,
        ResourceSubType: 'vmware.nvme.controller', ResourceType: '20' });
    }
    ctrlIds.set(c, item(p));
  }
  let n = 0;
  for (const d of m.devices) {
    const parent = ctrlIds.get(d.controller);
    if (d.kind === 'cdrom') {
      // ovftool exports a CD-ROM drive without its medium (a host file or device).
      item({
        AddressOnParent: String(d.unit),
        AutomaticAllocation: d.startConnected === false ? 'false' : 'true',
        ElementName: `CD/DVD drive ${d.key}`, Parent: parent,
        ResourceType: String(ResourceType.CdDrive),
      }, 'false');
      if (d.fileName) warnings.push(`${d.key}: the CD-ROM's medium "${d.fileName}" is not ` +
        'packed (as ovftool, the drive is exported empty)');
      continue;
    }
    const pd = disks.find((x) => x.key === d.key);
    if (!pd) {
      warnings.push(`${d.key}: a disk with no image to pack ("${d.fileName ?? ''}"); left out`);
      continue;
    }
    n++;
    const fileId = `file${n}`, diskId = `vmdisk${n}`;
    references.push({ id: fileId, href: pd.href, size: pd.size === undefined ? undefined
      : String(pd.size) });
    diskList.push({ diskId, capacity: String(pd.capacity), capacityAllocationUnits: 'byte',
      fileRef: fileId, format: pd.format });
    item({
      AddressOnParent: String(d.unit), ElementName: `Hard Disk ${n}`,
      HostResource: `ovf:/disk/${diskId}`, Parent: parent,
      ResourceType: String(ResourceType.DiskDrive),
    });
  }
  const networks: string[] = [];
  const nicSub: Record<string, string> = {
    e1000: 'E1000', e1000e: 'E1000e', vmxnet3: 'VmxNet3', vmxnet: 'VmxNet', vmxnet2: 'VmxNet2',
    vlance: 'PCNet32',
  };
  for (const nic of m.nics) {
    if (!networks.includes(nic.network)) networks.push(nic.network);
    const sub = nicSub[nic.virtualDev.toLowerCase()] ?? nic.virtualDev;
    item({
      AddressOnParent: String(nic.index),
      AutomaticAllocation: nic.startConnected ? 'true' : 'false', Connection: nic.network,
      Description: `${sub} ethernet adapter on "${nic.network}"`,
      ElementName: `Network adapter ${nic.index + 1}`, ResourceSubType: sub,
      ResourceType: String(ResourceType.EthernetAdapter),
    });
    if (nic.mac) warnings.push(`ethernet${nic.index}: MAC address ${nic.mac} not carried ` +
      '(ovftool exports adapters without their addresses; the importer assigns new ones)');
  }
  if (m.usb)
    item({ Address: '0', ElementName: 'USB Controller', ResourceType: '23' }, 'false');
  if (m.sound)
    item({ ElementName: 'Sound Card', ResourceType: '35' }, 'false');
  for (const x of m.notCarried)
    warnings.push(`${x}: not carried (OVF as ovftool writes it has no such device)`);
  if (m.ignoredKeys.length)
    warnings.push(`${m.ignoredKeys.length} .vmx keys are host state and not carried: ` +
      m.ignoredKeys.slice(0, 12).join(', ') + (m.ignoredKeys.length > 12 ? ', ...' : ''));
  const hwExtra = m.firmware ? [{
    ns: NS_VMW, name: 'Config', children: [], attrs: [
      { ns, name: 'required', value: 'false' },
      { ns: NS_VMW, name: 'key', value: 'firmware' },
      { ns: NS_VMW, name: 'value', value: m.firmware },
    ],
  }] : undefined;
  const os = m.guestOS === undefined ? undefined : GUEST_OS[m.guestOS.toLowerCase()];
  if (m.guestOS !== undefined && !os)
    warnings.push(`guestOS "${m.guestOS}" has no CIM OsType here; written as 1 (Other)`);
  const vsSections: Section[] = [];
  if (m.annotation !== undefined)
    vsSections.push({ kind: 'AnnotationSection', info: { text: 'A human-readable annotation' },
      annotation: { text: m.annotation } });
  vsSections.push({
    kind: 'OperatingSystemSection', id: String(os ? os[0] : 1),
    info: { text: 'The kind of installed guest operating system' },
    extraAttrs: os ? [{ ns: NS_VMW, name: 'osType', value: os[1] }] : undefined,
  });
  vsSections.push({
    kind: 'VirtualHardwareSection', info: { text: 'Virtual hardware requirements' },
    system: { props: cim({
      ElementName: 'Virtual Hardware Family', InstanceID: '0',
      VirtualSystemIdentifier: m.name,
      VirtualSystemType: `vmx-${String(m.hwVersion ?? 4).padStart(2, '0')}`,
    }) },
    items, extra: hwExtra,
  });
  const vs: VirtualSystem = {
    kind: 'VirtualSystem', id: m.name, info: { text: 'A virtual machine' },
    name: { text: m.name }, sections: vsSections,
  };
  const envSections: Section[] = [];
  if (diskList.length)
    envSections.push({ kind: 'DiskSection', info: { text: 'Virtual disk information' },
      disks: diskList });
  if (networks.length)
    envSections.push({ kind: 'NetworkSection', info: { text: 'The list of logical networks' },
      networks: networks.map((name) => ({ name,
        description: { text: `The ${name} network` } })) });
  const envelope: Envelope = {
    family, version: family === '2' ? '2.0' : family === '0.9' ? '0.9' : '1.0',
    references, sections: envSections, content: vs,
  } as Envelope;
  return { envelope, warnings };
}
