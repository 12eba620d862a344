/**
 * Node only: turns a VM configuration (and the folder its paths are relative to) into
 * what the platform's `Machine.create` takes, opening the kernel, modules and disk
 * images. What the configuration names but the platform does not emulate yet (CD-ROM
 * drives, virtio, network cards, COM2-COM4, empty disks with no image) is listed in
 * `unsupported`, never dropped silently; the caller decides whether to go on.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { MachineConfig } from '../machine/machine.js';
import type { BlockDevice } from '../disk/types.js';
import { openImageFile } from '../disk/node.js';
import { packaged } from '../cli/paths.js';
import { validateVmConfig } from './validate.js';
import type { VmConfig } from './types.js';

export interface PreparedMachine {
  machine: MachineConfig;
  unsupported: string[];
  /** Closes the disk images (call when the machine is done). */
  close(): void;
}

export function prepareMachine(
  input: VmConfig,
  baseDir: string,
  io: { serialOut?: (byte: number) => void } = {},
): PreparedMachine {
  const vm = validateVmConfig(input);
  const unsupported: string[] = [];
  const opened: BlockDevice[] = [];
  const file = (p: string) => resolve(baseDir, p);
  try {
    const machine: MachineConfig = {
      ramBytes: vm.memoryMiB * 2 ** 20, serialOut: io.serialOut, ...vm.virtualization,
    };
    if (vm.apic) machine.apic = true;
    if (vm.boot.firmware === 'multiboot') {
      machine.kernel = new Uint8Array(readFileSync(file(vm.boot.kernel)));
      if (vm.boot.cmdline !== undefined) machine.cmdline = vm.boot.cmdline;
      if (vm.boot.initrd !== undefined)
        machine.initrd = new Uint8Array(readFileSync(file(vm.boot.initrd)));
      if (vm.boot.modules?.length) {
        machine.modules = vm.boot.modules.map((m) => ({
          data: new Uint8Array(readFileSync(file(m))),
          cmdline: m,
        }));
      }
    } else {
      machine.firmware = new Uint8Array(readFileSync(packaged('guests/firmware/bios.bin')));
      if (vm.boot.order?.includes('cdrom'))
        unsupported.push('boot order "cdrom": no CD-ROM drive is emulated yet');
    }
    if (vm.cpus > 1) unsupported.push(`${vm.cpus} vCPUs: the platform runs one`);
    const disks: (BlockDevice | undefined)[] = [undefined, undefined, undefined, undefined];
    vm.disks.forEach((d, i) => {
      const where = `disks[${i}]`;
      if (d.controller.type !== 'ide')
        return void unsupported.push(`${where}: virtio-blk is not emulated yet`);
      if (d.media === 'cdrom')
        return void unsupported.push(`${where}: CD-ROM drives (ATAPI) are not emulated yet`);
      if (d.path === undefined)
        return void unsupported.push(
          `${where}: an empty disk needs an image (wasmvisor img create)`,
        );
      // "vhd" (an OVF name) is qemu-img's "vpc"; "iso" and absent are detected.
      const format = d.format === 'vhd' ? 'vpc' : d.format === 'iso' ? undefined : d.format;
      const dev = openImageFile(file(d.path), { readOnly: d.readOnly, format });
      opened.push(dev);
      disks[d.controller.channel * 2 + d.controller.unit] = dev;
    });
    while (disks.length && disks[disks.length - 1] === undefined) disks.pop();
    machine.disks = disks as BlockDevice[];
    vm.nics.forEach((n, i) => unsupported.push(`nics[${i}]: ${n.model} is not emulated yet`));
    for (const s of vm.serial) {
      if (s.port !== 1) unsupported.push(`COM${s.port}: only COM1 is emulated`);
      else if (s.backend !== 'stdio')
        unsupported.push(`COM1 backend "${s.backend}": the caller gives COM1's output`);
    }
    if (vm.guestinfo) {
      machine.guestinfo = {};
      for (const [k, x] of Object.entries(vm.guestinfo))
        machine.guestinfo[k] = typeof x === 'string' ? x : readFileSync(file(x.file), 'utf8');
      if ((vm.virtualization?.mode ?? 'native') !== 'native')
        unsupported.push('guestinfo: the backdoor port answers in mode "native" only');
    }
    return { machine, unsupported, close: () => opened.forEach((d) => d.close()) };
  } catch (e) {
    opened.forEach((d) => d.close());
    throw e;
  }
}
