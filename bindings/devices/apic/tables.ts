/**
 * The platform tables a kernel searches for in the BIOS area, as SeaBIOS leaves them on
 * QEMU's `pc` machine (the same entries, so a guest prints the same lines under both):
 *
 * - the MP floating pointer structure and MP configuration table (Intel MultiProcessor
 *   Specification 1.4, chapter 4: 4.1 floating pointer, 4.2 header, 4.3 base entries),
 *   in the F segment on a 16-byte boundary (4: "in the BIOS ROM address space between
 *   0F0000h and 0FFFFFh");
 * - the ACPI RSDP (ACPI 6.x, 5.2.5: revision 0, 20 bytes, on a 16-byte boundary in
 *   0E0000h-0FFFFFh), the RSDT (5.2.7) and the MADT (5.2.12) with its processor local
 *   APIC, I/O APIC, interrupt source override and local APIC NMI entries. The RSDT is built
 *   from a list, so a DMAR (VT-d) table can join it later (`extraTables`).
 *
 * - with `power`: the FADT (5.2.9), the FACS (5.2.10) and a DSDT (5.2.11.1) that describe
 *   the PIIX4 PM function's registers as QEMU's tables do (PM1a event block at the PM base,
 *   PM1a control at + 4, the PM timer at + 8, SCI on IRQ 9) and the \_S5 sleep object, so
 *   a kernel powers the machine off by writing SLP_TYP | SLP_EN to PM1a_CNT.
 *
 * Every table's checksum makes its bytes sum to 0 (MP 4.1/4.2, ACPI 5.2.5.3/5.2.6).
 * Not here: the HPET and WAET tables QEMU adds, and the rest of QEMU's DSDT (the PCI
 * interrupt routing _PRT, _CRS windows, the ISA devices): a guest finds the interrupt
 * model, the PCI root bridge and the soft-off state, not the devices.
 */
import { APIC_DEFAULT_BASE, APIC_VERSION_VALUE } from './local-apic.js';
import { IOAPIC_DEFAULT_BASE } from './io-apic.js';

/** Where the tables go: the F segment, reserved in the Multiboot memory map. */
export const TABLES_PHYS = 0xfa000;
const MP_FLOATING = TABLES_PHYS;
const MP_CONFIG = TABLES_PHYS + 0x10;
const RSDP = TABLES_PHYS + 0x100;
const RSDT = TABLES_PHYS + 0x120;
const MADT = TABLES_PHYS + 0x180;
/** First free byte after the MADT for more tables (e.g. a DMAR). */
export const TABLES_FREE = TABLES_PHYS + 0x200;
/** The power-management tables, after room for the extra tables (the FACS 64-byte aligned,
 *  ACPI 5.2.10). */
const FADT = TABLES_PHYS + 0xc00;
const FACS = TABLES_PHYS + 0xc80;
const DSDT = TABLES_PHYS + 0xcc0;

/** The processor entry's CPU signature and features (MP 4.3.1: CPUID.1 EAX and EDX). */
export interface CpuIdentity { signature: number; features: number }

/** ISA IRQs that are not PCI interrupts (SeaBIOS mptable.c: IRQs 5, 9, 10, 11 carry PCI
 *  interrupts on QEMU's pc and get no ISA entry; IRQ 2 is the cascade). */
const ISA_IRQS = [0, 1, 3, 4, 6, 7, 8, 12, 13, 14, 15];
/** PCI-level IRQs in the MADT's interrupt source overrides (SeaBIOS/QEMU: 5, 9, 10, 11). */
const PCI_IRQS = [5, 9, 10, 11];
/** OEM identification as SeaBIOS and QEMU write it (MP 4.2 OEM ID / product ID; ACPI
 *  5.2.6 OEMID, OEM Table ID, Creator ID). */
const MP_OEM = 'BOCHSCPU', MP_PRODUCT = '0.1         ';
const ACPI_OEM = 'BOCHS ', ACPI_TABLE = 'BXPC    ', ACPI_CREATOR = 'BXPC';

class Bytes {
  readonly b: number[] = [];
  u8(...v: number[]): this { for (const x of v) this.b.push(x & 0xff); return this; }
  u16(v: number): this { return this.u8(v, v >> 8); }
  u32(v: number): this { return this.u8(v, v >> 8, v >> 16, v >>> 24); }
  str(s: string): this { for (const c of s) this.b.push(c.charCodeAt(0) & 0xff); return this; }
  set32(at: number, v: number): void {
    for (let i = 0; i < 4; i++) this.b[at + i] = (v >>> (8 * i)) & 0xff;
  }
  /** Sets byte `at` so the bytes `from`..`to` sum to 0 mod 256. */
  checksum(at: number, from = 0, to = this.b.length): void {
    this.b[at] = 0;
    let s = 0;
    for (let i = from; i < to; i++) s += this.b[i];
    this.b[at] = (256 - (s & 0xff)) & 0xff;
  }
  get bytes(): Uint8Array { return Uint8Array.from(this.b); }
}

