/**
 * Multiboot (version 1) direct kernel boot, done the way QEMU's `-kernel` does it
 * (QEMU hw/i386/multiboot.c plus its option ROM pc-bios/optionrom/multiboot.S).
 *
 * Spec: "Multiboot Specification version 0.6.96" (GNU GRUB). Section numbers below refer
 * to it. The loader is pure: `planMultiboot()` takes the image bytes and returns what to
 * write where and the CPU state to start in, so it is testable without a CPU;
 * `applyMultiboot()` puts a plan into a `Core`.
 *
 * What this loader does about the things the spec leaves open (3.2 "Machine state"):
 * - GDTR: the spec says it "may be invalid" and the kernel must load its own. Like QEMU's
 *   option ROM we do load a GDT (null, 0x08 flat 32-bit code, 0x10 flat 32-bit data,
 *   0x18 16-bit code, 0x20 16-bit data: the same five descriptors as QEMU's multiboot.S),
 *   placed in RAM at `GDT_ADDR`, and CS=0x08, DS=ES=FS=GS=SS=0x10.
 * - IDTR: left at the real-mode IVT (base 0, limit 0x3ff) as after a BIOS; the kernel must
 *   load its own IDT before enabling interrupts.
 * - ESP and the other general registers are 0 (the kernel sets its own stack, 3.2).
 * - EFLAGS = 0x00000002 (IF=0, VM=0; bit 1 is reserved-one, SDM vol. 1, 3.4.3).
 * - CR0 = 0x60000011: the power-on value (SDM vol. 3A, 9.1.1, table 9-1: CD, NW, ET) with
 *   PE set, as QEMU's option ROM leaves it; PG clear.
 * - The boot information lives where QEMU puts it: the memory map at 0x9000, the info
 *   structure at 0x9500; command line, boot loader name and module list after the kernel,
 *   page aligned, then the modules (each page aligned). A kernel (or its modules) loaded
 *   over 0x9000-0xA000 boots too: QEMU loads the image over its boot information there
 *   (multiboot.S reads the kernel after the info and the E820 map, so the kernel's bytes
 *   win); here the memory map, info structure and GDT then follow the boot strings after
 *   the kernel instead, where nothing loaded can collide with them.
 * - The memory map is the E820-style map of this platform: conventional memory up to
 *   0x9fc00 (the EBDA above it reserved), the BIOS area 0xf0000-0xfffff reserved, RAM from
 *   1 MiB to the end of RAM. QEMU's map comes from SeaBIOS and also reserves the top 128 KiB
 *   of RAM and the flash at 4 GiB - 256 KiB; ours has no firmware there.
 * - The command line is the one given (QEMU prefixes it with the kernel's file name).
 */

import type { Core, Regs, Segment, SegName, TableReg } from '../core/types.js';

/** 3.1.1: the header magic. */
export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
/** 3.2: the value in EAX telling the kernel it was loaded by a Multiboot loader. */
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
/** 3.1.2: the header must be contained completely within the first 8192 bytes, 32-bit aligned. */
export const MULTIBOOT_SEARCH = 8192;

/** 3.1.2 header flags. */
export const HEADER_PAGE_ALIGN = 1 << 0;
export const HEADER_MEMORY_INFO = 1 << 1;
export const HEADER_VIDEO_MODE = 1 << 2;
export const HEADER_AOUT_KLUDGE = 1 << 16;

/** 3.3 boot information flags (the ones this loader sets, the same set as QEMU). */
export const INFO_MEMORY = 1 << 0;
export const INFO_BOOT_DEVICE = 1 << 1;
export const INFO_CMDLINE = 1 << 2;
export const INFO_MODS = 1 << 3;
export const INFO_MMAP = 1 << 6;
export const INFO_BOOT_LOADER_NAME = 1 << 9;

/** Where the boot information goes (QEMU hw/i386/multiboot.c: MULTIBOOT_STRUCT_ADDR 0x9000). */
export const MMAP_ADDR = 0x9000;
export const INFO_ADDR = 0x9500;
/** 3.3: the information structure is 88 bytes (up to vbe_interface_len). */
export const INFO_SIZE = 88;
/** Our GDT, right after the information structure. */
export const GDT_ADDR = INFO_ADDR + 0x80;
/** The low boot-information area [MMAP_ADDR, BOOT_AREA_END), used when nothing loaded is in it. */
export const BOOT_AREA_END = 0xa000;

