/**
 * The power-management function of the PIIX4 (Intel 82371AB datasheet, section 3.4 "Power
 * Management Registers (function 3)"), at 00:01.3 as QEMU's `pc` machine has it beside
 * the PIIX3 (QEMU hw/acpi/piix4.c). Emulated for the guest's poweroff: the PM I/O base
 * PMBA (config 0x40), its enable PMIOSE (config 0x80, PMREGMISC bit 0), and the PM1a
 * control register at PMBA + 4 (ACPI 6.x, 4.8.3.2.1 "PM1 Control Registers"). PMBA keeps
 * the datasheet's read-only bits (QEMU stores any value and decodes it masked by FFC0h:
 * the same base either way).
 * Writing SLP_EN with a sleep type asks the machine to enter that state; QEMU's tables
 * give S5 (soft off) SLP_TYP 0 and S4 SLP_TYP 2, and QEMU powers off for either (hw/acpi/
 * core.c, acpi_pm1_cnt_write). S3 (SLP_TYP 1) is not emulated: the guest runs on.
 * The PM timer at PMBA + 8 counts too (ACPI 4.8.3.3: 24 bits at 3.579545 MHz), on the
 * virtual clock: firmware that finds the function (SeaBIOS) times its delays with it.
 * PM1a_STS and PM1a_EN at PMBA + 0 and + 2 (ACPI 4.8.3.1, the PM1 event registers the
 * FADT describes for an ACPI kernel): no event is ever raised here, so the status reads 0
 * (its bits are write-1-to-clear) and the enable bits are stored as written.
 * The other PM registers (GPE, SMBus) are not emulated: their ports float, as where
 * nothing decodes.
 */
import { BusError, type Bus, type BusDevice } from '../bus.js';
import { int, obj } from '../state.js';
import { PciFunction, PCI_INTERRUPT_LINE } from './pci-function.js';
import { INTEL } from './i440fx.js';

/** PMBA, the 64-byte PM I/O block's base: bits 15:6 R/W, bit 0 hardwired 1 (82371AB 3.4.x). */
export const PMBA = 0x40;
const PMBA_WRITABLE = 0xffc0;
/** PMREGMISC bit 0 PMIOSE: the PM I/O space decodes (82371AB 3.4.x). */
export const PMREGMISC = 0x80;
const PMIOSE = 0x01;
/** PM1a_CNT's offset in the block (QEMU: acpi_pm1_cnt_init at offset 4). */
export const PM1A_CNT = 4;
/** PM1a_STS (+0) and PM1a_EN (+2), 16 bits each (ACPI 4.8.3.1; QEMU acpi_pm1_evt_init). */
export const PM1A_EVT = 0;
/** PM1_CNT bits (ACPI 4.8.3.2.1, Table 4-16): SLP_TYP 12:10, SLP_EN 13 (write-only). */
export const SLP_EN = 0x2000;
const SLP_TYP_SHIFT = 10;
/** PM_TMR's offset in the block (QEMU: acpi_pm_tmr_init at offset 8). */
export const PM_TMR = 8;
/** The PM timer's rate (ACPI 4.8.3.3, "Power Management Timer"): 3.579545 MHz. */
export const PM_TIMER_HZ = 3_579_545;
/** The sleep types QEMU's ACPI tables give: \_S5 0, \_S4 2 (both power the machine off). */
const SLP_TYP_S5 = 0;
const SLP_TYP_S4 = 2;
/** The PM base SeaBIOS programs on QEMU's `pc` machine (src/fw/pciinit.c, acpi_pm_base). */
export const SEABIOS_PMBA = 0x600;
/** SeaBIOS sets the function's Interrupt Line to 9: the SCI is wired to IRQ 9. */
export const PIIX4_SCI_IRQ = 9;

export class Piix4Pm extends PciFunction {
  /** PM1a_CNT as last written, SLP_EN cleared (it reads 0: ACPI 4.8.3.2.1). */
  cnt = 0;
  /** PM1a_EN as last written (ACPI 4.8.3.1.2). */
  en = 0;
  private pmBus?: Bus;
  private evtMapped = -1;
  private pmMapped = -1;
  private tmrMapped = -1;

  /**
   * @param onPowerOff called when the guest enters S5 (or S4): the machine is off.
   * @param now the time in ns the PM timer counts from (the machine's virtual clock).
   */
  constructor(private readonly onPowerOff: () => void = () => {},
    private readonly now: () => number = () => 0) {
    // 82371AB function 3: 8086:7113, class 06 80 00 (other bridge), revision 03 as QEMU,
    // status 0280h (fast back-to-back, medium DEVSEL), INTA#.
    super('piix4-pm', {
      vendor: INTEL, device: 0x7113, classCode: 0x068000, revision: 0x03, status: 0x0280,
      interruptPin: 1,
    });
    this.defineRegister(PMBA, 0x00000001, 4, PMBA_WRITABLE);
    this.defineRegister(PMREGMISC, 0x00, 1, PMIOSE);
  }