/** MP configuration table (4.2, table 4-2) with its base entries (4.3). */
export function mpConfigTable(cpu: CpuIdentity): Uint8Array {
  const t = new Bytes();
  t.str('PCMP').u16(0).u8(4, 0).str(MP_OEM).str(MP_PRODUCT).u32(0).u16(0).u16(0);
  t.u32(APIC_DEFAULT_BASE).u16(0).u8(0, 0);
  let entries = 0;
  // Processor (4.3.1, table 4-4): ID 0, version, enabled | BSP, signature, features.
  t.u8(0, 0, APIC_VERSION_VALUE & 0xff, 0x03).u32(cpu.signature).u32(cpu.features);
  t.u32(0).u32(0);
  entries++;
  // Buses (4.3.2): PCI bus 0, ISA bus 1.
  t.u8(1, 0).str('PCI   '); t.u8(1, 1).str('ISA   ');
  entries += 2;
  // I/O APIC (4.3.3): ID 0, version 0x11, usable, address.
  t.u8(2, 0, 0x11, 1).u32(IOAPIC_DEFAULT_BASE);
  entries++;
  // I/O interrupt assignment (4.3.4, table 4-7): the PIIX4 PM function (00:01.3, INTA#,
  // source IRQ (device << 2) | pin) on pin 9, flags 1 (active high, as SeaBIOS writes).
  t.u8(3, 0).u16(1).u8(0, (1 << 2) | 0, 0, 9);
  entries++;
  for (const irq of ISA_IRQS) {
    t.u8(3, 0).u16(0).u8(1, irq, 0, irq === 0 ? 2 : irq);
    entries++;
  }
  // Local interrupt assignment (4.3.5): ExtINT to LINT0 of APIC 0, NMI to LINT1 of all.
  t.u8(4, 3).u16(0).u8(1, 0, 0, 0);
  t.u8(4, 1).u16(0).u8(1, 0, 0xff, 1);
  entries += 2;
  t.b[4] = t.b.length & 0xff; t.b[5] = t.b.length >> 8;
  t.b[34] = entries & 0xff; t.b[35] = entries >> 8;
  t.checksum(7);
  return t.bytes;
}

/** MP floating pointer (4.1, table 4-1): length 1 (16 bytes), revision 4 (1.4), no
 *  default configuration, IMCR absent (virtual wire mode, 3.6.2.2). */
export function mpFloatingPointer(configAddr: number): Uint8Array {
  const t = new Bytes().str('_MP_').u32(configAddr).u8(1, 4, 0, 0, 0, 0, 0, 0);
  t.checksum(10);
  return t.bytes;
}

/** An ACPI table header (5.2.6, table 5-29) over `body`, checksum set. */
export function acpiTable(signature: string, revision: number, body: Uint8Array): Uint8Array {
  const t = new Bytes().str(signature).u32(36 + body.length).u8(revision, 0);
  t.str(ACPI_OEM).str(ACPI_TABLE).u32(1).str(ACPI_CREATOR).u32(1);
  t.u8(...body);
  t.checksum(9);
  return t.bytes;
}

/** MADT (5.2.12): local APIC address, PCAT_COMPAT (8259s present), and its entries. */
export function madt(): Uint8Array {
  const t = new Bytes().u32(APIC_DEFAULT_BASE).u32(1);
  t.u8(0, 8, 0, 0).u32(1); // processor local APIC (5.2.12.2): UID 0, ID 0, enabled
  t.u8(1, 12, 0, 0).u32(IOAPIC_DEFAULT_BASE).u32(0); // I/O APIC (5.2.12.3): ID 0, GSI base 0
  // Interrupt source overrides (5.2.12.5): ISA IRQ 0 -> GSI 2 (flags 0: bus default);
  // the PCI IRQs active high, level (flags 0x0d), as QEMU writes them.
  t.u8(2, 10, 0, 0).u32(2).u16(0);
  for (const irq of PCI_IRQS) t.u8(2, 10, 0, irq).u32(irq).u16(0x0d);
  t.u8(4, 6, 0xff).u16(0).u8(1); // local APIC NMI (5.2.12.7): all processors, LINT1
  return acpiTable('APIC', 1, t.bytes);
}

/** The PM I/O block the FADT describes (the PIIX4 PM function as SeaBIOS programs it). */
export interface PmBlock {
  /** PMBA: PM1a_EVT at + 0 (4 bytes), PM1a_CNT at + 4 (2), PM_TMR at + 8 (4). */
  base: number;
  /** The SCI's ISA IRQ (QEMU and SeaBIOS: 9). */
  sci: number;
}

/**
 * FADT (5.2.9, table 5-33), revision 1 (the ACPI 1.0 layout, 116 bytes, as the 32-bit
 * fields suffice): FIRMWARE_CTRL, DSDT, SCI_INT, no SMI_CMD (0: the machine is in ACPI
 * mode already, 4.8.2.1.2 / 5.2.9 "SMI_CMD"), the PM1a event, PM1a control and PM timer
 * blocks with their lengths, no GPE block, C2/C3 latencies over 100 and 1000 us (not
 * supported), flags WBINVD | PROC_C1 | SLP_BUTTON | RTC_S4 (table 5-34) as QEMU.
 */
