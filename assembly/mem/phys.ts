// Guest-physical memory: RAM at RAM_BASE in linear memory, ROM images mapped read-only
// over it (e.g. the BIOS at 0xF0000 and 0xFFFF0000), MMIO ranges whose accesses exit to
// the host, and the A20 gate. Everything else reads as all ones and ignores writes, as
// an unclaimed PC bus does.
import {
  STATE_BASE, S_RAM_BYTES, S_A20_MASK, S_ROM_END, RAM_BASE, ROM_MAX, MMIO_MAX,
  ROM_TABLE, ROM_ENTRY_SIZE, ROM_PHYS, ROM_LEN, ROM_HOST, MMIO_TABLE, MMIO_ENTRY_SIZE, MMIO_PHYS,
  MMIO_LEN, ONES_PAGE_BASE, ONES_PAGE_SIZE, VMMRAM_MAX, VMMRAM_TABLE, VMMRAM_ENTRY_SIZE, VR_PHYS,
  VR_LEN, VR_HOST,
} from '../generated/layout';

export const PAGE_RAM: u32 = 0;
export const PAGE_ROM: u32 = 1;
export const PAGE_MMIO: u32 = 2;
export const PAGE_NONE: u32 = 3;

/** A page of 0xFF bytes that unclaimed physical pages read from. */
export const ONES_PAGE: u32 = ONES_PAGE_BASE;

export let ramBytes: u32 = 0;
export let a20Mask: u32 = 0xffffffff;
let romCount: u32 = 0;
let mmioCount: u32 = 0;
/** Chunks of VMM RAM and the host-physical address after the last one (0: none yet). */
let vmmCount: u32 = 0;
let vmmPhysEnd: u32 = 0;

/**
 * Shadow RAM of the BIOS and option-ROM area 0xC0000-0xFFFFF, as the i440FX PAM registers
 * switch it (82441FX datasheet, 3.2.x "PAM0-PAM6"): twelve 16 KiB regions from 0xC0000 and
 * one 64 KiB region at 0xF0000. Per region: SHADOW_ROM (reset: reads and writes go to the
 * bus, i.e. any ROM mapped there), SHADOW_RAM_RO (reads from RAM, writes dropped),
 * SHADOW_RAM (reads and writes to RAM).
 */
export const SHADOW_ROM: u8 = 0;
export const SHADOW_RAM_RO: u8 = 1;
export const SHADOW_RAM: u8 = 2;
const SHADOW_BASE: u32 = 0xc0000;
const shadowMode = new StaticArray<u8>(13);

/** The shadow region of `pa`, or -1 outside 0xC0000-0xFFFFF. */
@inline function shadowRegion(pa: u32): i32 {
  const d = pa - SHADOW_BASE;
  if (d >= 0x40000) return -1;
  return d >= 0x30000 ? 12 : <i32>(d >>> 14);
}

/** Sets the mode of region `region` (0-11: 16 KiB from 0xC0000; 12: 0xF0000-0xFFFFF). */
export function setShadow(region: u32, mode: u32): bool {
  if (region > 12 || mode > 2) return false;
  unchecked(shadowMode[region] = <u8>mode);
  return true;
}

/** Result of classify(): the host address of the physical byte and the page kind. */
export let classHost: u32 = 0;

export function physInit(ram: u32): void {
  ramBytes = ram;
  store<u32>(STATE_BASE + S_RAM_BYTES, ram);
  store<u32>(STATE_BASE + S_ROM_END, RAM_BASE + ram);
  romCount = 0;
  mmioCount = 0;
  vmmCount = 0;
  vmmPhysEnd = 0;
  for (let i = 0; i < 13; i++) unchecked(shadowMode[i] = SHADOW_ROM);
  memory.fill(ONES_PAGE, 0xff, ONES_PAGE_SIZE);
}

export function setA20(on: bool): void {
  a20Mask = on ? 0xffffffff : 0xffefffff;
  store<u32>(STATE_BASE + S_A20_MASK, a20Mask);
}

/** Reserves host memory for a ROM image after RAM; returns its host address (0 if full). */
export function addRom(phys: u32, len: u32): u32 {
  if (romCount >= <u32>ROM_MAX) return 0;
  let end = load<u32>(STATE_BASE + S_ROM_END);
  const host = end;
  end = (end + len + 0xfff) & ~0xfff;
  const needPages = (end + 0xffff) >>> 16;
  const have = <u32>memory.size();
  if (needPages > have) {
    if (memory.grow(<i32>(needPages - have)) < 0) return 0;
  }
  store<u32>(STATE_BASE + S_ROM_END, end);
  const p = ROM_TABLE + romCount * ROM_ENTRY_SIZE;
  store<u32>(p + ROM_PHYS, phys); store<u32>(p + ROM_LEN, len); store<u32>(p + ROM_HOST, host);
  romCount++;
  return host;
}

/**
 * VMM RAM (issue 9): `bytes` (rounded up to 4 KiB) of zeroed host-physical RAM after guest
 * RAM, for the TypeScript VMM's EPT/NPT tables, VMCB, I/O and MSR bitmaps. Host-physical
 * addresses continue after the guest's RAM (and after the previous chunk); a guest reaches
 * them only through a nested translation the VMM writes. Returns the host-physical address,
 * 0 when memory cannot grow or the table is full.
 */