/** E820 / multiboot mmap types (3.3: 1 = available RAM, anything else reserved). */
export const MMAP_AVAILABLE = 1;
export const MMAP_RESERVED = 2;

/** Conventional memory top: 639 KiB, the last KiB below 640 KiB being the EBDA. */
const CONVENTIONAL_TOP = 0x9fc00;
const HIGH_MEMORY = 0x100000;
const PAGE = 4096;

export class MultibootError extends Error {
  override name = 'MultibootError';
}

export interface MultibootHeader {
  /** Byte offset of the header in the image. */
  offset: number;
  flags: number;
  /** Present only with the a.out kludge (flag bit 16), 3.1.3. */
  aout?: {
    headerAddr: number;
    loadAddr: number;
    loadEndAddr: number;
    bssEndAddr: number;
    entryAddr: number;
  };
}

export interface MultibootModule {
  data: Uint8Array;
  /** The module's string (3.3 mods: usually its command line). */
  string?: string;
}

export interface MultibootOptions {
  /** Guest RAM size in bytes (RAM is contiguous from address 0). */
  ramBytes: number;
  cmdline?: string;
  modules?: MultibootModule[];
  bootLoaderName?: string;
}

/** One block of guest-physical memory to write. */
export interface MemoryWrite {
  addr: number;
  data: Uint8Array;
  /** What it is, for error messages and debugging ("ELF segment 1", "bss", ...). */
  what: string;
}

export interface MmapEntry { base: number; length: number; type: number }

export interface MultibootPlan {
  header: MultibootHeader;
  format: 'elf' | 'aout-kludge';
  writes: MemoryWrite[];
  entry: number;
  infoAddr: number;
  mmap: MmapEntry[];
  /** First byte after the kernel image including its bss. */
  kernelEnd: number;
  regs: Partial<Regs>;
  segments: Partial<Record<SegName, Segment>>;
  gdtr: TableReg;
  idtr: TableReg;
}

const hex = (n: number): string => '0x' + (n >>> 0).toString(16);
const pageAlign = (n: number): number => Math.ceil(n / PAGE) * PAGE;