  /** PMBA and PMREGMISC move or switch the PM I/O block once the whole access is done. */
  override writeConfig(off: number, size: 1 | 2 | 4, value: number): void {
    super.writeConfig(off, size, value);
    const end = off + size;
    if ((off < PMBA + 4 && end > PMBA) || (off <= PMREGMISC && end > PMREGMISC)) this.remapPm();
  }

  /** The PM I/O base the guest programmed (PMBA bits 15:6). */
  get base(): number { return this.readConfig(PMBA, 2) & PMBA_WRITABLE; }

  /** PMIOSE: the PM I/O block decodes. */
  get enabled(): boolean { return (this.readConfig(PMREGMISC, 1) & PMIOSE) !== 0; }

  /**
   * What SeaBIOS does on QEMU's `pc` machine before any boot loader runs (src/fw/
   * pciinit.c, piix4_pm_config_setup): PMBA 0x600, PMIOSE on, Interrupt Line 9. A machine
   * booting a kernel directly does it in the firmware's place, as QEMU -kernel has it.
   */
  programAsSeaBios(): void {
    this.writeConfig(PCI_INTERRUPT_LINE, 1, PIIX4_SCI_IRQ);
    this.writeConfig(PMBA, 4, SEABIOS_PMBA | 1);
    this.writeConfig(PMREGMISC, 1, PMIOSE);
  }

  /** Decodes the PM I/O block on `bus` as the guest programs it. */
  attachPm(bus: Bus): void { this.pmBus = bus; this.remapPm(); }

  /** PM1a_CNT and PM_TMR decode at PMBA + 4 and + 8 while PMIOSE is set and PMBA is not 0. */
  private remapPm(): void {
    if (!this.pmBus) return;
    const base = this.enabled && this.base !== 0 ? this.base : -1;
    this.evtMapped = this.place(this.evtMapped, base < 0 ? -1 : base + PM1A_EVT, 4, {
      name: 'piix4-pm1a-evt',
      // PM1a_STS reads 0 (no event is raised); PM1a_EN keeps what the guest writes.
      read: (o, size) => ((this.en << 16) >>> (8 * o)) & (0xffffffff >>> (32 - 8 * size)),
      write: (o, size, v) => {
        const mask = (0xffffffff >>> (32 - 8 * size)) << (8 * o);
        const en = ((this.en << 16) & ~mask) | ((v << (8 * o)) & mask);
        this.en = (en >>> 16) & 0xffff;
      },
    });
    this.pmMapped = this.place(this.pmMapped, base < 0 ? -1 : base + PM1A_CNT, 2, {
      name: 'piix4-pm1a-cnt',
      read: (o, size) => (size === 2 ? this.cnt : this.cnt >> (8 * o)) & 0xffff,
      // A 16-bit register (ACPI 4.8.3.2.1; QEMU accepts only word accesses to it).
      write: (o, size, v) => { if (o === 0 && size === 2) this.writeCnt(v); },
    });
    this.tmrMapped = this.place(this.tmrMapped, base < 0 ? -1 : base + PM_TMR, 4, {
      name: 'piix4-pm-tmr',
      read: (o, size) => o === 0 && size === 4 ? this.timer() : 0xffffffff >>> (32 - 8 * size),
      write: () => {}, // read-only
    });
  }

  /** Moves a register from `at` to `want` (-1: nowhere); returns where it is now. */
  private place(at: number, want: number, length: 2 | 4, device: BusDevice): number {
    if (want === at) return at;
    if (at >= 0) this.pmBus!.unregister('pio', at);
    if (want < 0) return -1;
    try {
      this.pmBus!.register({ space: 'pio', base: want, length, width: length, device });
      return want;
    } catch (e) {
      // Programmed over another device: the block stays unmapped, as a PCI BAR would.
      if (!(e instanceof BusError)) throw e;
      this.overlaps++;
      return -1;
    }
  }

  /** PM_TMR: 24 bits of the 3.579545 MHz count since virtual time 0 (ACPI 4.8.3.3). */
  timer(): number {
    const ns = this.now();
    const whole = Math.floor(ns / 1e9), part = ns - whole * 1e9;
    return (whole * PM_TIMER_HZ + Math.floor(part * PM_TIMER_HZ / 1e9)) % 0x1000000;
  }

  private writeCnt(v: number): void {
    this.cnt = v & 0xffff & ~SLP_EN;
    if (!(v & SLP_EN)) return;
    const type = (v >> SLP_TYP_SHIFT) & 7;
    if (type === SLP_TYP_S5 || type === SLP_TYP_S4) this.onPowerOff();
  }

  override state(): { config: string; cnt: number; en?: number } {
    return { ...super.state(), cnt: this.cnt, ...(this.en ? { en: this.en } : {}) };
  }

  override restore(s: unknown, path: string): void {
    super.restore(s, path);
    const o = obj(s, path);
    this.cnt = int(o, 'cnt', path, 0, 0xffff) & ~SLP_EN;
    this.en = o.en === undefined ? 0 : int(o, 'en', path, 0, 0xffff);
    this.remapPm();
  }
}