export function addVmmRam(bytes: u32): u32 {
  if (vmmCount >= <u32>VMMRAM_MAX || bytes == 0 || bytes > 0x40000000) return 0;
  const len = (bytes + 0xfff) & ~0xfff;
  if (vmmPhysEnd == 0) vmmPhysEnd = (ramBytes + 0xfff) & ~0xfff;
  const phys = vmmPhysEnd;
  if (<u64>phys + <u64>len > 0xfec00000) return 0; // below the APIC/BIOS area
  const host = (load<u32>(STATE_BASE + S_ROM_END) + 0xfff) & ~0xfff;
  const end: u64 = <u64>host + <u64>len;
  if (end > 0xffff0000) return 0;
  const needPages = <u32>((end + 0xffff) >> 16);
  const have = <u32>memory.size();
  if (needPages > have && memory.grow(<i32>(needPages - have)) < 0) return 0;
  memory.fill(host, 0, len);
  store<u32>(STATE_BASE + S_ROM_END, <u32>end);
  const p = VMMRAM_TABLE + vmmCount * VMMRAM_ENTRY_SIZE;
  store<u32>(p + VR_PHYS, phys); store<u32>(p + VR_LEN, len); store<u32>(p + VR_HOST, host);
  vmmCount++;
  vmmPhysEnd = phys + len;
  return phys;
}

export function addMmio(phys: u32, len: u32): bool {
  if (mmioCount >= <u32>MMIO_MAX) return false;
  const p = MMIO_TABLE + mmioCount * MMIO_ENTRY_SIZE;
  store<u32>(p + MMIO_PHYS, phys); store<u32>(p + MMIO_LEN, len);
  mmioCount++;
  return true;
}

/** Classifies physical address `pa` (A20 already applied): sets classHost, returns PAGE_*.
 *  ROM wins over MMIO, MMIO over RAM. Called on TLB fills and slow paths only. */
export function classify(pa: u32): u32 {
  const sr = shadowRegion(pa);
  if (sr >= 0 && pa < ramBytes) {
    const m = unchecked(shadowMode[sr]);
    if (m != SHADOW_ROM) {
      classHost = RAM_BASE + pa;
      return m == SHADOW_RAM ? PAGE_RAM : PAGE_ROM;
    }
  }
  for (let i: u32 = 0; i < romCount; i++) {
    const p = ROM_TABLE + i * ROM_ENTRY_SIZE;
    const d = pa - load<u32>(p + ROM_PHYS);
    if (d < load<u32>(p + ROM_LEN)) { classHost = load<u32>(p + ROM_HOST) + d; return PAGE_ROM; }
  }
  for (let i: u32 = 0; i < mmioCount; i++) {
    const p = MMIO_TABLE + i * MMIO_ENTRY_SIZE;
    if (pa - load<u32>(p + MMIO_PHYS) < load<u32>(p + MMIO_LEN)) {
      classHost = 0;
      return PAGE_MMIO;
    }
  }
  if (pa < ramBytes) { classHost = RAM_BASE + pa; return PAGE_RAM; }
  for (let i: u32 = 0; i < vmmCount; i++) {
    const p = VMMRAM_TABLE + i * VMMRAM_ENTRY_SIZE;
    const d = pa - load<u32>(p + VR_PHYS);
    if (d < load<u32>(p + VR_LEN)) { classHost = load<u32>(p + VR_HOST) + d; return PAGE_RAM; }
  }
  classHost = ONES_PAGE + (pa & 0xfff);
  return PAGE_NONE;
}

/** True when a ROM or MMIO range starts or ends inside the 4 KiB page of `pa`, so the page
 *  cannot be mapped as a whole by the TLB. */
export function pageIsMixed(pa: u32): bool {
  const pg = pa & ~0xfff;
  for (let i: u32 = 0; i < romCount; i++) {
    const p = ROM_TABLE + i * ROM_ENTRY_SIZE;
    const s = load<u32>(p + ROM_PHYS), e = s + load<u32>(p + ROM_LEN);
    if ((s > pg && s < pg + 4096) || (e > pg && e < pg + 4096)) return true;
  }
  for (let i: u32 = 0; i < mmioCount; i++) {
    const p = MMIO_TABLE + i * MMIO_ENTRY_SIZE;
    const s = load<u32>(p + MMIO_PHYS), e = s + load<u32>(p + MMIO_LEN);
    if ((s > pg && s < pg + 4096) || (e > pg && e < pg + 4096)) return true;
  }
  return false;
}

/** Physical 32-bit read for page walks (aligned: PDE/PTE addresses are multiples of 4). */
export function physRead32(pa: u32): u32 {
  pa &= a20Mask;
  const k = classify(pa);
  if (k == PAGE_RAM || k == PAGE_ROM) {
    if ((pa & 0xfff) <= 0xffc) return load<u32>(classHost);
  }
  return 0xffffffff;
}

/** Physical 32-bit write for A/D bit updates. Only RAM (and VMM RAM) takes it. */
export function physWrite32(pa: u32, v: u32): void {
  pa &= a20Mask;
  if ((pa & 0xfff) <= 0xffc && classify(pa) == PAGE_RAM) store<u32>(classHost, v);
}