/** 3.1.2: finds the header (magic, flags, checksum summing to 0) in the first 8192 bytes. */
export function findMultibootHeader(image: Uint8Array): MultibootHeader {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const end = Math.min(image.byteLength, MULTIBOOT_SEARCH) - 12;
  let badChecksumAt = -1;
  for (let off = 0; off <= end; off += 4) {
    if (view.getUint32(off, true) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = view.getUint32(off + 4, true);
    const checksum = view.getUint32(off + 8, true);
    if (((MULTIBOOT_HEADER_MAGIC + flags + checksum) >>> 0) !== 0) {
      if (badChecksumAt < 0) badChecksumAt = off;
      continue;
    }
    const header: MultibootHeader = { offset: off, flags };
    if (flags & HEADER_AOUT_KLUDGE) {
      if (off + 32 > image.byteLength) {
        throw new MultibootError(
          `multiboot header at offset ${hex(off)}: ` +
            'a.out kludge fields are cut off by the end of the image',
        );
      }
      header.aout = {
        headerAddr: view.getUint32(off + 12, true),
        loadAddr: view.getUint32(off + 16, true),
        loadEndAddr: view.getUint32(off + 20, true),
        bssEndAddr: view.getUint32(off + 24, true),
        entryAddr: view.getUint32(off + 28, true),
      };
    }
    return header;
  }
  if (badChecksumAt >= 0) {
    throw new MultibootError(
      `multiboot header at offset ${hex(badChecksumAt)} has a ` +
        'bad checksum (magic + flags + checksum must be 0 mod 2^32)',
    );
  }
  throw new MultibootError(
    `no multiboot header (magic ${hex(MULTIBOOT_HEADER_MAGIC)}) ` +
      `in the first ${MULTIBOOT_SEARCH} bytes of the image`,
  );
}

/** 3.1.2: bits 0-15 are requirements; a loader must refuse those it does not understand. */
function checkRequiredFlags(header: MultibootHeader): void {
  const unknown = header.flags & 0xfff8;
  if (unknown) {
    throw new MultibootError(
      `multiboot header at offset ${hex(header.offset)} requires ` +
        `unsupported features (flags bits ${hex(unknown)})`,
    );
  }
  // Bit 2 (video mode) is not refused: QEMU also boots such kernels in text mode.
}

function checkInRam(addr: number, length: number, ramBytes: number, what: string): void {
  if (addr < 0 || length < 0 || addr + length > ramBytes) {
    throw new MultibootError(
      `${what} [${hex(addr)}, ${hex(addr + length)}) ` +
        `lies outside guest RAM (${hex(ramBytes)} bytes)`,
    );
  }
}

const overlapsLowBootArea = (w: MemoryWrite): boolean =>
  w.addr < BOOT_AREA_END && w.addr + w.data.length > MMAP_ADDR;

/** 3.1.3: the a.out kludge: the header says where the image goes. */
function loadAout(image: Uint8Array, header: MultibootHeader, ramBytes: number) {
  const a = header.aout!;
  if (a.loadAddr > a.headerAddr) {
    throw new MultibootError(
      `a.out kludge: load_addr ${hex(a.loadAddr)} is above header_addr ${hex(a.headerAddr)}`,
    );
  }
  const fileStart = header.offset - (a.headerAddr - a.loadAddr);
  if (fileStart < 0) {
    throw new MultibootError(
      `a.out kludge: header_addr - load_addr (${hex(a.headerAddr - a.loadAddr)}) ` +
        `is larger than the header's offset in the file (${hex(header.offset)})`,
    );
  }
  const loadEnd = a.loadEndAddr === 0 ? a.loadAddr + (image.byteLength - fileStart) : a.loadEndAddr;
  if (loadEnd < a.loadAddr)
    throw new MultibootError(
      `a.out kludge: load_end_addr ${hex(loadEnd)} is below load_addr ${hex(a.loadAddr)}`,
    );
  const length = loadEnd - a.loadAddr;
  if (fileStart + length > image.byteLength) {
    throw new MultibootError(
      `a.out kludge: load_end_addr ${hex(loadEnd)} asks for ${length} bytes but the ` +
        `file has only ${image.byteLength - fileStart} after offset ${hex(fileStart)}`,
    );
  }
  const bssEnd = a.bssEndAddr === 0 ? loadEnd : a.bssEndAddr;
  if (bssEnd < loadEnd)
    throw new MultibootError(
      `a.out kludge: bss_end_addr ${hex(bssEnd)} is below load_end_addr ${hex(loadEnd)}`,
    );
  checkInRam(a.loadAddr, bssEnd - a.loadAddr, ramBytes, 'a.out kludge image');
  if (a.entryAddr < a.loadAddr || a.entryAddr >= loadEnd) {
    throw new MultibootError(
      `a.out kludge: entry_addr ${hex(a.entryAddr)} is outside ` +
        `the loaded text [${hex(a.loadAddr)}, ${hex(loadEnd)})`,
    );
  }
  const writes: MemoryWrite[] = [
    {
      addr: a.loadAddr,
      data: image.subarray(fileStart, fileStart + length),
      what: 'a.out kludge text+data',
    },
  ];
  if (bssEnd > loadEnd)
    writes.push({
      addr: loadEnd,
      data: new Uint8Array(bssEnd - loadEnd),
      what: 'a.out kludge bss',
    });
  return { writes, entry: a.entryAddr, end: bssEnd };
}

/** ELF32 (System V ABI, Intel386 supplement): load the PT_LOAD program headers at their p_paddr. */
function loadElf(image: Uint8Array, ramBytes: number) {
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (image.byteLength < 52 || v.getUint32(0, false) !== 0x7f454c46) {
    throw new MultibootError(
      'image has no a.out kludge (header flag bit 16) and is not an ELF file',
    );
  }
  if (image[4] !== 1)
    throw new MultibootError(
      `ELF class ${image[4]} is not ELFCLASS32 (a 64-bit image cannot be booted by Multiboot v1)`,
    );
  if (image[5] !== 1)
    throw new MultibootError(`ELF data encoding ${image[5]} is not little-endian`);
  const type = v.getUint16(16, true);
  const machine = v.getUint16(18, true);
  if (type !== 2) throw new MultibootError(`ELF type ${type} is not ET_EXEC`);
  if (machine !== 3) throw new MultibootError(`ELF machine ${machine} is not EM_386`);
  const entry = v.getUint32(24, true);
  const phoff = v.getUint32(28, true);
  const phentsize = v.getUint16(42, true);
  const phnum = v.getUint16(44, true);
  if (phentsize < 32 || phoff + phnum * phentsize > image.byteLength) {
    throw new MultibootError(
      `ELF program header table (offset ${hex(phoff)}, ` +
        `${phnum} x ${phentsize} bytes) lies outside the file`,
    );
  }
  const writes: MemoryWrite[] = [];
  let end = 0;
  let physEntry: number | undefined;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (v.getUint32(p, true) !== 1) continue; // PT_LOAD only
    const offset = v.getUint32(p + 4, true);
    const vaddr = v.getUint32(p + 8, true);
    const paddr = v.getUint32(p + 12, true);
    const filesz = v.getUint32(p + 16, true);
    const memsz = v.getUint32(p + 20, true);
    if (filesz > memsz)
      throw new MultibootError(
        `ELF segment ${i}: p_filesz ${hex(filesz)} exceeds p_memsz ${hex(memsz)}`,
      );
    if (offset + filesz > image.byteLength) {
      throw new MultibootError(
        `ELF segment ${i}: file range [${hex(offset)}, ${hex(offset + filesz)}) ` +
          `lies outside the file (${image.byteLength} bytes)`,
      );
    }
    if (memsz === 0) continue;
    checkInRam(paddr, memsz, ramBytes, `ELF segment ${i}`);
    if (filesz)
      writes.push({
        addr: paddr,
        data: image.subarray(offset, offset + filesz),
        what: `ELF segment ${i}`,
      });
    if (memsz > filesz)
      writes.push({
        addr: paddr + filesz,
        data: new Uint8Array(memsz - filesz),
        what: `ELF segment ${i} bss`,
      });
    end = Math.max(end, paddr + memsz);
    // A kernel linked at a virtual address gives a virtual e_entry; start at its physical alias.
    if (entry >= vaddr && entry < vaddr + memsz) physEntry = entry - vaddr + paddr;
  }
  if (!writes.length) throw new MultibootError('ELF file has no PT_LOAD segment to load');
  if (physEntry === undefined)
    throw new MultibootError(`ELF entry point ${hex(entry)} is not inside any PT_LOAD segment`);
  return { writes, entry: physEntry, end };
}

