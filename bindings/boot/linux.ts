/**
 * The Linux/x86 boot protocol: a bzImage started at its 32-bit entry, as the kernel's
 * Documentation/x86/boot.rst ("The Linux/x86 Boot Protocol") allows, with no real-mode
 * BIOS and no real-mode setup code run. Section names below are boot.rst's; the
 * boot_params offsets are Documentation/x86/zero-page.rst's.
 *
 * What the loader does ("32-bit Boot Protocol"):
 * - a zero page (`struct boot_params`) is allocated and zeroed, and the setup header at
 *   offset 0x01f1 of the image is copied into it up to its end (0x0202 + the byte at
 *   0x0201); the fields a boot loader writes are then filled in ("Details of Header
 *   Fields": type_of_loader, loadflags, cmd_line_ptr, ramdisk_image, ramdisk_size), and
 *   the fields of zero-page.rst that the real-mode setup would have filled from the BIOS:
 *   the E820 map (e820_table, e820_entries), alt_mem_k, screen_info (80x25 colour text);
 * - the protected-mode kernel (the file from (setup_sects + 1) * 512 on, "Loading the Rest
 *   of the Kernel") is loaded at 0x100000; a relocatable kernel moves itself to its
 *   pref_address while it decompresses, so RAM must hold [max(0x100000, pref_address),
 *   + init_size) ("Details of Header Fields": init_size);
 * - the command line goes to 0x20000 (where QEMU puts it, 2.02+ "cmd_line_ptr": anywhere
 *   between the end of the setup heap and 0xA0000), the zero page to 0x10000, and the
 *   initrd as high as `initrd_addr_max` and RAM allow, page aligned (as QEMU does);
 * - the CPU starts at code32_start in 32-bit protected mode with paging off, a GDT with
 *   flat __BOOT_CS (0x10) and __BOOT_DS (0x18), CS = 0x10, DS = ES = SS = 0x18, IF = 0,
 *   ESI = the zero page, EBP = EDI = EBX = 0 ("32-bit Boot Protocol").
 *
 * The real-mode setup code is not run, so nothing of its work that the kernel reads
 * later exists unless written here: no EDD, no APM, no IST, no video mode switch (the
 * screen is whatever mode 3 the machine has).
 */

import type { Core, Regs, Segment, SegName, TableReg } from '../core/types.js';
import { platformMemoryMap, type MemoryWrite, type MmapEntry } from './multiboot.js';

/** "The Real-Mode Kernel Header": "HdrS" at 0x0202. */
export const LINUX_HEADER_MAGIC = 0x53726448;
/** 0x01fe: boot_flag 0xAA55. */
export const LINUX_BOOT_FLAG = 0xaa55;

/** Offsets in the image and in boot_params (boot.rst header table; zero-page.rst). */
export const HDR = {
  setupSects: 0x1f1,
  bootFlag: 0x1fe,
  jumpEnd: 0x201,
  header: 0x202,
  version: 0x206,
  typeOfLoader: 0x210,
  loadflags: 0x211,
  code32Start: 0x214,
  ramdiskImage: 0x218,
  ramdiskSize: 0x21c,
  cmdLinePtr: 0x228,
  initrdAddrMax: 0x22c,
  kernelAlignment: 0x230,
  relocatableKernel: 0x234,
  cmdlineSize: 0x238,
  prefAddress: 0x258,
  initSize: 0x260,
} as const;

/** zero-page.rst offsets of the fields outside the setup header. */
export const ZP = {
  screenInfo: 0x000,
  extRamdiskImage: 0x0c0,
  extRamdiskSize: 0x0c4,
  extCmdLinePtr: 0x0c8,
  altMemK: 0x1e0,
  e820Entries: 0x1e8,
  e820Table: 0x2d0,
} as const;
/** zero-page.rst: e820_table has 128 entries of 20 bytes (E820_MAX_ENTRIES_ZEROPAGE). */
export const E820_MAX_ZEROPAGE = 128;

/** loadflags bit 0 (LOADED_HIGH): the protected-mode code is loaded at 0x100000. */
export const LOADED_HIGH = 0x01;
/** type_of_loader 0xFF: "undefined" boot loader (boot.rst, "type_of_loader"). */
export const LOADER_UNDEFINED = 0xff;

