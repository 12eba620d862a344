/**
 * CIM_ResourceAllocationSettingData.ResourceType codes (DMTF CIM Schema 2.x, the ValueMap
 * of the ResourceType property; DSP0243 1.1 and 2.1 section 8.3 use this
 * class for every Item, StorageItem and EthernetPortItem). Values 1..33 are the
 * ValueMap; 35 is what VirtualBox writes for a sound card (the ubuntu.2.0.ovf sample),
 * outside that range (VMware writes sound cards as 1, Other, with a vendor subtype, and
 * treats 35 as unsupported: govmomi's unsupported-resourcetype sample).
 */
export const ResourceType = {
  Other: 1,
  ComputerSystem: 2,
  Processor: 3,
  Memory: 4,
  IdeController: 5,
  ParallelScsiHba: 6,
  FcHba: 7,
  IscsiHba: 8,
  IbHca: 9,
  EthernetAdapter: 10,
  OtherNetworkAdapter: 11,
  IoSlot: 12,
  IoDevice: 13,
  FloppyDrive: 14,
  CdDrive: 15,
  DvdDrive: 16,
  DiskDrive: 17,
  TapeDrive: 18,
  StorageExtent: 19,
  OtherStorageDevice: 20,
  SerialPort: 21,
  ParallelPort: 22,
  UsbController: 23,
  GraphicsController: 24,
  Ieee1394Controller: 25,
  PartitionableUnit: 26,
  BasePartitionableUnit: 27,
  Power: 28,
  CoolingCapacity: 29,
  EthernetSwitchPort: 30,
  LogicalDisk: 31,
  StorageVolume: 32,
  EthernetConnection: 33,
  SoundCard: 35,
} as const;

/** The ValueMap's own wording for each code. */
const NAMES: Record<number, string> = {
  1: 'Other',
  2: 'Computer System',
  3: 'Processor',
  4: 'Memory',
  5: 'IDE Controller',
  6: 'Parallel SCSI HBA',
  7: 'FC HBA',
  8: 'iSCSI HBA',
  9: 'IB HCA',
  10: 'Ethernet Adapter',
  11: 'Other Network Adapter',
  12: 'I/O Slot',
  13: 'I/O Device',
  14: 'Floppy Drive',
  15: 'CD Drive',
  16: 'DVD drive',
  17: 'Disk Drive',
  18: 'Tape Drive',
  19: 'Storage Extent',
  20: 'Other storage device',
  21: 'Serial port',
  22: 'Parallel port',
  23: 'USB Controller',
  24: 'Graphics controller',
  25: 'IEEE 1394 Controller',
  26: 'Partitionable Unit',
  27: 'Base Partitionable Unit',
  28: 'Power',
  29: 'Cooling Capacity',
  30: 'Ethernet Switch Port',
  31: 'Logical Disk',
  32: 'Storage Volume',
  33: 'Ethernet Connection',
  35: 'Sound Card',
};

/** A readable name for a ResourceType code, e.g. 17 → "Disk Drive". */
export function resourceTypeName(code: number): string {
  if (NAMES[code]) return NAMES[code];
  // ValueMap "DMTF reserved" and "Vendor Reserved" (0x8000..0xFFFF) ranges.
  if (code >= 0x8000 && code <= 0xffff) return `vendor-specific (${code})`;
  return `unknown (${code})`;
}
