/**
 * The PC device model: one bus, a virtual clock, and the devices, each a state machine
 * with its interrupt line and host backend injected and `state()`/`fromState()` snapshots.
 */
export {
  Bus, BusError, type BusDevice, type BusCounters, type Registration, type Space, type AccessSize,
} from './bus.js';
export { VirtualClock, Timer, ticksAt, nsOfTick, NS_PER_SECOND } from './clock.js';
export { type IrqLine, NO_IRQ, RecordingIrqLine } from './irq.js';
export { DeviceStateError } from './state.js';
export { Pic8259 } from './pic8259.js';
export { PicPair } from './pic-pair.js';
export { Pit, PIT_HZ } from './pit.js';
export { PitChannel } from './pit-channel.js';
export { Port61, type SpeakerTone } from './port61.js';
export { Rtc, fillMemorySize, type RtcOptions } from './rtc.js';
export { Uart16550, COM1, COM2, type UartOptions } from './uart16550.js';
export { I8042, type I8042Callbacks } from './i8042.js';
export { Ps2Keyboard } from './ps2-keyboard.js';
export { Ps2Mouse } from './ps2-mouse.js';
export { VgaText, textOfScreen, TEXT_BASE, TEXT_BYTES, type Cursor, type VgaState } from './vga.js';
export { PostPort, DebugExit, DebugCon } from './debug-ports.js';
export { PciFunction, type PciIdentity, type BarDefinition } from './pci/pci-function.js';
export { PciHost } from './pci/pci-host.js';
export { i440fxHostBridge, piix3IsaBridge } from './pci/i440fx.js';
export { PiixIrqRouter } from './pci/piix-irq.js';
export { PiixIde, type DmaMemory } from './ide/piix-ide.js';
export { IdeChannel, PRIMARY, SECONDARY } from './ide/ide-channel.js';
export { AtaDevice, type AtaDeviceOptions } from './ide/ata-device.js';
export { buildIdentify } from './ide/ata-identify.js';
export { attachChipset, type Chipset, type ChipsetOptions } from './pc-chipset.js';
export { LocalApic, type LocalApicHost, type ApicStats } from './apic/local-apic.js';
export { IoApic, type IoApicStats } from './apic/io-apic.js';
export {
  writePlatformTables, mpConfigTable, mpFloatingPointer, madt, acpiTable, TABLES_PHYS,
} from './apic/tables.js';
export { MsiCapability, MsixCapability, apicMsiSink, CAP_ID_MSI, CAP_ID_MSIX } from './pci/msi.js';
export { EduDevice, EDU_VENDOR, EDU_DEVICE } from './pci/edu.js';