/** Where things go: zero page, command line, GDT (QEMU's real_addr and cmdline_addr). */
export const ZERO_PAGE_ADDR = 0x10000;
export const CMDLINE_ADDR = 0x20000;
export const GDT_ADDR = 0x11000;
/** "Loading the Rest of the Kernel": a bzImage's protected-mode code goes to 0x100000. */
export const KERNEL_ADDR = 0x100000;
/** boot.rst "initrd_addr_max": before 2.03 the highest initrd address is 0x37FFFFFF. */
const OLD_INITRD_MAX = 0x37ffffff;
/** boot.rst "cmdline_size": before 2.06 the command line is at most 255 bytes. */
const OLD_CMDLINE_MAX = 255;
const PAGE = 4096;

export class LinuxBootError extends Error {
  override name = 'LinuxBootError';
}

export interface LinuxHeader {
  /** Boot protocol version, e.g. 0x020f. */
  version: number;
  setupSects: number;
  loadflags: number;
  code32Start: number;
  initrdAddrMax: number;
  kernelAlignment: number;
  relocatable: boolean;
  cmdlineSize: number;
  prefAddress: number;
  initSize: number;
  /** File offset of the protected-mode kernel. */
  kernelOffset: number;
}

export interface LinuxOptions {
  /** Guest RAM size in bytes (contiguous from 0). */
  ramBytes: number;
  cmdline?: string;
  initrd?: Uint8Array;
}

export interface LinuxPlan {
  header: LinuxHeader;
  writes: MemoryWrite[];
  entry: number;
  zeroPage: number;
  mmap: MmapEntry[];
  initrd?: { addr: number; size: number };
  regs: Partial<Regs>;
  segments: Partial<Record<SegName, Segment>>;
  gdtr: TableReg;
  idtr: TableReg;
}

const hex = (n: number): string => '0x' + (n >>> 0).toString(16);

/** Whether `image` is a Linux kernel with the boot protocol's header ("HdrS" at 0x202). */
export function isLinuxKernel(image: Uint8Array): boolean {
  if (image.byteLength < 0x210) return false;
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  return v.getUint32(HDR.header, true) === LINUX_HEADER_MAGIC;
}

/** Reads and checks the setup header ("The Real-Mode Kernel Header"). */
export function readLinuxHeader(image: Uint8Array): LinuxHeader {
  if (!isLinuxKernel(image))
    throw new LinuxBootError('not a Linux kernel: no "HdrS" boot protocol header at 0x202');
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const version = v.getUint16(HDR.version, true);
  // "32-bit Boot Protocol" needs the protected-mode kernel loaded high (bzImage, 2.00+),
  // cmd_line_ptr (2.02+) and code32_start honoured; refuse what predates that.
  if (version < 0x0202)
    throw new LinuxBootError(`boot protocol ${hex(version)} is older than 2.02: ` +
      'this loader needs cmd_line_ptr and the 32-bit entry (protocol 2.02 or later)');
  const hdrEnd = HDR.header + image[HDR.jumpEnd];
  const need = (off: number): number => (off < hdrEnd ? off : -1);
  const u32 = (off: number, dflt: number): number =>
    need(off + 4 - 1) >= 0 && off + 4 <= image.byteLength ? v.getUint32(off, true) : dflt;
  const setupSects = image[HDR.setupSects] || 4; // "setup_sects": 0 means 4
  const loadflags = image[HDR.loadflags];
  if (!(loadflags & LOADED_HIGH))
    throw new LinuxBootError('zImage (loadflags LOADED_HIGH clear): the protected-mode ' +
      'kernel would go to 0x10000; only a bzImage is supported');
  const kernelOffset = (setupSects + 1) * 512;
  if (kernelOffset >= image.byteLength)
    throw new LinuxBootError(`setup_sects ${setupSects} puts the protected-mode kernel at ` +
      `${hex(kernelOffset)}, beyond the end of the file (${image.byteLength} bytes)`);
  const version205 = version >= 0x0205, version20a = version >= 0x020a;
  return {
    version,
    setupSects,
    loadflags,
    code32Start: v.getUint32(HDR.code32Start, true),
    initrdAddrMax: version >= 0x0203 ? u32(HDR.initrdAddrMax, OLD_INITRD_MAX) : OLD_INITRD_MAX,
    kernelAlignment: version205 ? u32(HDR.kernelAlignment, 0) : 0,
    relocatable: version205 && image[HDR.relocatableKernel] !== 0,
    cmdlineSize: version >= 0x0206 ? u32(HDR.cmdlineSize, OLD_CMDLINE_MAX) : OLD_CMDLINE_MAX,
    prefAddress: version20a && HDR.prefAddress + 8 <= hdrEnd
      ? Number(v.getBigUint64(HDR.prefAddress, true)) : KERNEL_ADDR,
    initSize: version20a ? u32(HDR.initSize, 0) : 0,
    kernelOffset,
  };
}