/** The flat descriptors of QEMU's multiboot.S, as 8-byte GDT entries (SDM vol. 3A, 3.4.5). */
const GDT_BYTES = new Uint8Array([
  0, 0, 0, 0, 0, 0, 0, 0,
  0xff, 0xff, 0, 0, 0, 0x9a, 0xcf, 0, // 0x08 code, base 0, limit 4 GiB, 32-bit, execute/read
  0xff, 0xff, 0, 0, 0, 0x92, 0xcf, 0, // 0x10 data, base 0, limit 4 GiB, 32-bit, read/write
  0xff, 0xff, 0, 0, 0, 0x9e, 0x00, 0, // 0x18 code, 16-bit, 64 KiB, conforming
  0xff, 0xff, 0, 0, 0, 0x92, 0x00, 0, // 0x20 data, 16-bit, 64 KiB
]);

/**
 * Hidden segment state after loading the descriptors above (the CPU sets the accessed bit:
 * types 0xb and 0x3). Access rights in the VMCS format (SDM vol. 3C, 25.4.1): type, S=1,
 * DPL 0, P=1, D/B=1, G=1.
 */
export const FLAT_CODE: Segment = { selector: 0x08, base: 0, limit: 0xffffffff, access: 0xc09b };
export const FLAT_DATA: Segment = { selector: 0x10, base: 0, limit: 0xffffffff, access: 0xc093 };

/**
 * The platform's E820 map (the one a BIOS's INT 15h E820 would give): shared by the
 * Multiboot and the Linux loaders.
 */
export function platformMemoryMap(ramBytes: number): MmapEntry[] {
  const map: MmapEntry[] = [
    { base: 0, length: CONVENTIONAL_TOP, type: MMAP_AVAILABLE },
    { base: CONVENTIONAL_TOP, length: 0xa0000 - CONVENTIONAL_TOP, type: MMAP_RESERVED },
    { base: 0xf0000, length: 0x10000, type: MMAP_RESERVED },
  ];
  if (ramBytes > HIGH_MEMORY)
    map.push({ base: HIGH_MEMORY, length: ramBytes - HIGH_MEMORY, type: MMAP_AVAILABLE });
  return map;
}

