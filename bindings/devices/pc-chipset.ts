/**
 * The PCI side of the PC in one call: the i440FX host bridge (00:00.0), the PIIX3 ISA
 * bridge (00:01.0, with PIRQ routing of INTx), IDE function (00:01.1) and, as QEMU's `pc`
 * machine, the PIIX4 power-management function (00:01.3) on a mechanism #1 host, with the IDE
 * channels on their legacy ports and IRQ 14/15, and disks attached in QEMU's order
 * (`-drive if=ide,index=0..3`: primary master, primary slave, secondary master, slave).
 */
import type { BlockDevice } from '../disk/types.js';
import type { Bus } from './bus.js';
import type { PicPair } from './pic-pair.js';
import { PiixIde, type DmaMemory } from './ide/piix-ide.js';
import { PRIMARY, SECONDARY } from './ide/ide-channel.js';
import type { AtaDeviceOptions } from './ide/ata-device.js';
import { i440fxHostBridge, piix3IsaBridge } from './pci/i440fx.js';
import { PciHost } from './pci/pci-host.js';
import type { PciFunction } from './pci/pci-function.js';
import { PiixIrqRouter } from './pci/piix-irq.js';
import { Piix4Pm } from './pci/piix4-pm.js';

export interface ChipsetOptions {
  /** Up to four disks, in `-drive if=ide,index=N` order; `undefined` leaves a slot empty. */
  disks?: (BlockDevice | undefined)[];
  /** Model/serial strings per disk (defaults: "WASMVISOR HARDDISK", a serial per slot). */
  diskOptions?: AtaDeviceOptions[];
  /** The PIIX3 Reset Control Register (0xCF9) asked for a CPU reset. */
  onReset?: () => void;
  /** Guest memory for bus master DMA; without it the disks are PIO-only. */
  dma?: DmaMemory;
  /** The guest entered S5 (soft off) through the PM function's PM1a_CNT. */
  onPowerOff?: () => void;
  /** Virtual time in ns, which the PM timer counts (without it the timer stands still). */
  now?: () => number;
}

export interface Chipset {
  /** Add PCI devices here (slots 2-31); their INTx goes through the PIIX3 PIRQ routing. */
  pci: PciHost;
  /** The i440FX host bridge (00:00.0): its PAM registers switch the BIOS shadow RAM. */
  hostBridge: PciFunction;
  ide: PiixIde;
  /** The PIIX4 power-management function (00:01.3): PMBA, PM1a_CNT (guest poweroff). */
  pm: Piix4Pm;
  /** Writes everything the guest wrote back to the disks. */
  flush(): void;
  /** Flushes and closes the disks: call at exit. */
  close(): void;
}

export function attachChipset(bus: Bus, pic: PicPair, opts: ChipsetOptions = {}): Chipset {
  const disks = opts.disks ?? [];
  if (disks.length > 4) throw new RangeError(`at most four IDE disks, got ${disks.length}`);
  const isa = piix3IsaBridge();
  let router: PiixIrqRouter | undefined;
  const pci = new PciHost(opts.onReset, (slot, pin) => router!.line(slot, pin));
  router = new PiixIrqRouter(isa, pic);
  const ide = new PiixIde(pic.line(PRIMARY.irq), pic.line(SECONDARY.irq));
  disks.forEach((d, i) => {
    if (!d) return;
    const o = opts.diskOptions?.[i] ?? { serial: `WV${String(i + 1).padStart(10, '0')}` };
    ide.channels[i >> 1].attachDisk((i & 1) as 0 | 1, d, o);
  });
  if (opts.dma) ide.setDmaMemory(opts.dma);
  const hostBridge = i440fxHostBridge();
  pci.add(0, 0, hostBridge);
  pci.add(1, 0, isa);
  pci.add(1, 1, ide.pci);
  const pm = new Piix4Pm(opts.onPowerOff, opts.now);
  pci.add(1, 3, pm);
  pci.attach(bus);
  ide.attach(bus);
  pm.attachPm(bus);
  return { pci, hostBridge, ide, pm, flush: () => ide.flush(), close: () => ide.close() };
}