/** __BOOT_CS and __BOOT_DS ("32-bit Boot Protocol"): flat 4 GiB, base 0 (SDM vol. 3A 3.4.5). */
const GDT_BYTES = new Uint8Array([
  0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0,
  0xff, 0xff, 0, 0, 0, 0x9b, 0xcf, 0, // 0x10 __BOOT_CS: 32-bit code, execute/read, accessed
  0xff, 0xff, 0, 0, 0, 0x93, 0xcf, 0, // 0x18 __BOOT_DS: 32-bit data, read/write, accessed
]);
/** The hidden parts after loading them (access rights as the VMCS has them, SDM 3C 25.4.1). */
export const BOOT_CS: Segment = { selector: 0x10, base: 0, limit: 0xffffffff, access: 0xc09b };
export const BOOT_DS: Segment = { selector: 0x18, base: 0, limit: 0xffffffff, access: 0xc093 };

/** Builds the load plan: kernel, zero page, command line, initrd, GDT and CPU state. */
export function planLinux(image: Uint8Array, opts: LinuxOptions): LinuxPlan {
  const { ramBytes } = opts;
  const header = readLinuxHeader(image);
  const protectedMode = image.subarray(header.kernelOffset);
  // A relocatable kernel decompresses at max(load address aligned up, pref_address) and
  // needs init_size bytes there (boot.rst "init_size"; the kernel's compressed/head_32.S).
  const align = header.relocatable && header.kernelAlignment ? header.kernelAlignment : 1;
  const alignedLoad = Math.ceil(KERNEL_ADDR / align) * align;
  const runAt = Math.max(alignedLoad, header.prefAddress, KERNEL_ADDR);
  const kernelTop = Math.max(KERNEL_ADDR + protectedMode.length, runAt + header.initSize);
  if (kernelTop > ramBytes)
    throw new LinuxBootError(`the kernel needs RAM up to ${hex(kernelTop)} (loaded at ` +
      `${hex(KERNEL_ADDR)}, decompressed at ${hex(runAt)} with init_size ` +
      `${hex(header.initSize)}); the guest has ${hex(ramBytes)} bytes`);

  const cmdline = new TextEncoder().encode(opts.cmdline ?? '');
  if (cmdline.length > header.cmdlineSize)
    throw new LinuxBootError(`the command line is ${cmdline.length} bytes; this kernel ` +
      `takes at most ${header.cmdlineSize} (cmdline_size)`);
  const cmdBytes = new Uint8Array(cmdline.length + 1);
  cmdBytes.set(cmdline);

  // The zero page: the setup header copied in, then the loader's fields.
  const zp = new Uint8Array(PAGE);
  const hdrEnd = Math.min(HDR.header + image[HDR.jumpEnd], image.byteLength, PAGE);
  zp.set(image.subarray(HDR.setupSects, hdrEnd), HDR.setupSects);
  const z = new DataView(zp.buffer);
  zp[HDR.typeOfLoader] = LOADER_UNDEFINED;
  // loadflags: LOADED_HIGH stays; CAN_USE_HEAP (bit 7) stays clear, no setup heap is used.
  zp[HDR.loadflags] = header.loadflags & ~0x80;
  z.setUint32(HDR.code32Start, header.code32Start, true);
  z.setUint32(HDR.cmdLinePtr, CMDLINE_ADDR, true);
  z.setUint32(ZP.extCmdLinePtr, 0, true);

  let initrd: LinuxPlan['initrd'];
  const writes: MemoryWrite[] = [
    { addr: KERNEL_ADDR, data: protectedMode, what: 'protected-mode kernel' },
  ];
  if (opts.initrd && opts.initrd.length) {
    const size = opts.initrd.length;
    // As high as allowed, page aligned (QEMU: (initrd_max - size) & ~page).
    const max = Math.min(header.initrdAddrMax, ramBytes - 1);
    const addr = Math.floor((max + 1 - size) / PAGE) * PAGE;
    if (addr < kernelTop)
      throw new LinuxBootError(`the initrd (${size} bytes) does not fit between the kernel ` +
        `(up to ${hex(kernelTop)}) and ${hex(max + 1)}: give the guest more RAM`);
    z.setUint32(HDR.ramdiskImage, addr, true);
    z.setUint32(HDR.ramdiskSize, size, true);
    initrd = { addr, size };
    writes.push({ addr, data: opts.initrd, what: 'initrd' });
  }

  // The memory map the real-mode setup would have read with INT 15h E820.
  const mmap = platformMemoryMap(ramBytes);
  if (mmap.length > E820_MAX_ZEROPAGE) throw new LinuxBootError('memory map too long');
  mmap.forEach((e, i) => {
    const at = ZP.e820Table + 20 * i;
    z.setBigUint64(at, BigInt(e.base), true);
    z.setBigUint64(at + 8, BigInt(e.length), true);
    z.setUint32(at + 16, e.type, true);
  });
  zp[ZP.e820Entries] = mmap.length;
  // alt_mem_k: KiB of memory above 1 MiB (INT 15h E801 as setup's memory.c reads it).
  z.setUint32(ZP.altMemK, Math.max(0, (ramBytes - KERNEL_ADDR) / 1024), true);
  // screen_info (include/uapi/linux/screen_info.h) as setup's video.c leaves it in mode 3:
  // cursor 0,0; mode 3; 80 columns; EGA/VGA (ega_bx 3: colour, 256 KiB); 25 lines;
  // VIDEO_TYPE_VGAC (0x22, orig_video_isVGA 1); 16-pixel character cells.
  z.setUint8(0x06, 3); // orig_video_mode
  z.setUint8(0x07, 80); // orig_video_cols
  z.setUint16(0x0a, 0x0003, true); // orig_video_ega_bx
  z.setUint8(0x0e, 25); // orig_video_lines
  z.setUint8(0x0f, 1); // orig_video_isVGA
  z.setUint16(0x10, 16, true); // orig_video_points

  writes.push(
    { addr: ZERO_PAGE_ADDR, data: zp, what: 'zero page (boot_params)' },
    { addr: CMDLINE_ADDR, data: cmdBytes, what: 'command line' },
    { addr: GDT_ADDR, data: GDT_BYTES, what: 'GDT' },
  );
  for (const w of writes) {
    if (w.addr + w.data.length > ramBytes)
      throw new LinuxBootError(`${w.what} [${hex(w.addr)}, ${hex(w.addr + w.data.length)}) ` +
        `lies outside guest RAM (${hex(ramBytes)} bytes)`);
  }
  return {
    header,
    writes,
    entry: header.code32Start,
    zeroPage: ZERO_PAGE_ADDR,
    mmap,
    initrd,
    regs: {
      eax: 0, ebx: 0, ecx: 0, edx: 0, esp: 0, ebp: 0, edi: 0,
      esi: ZERO_PAGE_ADDR,
      eip: header.code32Start,
      eflags: 0x2,
      // PE set on the power-on CR0 (SDM vol. 3A 9.1.1: CD, NW, ET), as the real-mode
      // setup's protected-mode jump (pmjump.S ORs PE into CR0) leaves it under QEMU.
      cr0: 0x60000011, cr2: 0, cr3: 0, cr4: 0,
    },
    segments: { cs: BOOT_CS, ds: BOOT_DS, es: BOOT_DS, fs: BOOT_DS, gs: BOOT_DS, ss: BOOT_DS },
    gdtr: { base: GDT_ADDR, limit: GDT_BYTES.length - 1 },
    idtr: { base: 0, limit: 0 },
  };
}

/** Resets `core` and starts it in the plan's state. */
export function applyLinux(core: Core, plan: LinuxPlan): void {
  core.reset();
  for (const w of plan.writes) core.writePhys(w.addr, w.data);
  for (const [name, seg] of Object.entries(plan.segments) as [SegName, Segment][])
    core.setSegment(name, seg);
  core.setTable('gdtr', plan.gdtr);
  core.setTable('idtr', plan.idtr);
  core.setRegs(plan.regs);
}