function cString(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

/**
 * What follows the kernel, as QEMU lays it out: the module list, the command line, the
 * boot loader name and the module strings from the next page boundary, then the modules,
 * each page aligned. The memory map, the information structure and the GDT go to QEMU's
 * low addresses, or (`afterKernel`) right after the strings, 8-byte aligned.
 */
function layoutAfterKernel(
  kernelEnd: number, opts: MultibootOptions, mmapBytes: Uint8Array, afterKernel: boolean,
) {
  const modules = opts.modules ?? [];
  const writes: MemoryWrite[] = [];
  let cursor = pageAlign(kernelEnd);
  const modsAddr = cursor;
  const modList = new Uint8Array(16 * modules.length);
  cursor += modList.length;
  const putString = (s: string): number => {
    const b = cString(s);
    const at = cursor;
    writes.push({ addr: at, data: b, what: 'boot string' });
    cursor += b.length;
    return at;
  };
  const cmdlineAddr = putString(opts.cmdline ?? '');
  const nameAddr = putString(opts.bootLoaderName ?? 'wasmvisor');
  const modStringAddrs = modules.map((m) => putString(m.string ?? ''));
  let mmapAddr = MMAP_ADDR, infoAddr = INFO_ADDR, gdtAddr = GDT_ADDR;
  if (afterKernel) {
    cursor = (cursor + 7) & ~7;
    mmapAddr = cursor; cursor += mmapBytes.length;
    infoAddr = cursor; cursor += INFO_SIZE;
    gdtAddr = cursor; cursor += GDT_BYTES.length;
  }
  const modView = new DataView(modList.buffer);
  modules.forEach((m, i) => {
    cursor = pageAlign(cursor);
    modView.setUint32(16 * i, cursor, true); // mod_start
    modView.setUint32(16 * i + 4, cursor + m.data.length, true); // mod_end
    modView.setUint32(16 * i + 8, modStringAddrs[i], true); // string
    writes.push({ addr: cursor, data: m.data, what: `module ${i}` });
    cursor += m.data.length;
  });
  if (modList.length) writes.push({ addr: modsAddr, data: modList, what: 'module list' });
  /** What lands wherever the kernel is: strings, module list and modules. */
  const payload = writes.slice();
  writes.push({ addr: mmapAddr, data: mmapBytes, what: 'memory map' });

  // 3.3: the boot information structure.
  const ramBytes = opts.ramBytes;
  const info = new Uint8Array(INFO_SIZE);
  const iv = new DataView(info.buffer);
  const flags = INFO_MEMORY | INFO_BOOT_DEVICE | INFO_CMDLINE | INFO_MODS | INFO_MMAP
    | INFO_BOOT_LOADER_NAME;
  iv.setUint32(0, flags, true);
  iv.setUint32(4, CONVENTIONAL_TOP / 1024, true); // mem_lower, KiB from 0
  iv.setUint32(8, (ramBytes - HIGH_MEMORY) / 1024, true); // mem_upper, KiB from 1 MiB
  iv.setUint32(12, 0x8000ffff, true); // boot_device: BIOS drive 0x80, no partition (as QEMU)
  iv.setUint32(16, cmdlineAddr, true);
  iv.setUint32(20, modules.length, true);
  iv.setUint32(24, modsAddr, true);
  iv.setUint32(44, mmapBytes.length, true);
  iv.setUint32(48, mmapAddr, true);
  iv.setUint32(64, nameAddr, true);
  writes.push({ addr: infoAddr, data: info, what: 'boot information' });
  writes.push({ addr: gdtAddr, data: GDT_BYTES, what: 'GDT' });
  return { writes, payload, infoAddr, gdtAddr, end: cursor };
}

/** Builds the whole load plan: image, bss, modules, boot information, GDT and CPU state. */
export function planMultiboot(image: Uint8Array, opts: MultibootOptions): MultibootPlan {
  const ramBytes = opts.ramBytes;
  if (!Number.isInteger(ramBytes) || ramBytes < 2 * HIGH_MEMORY) {
    throw new MultibootError(
      `guest RAM of ${ramBytes} bytes is too small for a multiboot kernel (at least 2 MiB)`,
    );
  }
  const header = findMultibootHeader(image);
  checkRequiredFlags(header);
  const loaded = header.aout ? loadAout(image, header, ramBytes) : loadElf(image, ramBytes);

  // 3.3: the memory map: entries of size(4) base(8) length(8) type(4); size excludes itself.
  const mmap = platformMemoryMap(ramBytes);
  const mmapBytes = new Uint8Array(24 * mmap.length);
  const mv = new DataView(mmapBytes.buffer);
  mmap.forEach((e, i) => {
    mv.setUint32(24 * i, 20, true);
    mv.setBigUint64(24 * i + 4, BigInt(e.base), true);
    mv.setBigUint64(24 * i + 12, BigInt(e.length), true);
    mv.setUint32(24 * i + 20, e.type, true);
  });
  // QEMU's low addresses when nothing loaded is there; else after the boot strings.
  let tail = layoutAfterKernel(loaded.end, opts, mmapBytes, false);
  if (loaded.writes.some(overlapsLowBootArea) || tail.payload.some(overlapsLowBootArea)) {
    tail = layoutAfterKernel(loaded.end, opts, mmapBytes, true);
  }
  const { infoAddr, gdtAddr } = tail;
  const writes = [...loaded.writes, ...tail.writes];
  if (tail.end > ramBytes) {
    throw new MultibootError(`kernel, boot information and modules end at ${hex(tail.end)}, `
      + `beyond guest RAM (${hex(ramBytes)} bytes)`);
  }
  // A kernel loaded low could push its modules into the legacy hole.
  for (const w of tail.writes) {
    checkInRam(w.addr, w.data.length, ramBytes, w.what);
    if (w.addr < HIGH_MEMORY && w.addr + w.data.length > CONVENTIONAL_TOP) {
      throw new MultibootError(
        `${w.what} [${hex(w.addr)}, ${hex(w.addr + w.data.length)}) ` +
          `would overlap the legacy area [${hex(CONVENTIONAL_TOP)}, ${hex(HIGH_MEMORY)})`,
      );
    }
  }

  return {
    header,
    format: header.aout ? 'aout-kludge' : 'elf',
    writes,
    entry: loaded.entry,
    infoAddr,
    mmap,
    kernelEnd: loaded.end,
    regs: {
      eax: MULTIBOOT_BOOTLOADER_MAGIC,
      ebx: infoAddr,
      ecx: 0,
      edx: 0,
      esp: 0,
      ebp: 0,
      esi: 0,
      edi: 0,
      eip: loaded.entry,
      eflags: 0x2,
      cr0: 0x60000011,
      cr2: 0,
      cr3: 0,
      cr4: 0,
    },
    segments: {
      cs: FLAT_CODE,
      ds: FLAT_DATA,
      es: FLAT_DATA,
      fs: FLAT_DATA,
      gs: FLAT_DATA,
      ss: FLAT_DATA,
    },
    gdtr: { base: gdtAddr, limit: GDT_BYTES.length - 1 },
    idtr: { base: 0, limit: 0x3ff },
  };
}

/** Resets `core` and starts it in the plan's state. */
export function applyMultiboot(core: Core, plan: MultibootPlan): void {
  for (const w of plan.writes) {
    if (w.addr + w.data.length > core.ramBytes) {
      throw new MultibootError(
        `${w.what} [${hex(w.addr)}, ${hex(w.addr + w.data.length)}) ` +
          `lies outside guest RAM (${hex(core.ramBytes)} bytes)`,
      );
    }
  }
  core.reset();
  for (const w of plan.writes) core.writePhys(w.addr, w.data);
  for (const [name, seg] of Object.entries(plan.segments) as [SegName, Segment][])
    core.setSegment(name, seg);
  core.setTable('gdtr', plan.gdtr);
  core.setTable('idtr', plan.idtr);
  core.setRegs(plan.regs);
}

/** Plans and applies in one step; returns the plan. */
export function bootMultiboot(
  core: Core,
  image: Uint8Array,
  opts: Omit<MultibootOptions, 'ramBytes'> = {},
): MultibootPlan {
  const plan = planMultiboot(image, { ...opts, ramBytes: core.ramBytes });
  applyMultiboot(core, plan);
  return plan;
}