export function fadt(pm: PmBlock, facs: number, dsdt: number): Uint8Array {
  const t = new Bytes().u32(facs).u32(dsdt).u8(0, 0).u16(pm.sci);
  t.u32(0).u8(0, 0, 0, 0); // SMI_CMD, ACPI_ENABLE, ACPI_DISABLE, S4BIOS_REQ, PSTATE_CNT
  t.u32(pm.base).u32(0).u32(pm.base + 4).u32(0).u32(0).u32(pm.base + 8).u32(0).u32(0);
  t.u8(4, 2, 0, 4, 0, 0, 0, 0); // PM1_EVT_LEN, PM1_CNT_LEN, PM2, PM_TMR_LEN, GPE0/1, CST
  t.u16(0xfff).u16(0xfff).u16(0).u16(0); // P_LVL2_LAT, P_LVL3_LAT, FLUSH_SIZE/STRIDE
  t.u8(0, 0, 0, 0, 0).u16(0).u8(0); // DUTY_*, alarms, CENTURY, IAPC_BOOT_ARCH, reserved
  t.u32(0x01 | 0x04 | 0x20 | 0x80);
  return acpiTable('FACP', 1, t.bytes);
}

/** FACS (5.2.10, table 5-37): 64 bytes, no checksum, hardware signature 0, no waking
 *  vector, version 1. */
export function facs(): Uint8Array {
  const t = new Bytes().str('FACS').u32(64).u32(0).u32(0).u32(0).u32(0).u8(1);
  while (t.b.length < 64) t.u8(0);
  return t.bytes;
}

/**
 * The DSDT's AML (ACPI 6.x chapter 20), assembled by hand; in ASL:
 *   Scope (\_SB) { Device (PCI0) { Name (_HID, EisaId ("PNP0A03")) Name (_ADR, Zero) } }
 *   Name (\_S5, Package (4) { Zero, Zero, Zero, Zero })
 * The PCI root bridge (PNP0A03, 6.1.5 _HID; the EISA ID compressed as 20.2.x EISAID)
 * lets a kernel that takes PCI from ACPI scan bus 0; \_S5 (7.4.2.5 "\_S5 (S5 System
 * State)") gives SLP_TYPa 0, QEMU's value for soft off (the PIIX4 PM function powers off).
 */
export const DSDT_AML = Uint8Array.from([
  // ScopeOp (20.2.5.1) PkgLength 0x1c '_SB_'
  0x10, 0x1c, 0x5f, 0x53, 0x42, 0x5f,
  //   DeviceOp (ExtOpPrefix 0x5b 0x82) PkgLength 0x15 'PCI0'
  0x5b, 0x82, 0x15, 0x50, 0x43, 0x49, 0x30,
  //     NameOp '_HID' DWordPrefix EISAID("PNP0A03") = 0x030ad041
  0x08, 0x5f, 0x48, 0x49, 0x44, 0x0c, 0x41, 0xd0, 0x0a, 0x03,
  //     NameOp '_ADR' ZeroOp
  0x08, 0x5f, 0x41, 0x44, 0x52, 0x00,
  // NameOp '_S5_' PackageOp PkgLength 6 NumElements 4, four ZeroOp
  0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00,
]);

export interface TableOptions {
  cpu: CpuIdentity;
  /** The MP table and the MADT (a machine with an APIC), default true. */
  apic?: boolean;
  /** The FADT, FACS and DSDT of the PM function (see `fadt`). */
  power?: PmBlock;
  /** More ACPI tables for the RSDT (e.g. a DMAR), each with its header, placed after the
   *  MADT. */
  extraTables?: Uint8Array[];
}

/** Writes the MP and ACPI tables into guest memory (`write(addr, bytes)`). */
export function writePlatformTables(write: (addr: number, data: Uint8Array) => void,
  opts: TableOptions): void {
  const tables: number[] = [];
  if (opts.apic ?? true) {
    write(MP_CONFIG, mpConfigTable(opts.cpu));
    write(MP_FLOATING, mpFloatingPointer(MP_CONFIG));
    tables.push(MADT);
    write(MADT, madt());
  }
  if (opts.power) {
    write(FACS, facs());
    write(DSDT, acpiTable('DSDT', 1, DSDT_AML));
    write(FADT, fadt(opts.power, FACS, DSDT));
    tables.push(FADT);
  }
  let at = TABLES_FREE;
  for (const x of opts.extraTables ?? []) {
    write(at, x);
    tables.push(at);
    at = (at + x.length + 15) & ~15;
  }
  const body = new Bytes();
  for (const a of tables) body.u32(a);
  write(RSDT, acpiTable('RSDT', 1, body.bytes));
  // RSDP (5.2.5.3, table 5-27): revision 0 (ACPI 1.0 layout), the RSDT's address.
  const r = new Bytes().str('RSD PTR ').u8(0).str(ACPI_OEM).u8(0).u32(RSDT);
  r.checksum(8);
  write(RSDP, r.bytes);
}
