/**
 * The wasmvisor VM configuration: what one virtual machine is made of. Plain,
 * JSON-serialisable data (it is stored as a `.json` file beside the disk images, written
 * by `wasmvisor ovf import` and read by `wasmvisor run`); `validateVmConfig` checks a
 * parsed JSON value against it. Paths inside are relative to the configuration file's
 * folder.
 *
 * The hardware it can name is the PC wasmvisor emulates (see DESIGN.md, "Platform"):
 * an IDE controller with two channels of two drives (later virtio-blk), NE2000 network
 * cards (later virtio-net), 16550A serial ports at the standard COM addresses, and
 * either the BIOS or a multiboot kernel loaded directly.
 */

/** Format version of this configuration type. */
export const VM_CONFIG_VERSION = 1;

/**
 * Most vCPUs a configuration may ask for: 255, APIC IDs 0..254 of the xAPIC's 8-bit ID
 * space, 0xFF being the broadcast ID (Intel SDM vol. 3A, 10.4.6 "Local APIC ID" and
 * 10.6.2.1 "Physical Destination Mode").
 */
export const MAX_VCPUS = 255;

/**
 * Most guest RAM: 3072 MiB. A VM's RAM lives in one wasm32 linear memory (at most 4 GiB,
 * WebAssembly 1.0 section 2.5.5 with 64 KiB pages) beside the CPU state and the
 * hypervisor's own structures, and a PC keeps the top of the 32-bit space for PCI and
 * firmware, as QEMU's pc machine does above 3 GiB.
 */
export const MAX_MEMORY_MIB = 3072;

/** Least guest RAM: 2 MiB, what the platform's machine accepts (bindings/machine). */
export const MIN_MEMORY_MIB = 2;

export interface VmConfig {
  version: typeof VM_CONFIG_VERSION;
  /** A name for people: the VM's name in listings. */
  name: string;
  /** Virtual CPUs, 1..MAX_VCPUS. */
  cpus: number;
  /** Guest RAM in MiB, MIN_MEMORY_MIB..MAX_MEMORY_MIB. */
  memoryMiB: number;
  boot: BootConfig;
  disks: DiskConfig[];
  nics: NicConfig[];
  serial: SerialConfig[];
  /** Free text (an appliance's product name and version, an annotation). */
  description?: string;
  /** How the VM is virtualized (bindings/vmm); absent: mode "native". */
  virtualization?: VirtualizationConfig;
  /**
   * `guestinfo` variables the guest reads through VMware's backdoor port (0x5658, RPCI
   * `info-get guestinfo.NAME`, as open-vm-tools' vmware-rpctool does), by NAME without
   * the `guestinfo.` prefix: a string, or `{ "file": path }` for a file's text (import
   * with `--transport guestinfo` gives `"ovfEnv": { "file": "ovf-env.xml" }`, the OVF
   * environment's `com.vmware.guestInfo` transport). Absent: no backdoor port.
   */
  guestinfo?: Record<string, string | { file: string }>;
  /** A local APIC and an I/O APIC in front of the 8259 pair, with MP and ACPI tables for a
   *  Multiboot kernel (Machine.create's `apic`); absent: false, the 8259 pair alone. */
  apic?: boolean;
}

/**
 * The VM's virtualization (the options of `Machine.create` and `wasmvisor run --mode
 * --paging --no-tags --no-pwc --no-ntlb`): mode "native" runs the guest directly on the
 * emulated CPU; "vtx" and "svm" run it under the TypeScript VMM through VT-x or AMD-V.
 * `paging`, `tags`, `pwc` and `ntlb` apply to vtx and svm only.
 */
export interface VirtualizationConfig {
  mode?: 'native' | 'vtx' | 'svm' | 'pv';
  /** "nested" (EPT/NPT, the default); "shadow" is refused until shadow paging is built. */
  paging?: 'shadow' | 'nested';
  /** Tagged TLB (VPID/ASID), default true. */
  tags?: boolean;
  /** Page-walk cache, default true. */
  pwc?: boolean;
  /** Nested TLB, default true. */
  ntlb?: boolean;
  /** Simulated time: a cost-model CPU profile (`p4-prescott`, `core2`, `nehalem`,
   *  `modern`); the guest's RDTSC reads the profile's simulated cycles (MachineConfig
   *  .profile, `wasmvisor run --profile`). Absent: the TSC counts instructions. */
  profile?: string;
}

/** How the VM starts. */
export type BootConfig =
  | {
      /** The built-in PC BIOS boots from the first bootable device in `order`. */
      firmware: 'bios';
      order?: BootDevice[];
    }
  | {
      /**
       * Direct kernel boot as QEMU's -kernel: a Multiboot 1 kernel, or a Linux bzImage
       * (the Linux boot protocol), chosen by what the file is.
       */
      firmware: 'multiboot';
      /** Kernel image, relative to the configuration's folder. */
      kernel: string;
      cmdline?: string;
      /** Multiboot modules, relative paths (a Multiboot kernel). */
      modules?: string[];
      /** The initrd / initramfs of a Linux kernel, a relative path. */
      initrd?: string;
    };

export type BootDevice = 'disk' | 'cdrom';

/** Where a drive is attached. */
export type DiskController =
  | {
      /**
       * The PC's IDE controller: channel 0 is primary (ports 0x1F0,
       * IRQ 14), 1 secondary (0x170, IRQ 15); unit 0 master, 1 slave.
       */
      type: 'ide';
      channel: 0 | 1;
      unit: 0 | 1;
    }
  | {
      /** A virtio-blk device (virtio 1.x section 5.2); `index` orders them on the PCI bus. */
      type: 'virtio';
      index: number;
    };

export interface DiskConfig {
  controller: DiskController;
  /** A hard disk, or a CD-ROM drive (ATAPI, IDE only). */
  media: 'disk' | 'cdrom';
  /**
   * Image file relative to the configuration's folder; absent:
   * an empty disk of `capacityBytes` (or an empty CD drive).
   */
  path?: string;
  /** Image format; absent: detected from the file. */
  format?: 'raw' | 'qcow2' | 'vmdk' | 'vhd' | 'vpc' | 'vhdx' | 'vdi' | 'iso';
  /** Virtual size in bytes, when known (required for an empty disk). */
  capacityBytes?: number;
  readOnly?: boolean;
}

export interface NicConfig {
  /** The emulated card: an NE2000 (ne2k) or virtio-net (virtio 1.x section 5.1). */
  model: 'ne2k' | 'virtio-net';
  /** The logical network it is connected to (an OVF Network name). */
  network: string;
  /** MAC address, `52:54:00:12:34:56` style; absent: generated. */
  mac?: string;
}

export interface SerialConfig {
  /**
   * COM1..COM4: 16550A UART at 0x3F8/IRQ 4, 0x2F8/IRQ 3,
   * 0x3E8/IRQ 4, 0x2E8/IRQ 3 (the PC/AT assignment).
   */
  port: 1 | 2 | 3 | 4;
  /** Where its output goes: the console (stdio), nowhere, or a file (relative path). */
  backend: 'stdio' | 'null' | 'file';
  path?: string;
}

/** The I/O base and IRQ of each COM port (PC/AT convention, also QEMU's). */
export const COM_PORTS: Record<1 | 2 | 3 | 4, { ioBase: number; irq: number }> = {
  1: { ioBase: 0x3f8, irq: 4 },
  2: { ioBase: 0x2f8, irq: 3 },
  3: { ioBase: 0x3e8, irq: 4 },
  4: { ioBase: 0x2e8, irq: 3 },
};
