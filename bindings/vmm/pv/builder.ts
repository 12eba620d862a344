/**
 * The PV domain builder (Xen's libxc xc_dom_* in miniature): loads an ELF kernel that
 * carries Xen's ELF notes (xen/include/public/elfnote.h: XEN_ELFNOTE_ENTRY, the PV entry
 * point; XEN_ELFNOTE_HYPERCALL_PAGE, the page the builder fills with hypercall stubs),
 * lays out start_info, the P2M list, the initial page tables and a boot stack after the
 * image, and starts the guest as a 32-bit PV guest starts: ring 1, paging on, ESI =
 * start_info's virtual address, flat FLAT_RING1 segments.
 *
 * Memory: guest-physical = machine (one domain per machine); the last RESERVED_FRAMES
 * frames of RAM are the VMM's (its region, shared_info, the grant table).
 */
import type { Core } from '../../core/types.js';
import { Region, REGION_FRAMES } from '../depriv/region.js';
import { GuestMemory } from '../depriv/guestmem.js';
import { FrameTable } from './mm.js';
import { PvDomain } from './domain.js';
import * as X from './xen.js';

export const RESERVED_FRAMES = 16;
const GRANT_FRAMES = 1;
export const PV_DOMID = 1;

export class PvKernelError extends Error {}

interface ElfImage { entry: number; hypercallPage?: number; segments: { pa: number;
  data: Uint8Array; memsz: number }[]; end: number; guestOs?: string }

/** Reads an ELF32 i386 executable: its loadable segments and Xen's notes. */
export function readPvElf(elf: Uint8Array): ElfImage {
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (elf.length < 52 || dv.getUint32(0, false) !== 0x7f454c46 || elf[4] !== 1 || elf[5] !== 1) {
    throw new PvKernelError('pv: the kernel is not a 32-bit little-endian ELF file');
  }
  if (dv.getUint16(18, true) !== 3) throw new PvKernelError('pv: the kernel is not for i386');
  const phoff = dv.getUint32(28, true), phentsize = dv.getUint16(42, true);
  const phnum = dv.getUint16(44, true);
  const shoff = dv.getUint32(32, true), shentsize = dv.getUint16(46, true);
  const shnum = dv.getUint16(48, true);
  const img: ElfImage = { entry: -1, segments: [], end: 0 };
  const notes = (off: number, size: number) => {
    let p = off;
    while (p + 12 <= off + size && p + 12 <= elf.length) {
      const nsz = dv.getUint32(p, true), dsz = dv.getUint32(p + 4, true);
      const type = dv.getUint32(p + 8, true);
      const name = new TextDecoder().decode(elf.subarray(p + 12, p + 12 + nsz)).replace(/\0+$/, '');
      const d = p + 12 + ((nsz + 3) & ~3);
      if (d + dsz > elf.length) break;
      if (name === 'Xen') {
        if (type === X.XEN_ELFNOTE_ENTRY && dsz >= 4) img.entry = dv.getUint32(d, true);
        if (type === X.XEN_ELFNOTE_HYPERCALL_PAGE && dsz >= 4) {
          img.hypercallPage = dv.getUint32(d, true);
        }
        if (type === X.XEN_ELFNOTE_GUEST_OS) {
          img.guestOs = new TextDecoder().decode(elf.subarray(d, d + dsz)).replace(/\0+$/, '');
        }
      }
      p = d + ((dsz + 3) & ~3);
    }
  };
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (o + 32 > elf.length) throw new PvKernelError('pv: truncated program headers');
    const type = dv.getUint32(o, true), off = dv.getUint32(o + 4, true);
    const pa = dv.getUint32(o + 12, true), filesz = dv.getUint32(o + 16, true);
    const memsz = dv.getUint32(o + 20, true);
    if (type === 1 && memsz > 0) {
      if (off + filesz > elf.length) throw new PvKernelError('pv: truncated segment');
      img.segments.push({ pa, data: elf.subarray(off, off + filesz), memsz });
      img.end = Math.max(img.end, pa + memsz);
    }
    if (type === 4) notes(off, dv.getUint32(o + 16, true));
  }
  if (img.entry < 0) {
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * shentsize;
      if (o + 40 > elf.length) break;
      if (dv.getUint32(o + 4, true) !== 7) continue; // SHT_NOTE
      notes(dv.getUint32(o + 16, true), dv.getUint32(o + 20, true));
    }
  }
  if (img.entry < 0) {
    throw new PvKernelError('pv: the kernel has no Xen ELF note XEN_ELFNOTE_ENTRY (elfnote.h): '
      + 'it is not a PV kernel');
  }
  return img;
}

export interface BuiltDomain {
  domain: PvDomain;
  region: Region;
  frames: FrameTable;
  startInfo: number;
  pageDirectory: number;
}

/** Builds domain `domid` (PV_DOMID by default) on `core` from `kernel` and starts its CPU
 *  state; `peers` finds the other DomUs for interdomain event channels. */
export function buildPvDomain(core: Core, kernel: Uint8Array, cmdline: string,
  consoleOut: (b: Uint8Array) => void, now: () => number, domid = PV_DOMID,
  peers?: (domid: number) => PvDomain | undefined): BuiltDomain {
  if (!Number.isInteger(domid) || domid < 1 || domid >= X.DOMID_SELF) {
    throw new PvKernelError(`pv: domain id ${domid} is not between 1 and 0x7fef`);
  }
  const img = readPvElf(kernel);
  const nr = Math.floor(core.ramBytes / 4096);
  const guestFrames = nr - RESERVED_FRAMES;
  const top = guestFrames * 4096;
  if (img.end > top) throw new PvKernelError('pv: the kernel does not fit in guest memory');
  for (const s of img.segments) {
    core.writePhys(s.pa, new Uint8Array(s.memsz));
    core.writePhys(s.pa, s.data);
  }
  const vmmFrames = Array.from({ length: RESERVED_FRAMES }, (_, i) => (guestFrames + i) * 4096);
  const region = new Region(core, vmmFrames.slice(0, REGION_FRAMES));
  const sharedInfo = vmmFrames[REGION_FRAMES];
  const grant = vmmFrames.slice(REGION_FRAMES + 1, REGION_FRAMES + 1 + GRANT_FRAMES);
  for (const f of [sharedInfo, ...grant]) core.writePhys(f, new Uint8Array(4096));

  // After the image: start_info, the P2M list, the page directory and tables, the stack.
  let next = Math.ceil(img.end / 4096);
  const startInfo = next++;
  const p2mFrames = Math.ceil((guestFrames * 4) / 4096);
  const p2m = next; next += p2mFrames;
  const pd = next++;
  const nPt = Math.ceil(guestFrames / 1024);
  const pt0 = next; next += nPt;
  const stackFrames = 4;
  next += stackFrames;
  if (next > guestFrames) throw new PvKernelError('pv: not enough memory for the domain');
  const ptFrames = new Set<number>([pd]);
  for (let i = 0; i < nPt; i++) ptFrames.add(pt0 + i);
  const pde = new Uint32Array(1024), pte = new Uint32Array(nPt * 1024);
  for (let i = 0; i < nPt; i++) pde[i] = ((pt0 + i) * 4096) | 0x3; // P, RW (PDE)
  for (let f = 1; f < guestFrames; f++) {
    pte[f] = (f * 4096) | (ptFrames.has(f) ? 0x1 : 0x3); // tables read-only, data writable
  }
  core.writePhys(pd * 4096, new Uint8Array(pde.buffer));
  core.writePhys(pt0 * 4096, new Uint8Array(pte.buffer));
  const p2mList = new Uint32Array(p2mFrames * 1024);
  for (let f = 0; f < guestFrames; f++) p2mList[f] = f;
  core.writePhys(p2m * 4096, new Uint8Array(p2mList.buffer));

  const frames = new FrameTable(core, nr, region.pde);
  for (let f = 0; f < guestFrames; f++) frames.owner[f] = domid;
  for (const f of [sharedInfo, ...grant]) frames.owner[f / 4096] = domid;
  for (const f of vmmFrames.slice(0, REGION_FRAMES)) frames.owner[f / 4096] = X.DOMID_XEN;
  frames.newBaseptr(domid, pd);
  frames.pin(domid, pd, 3 /* T_L2 */);

  // CR3 changes only through MMUEXT_NEW_BASEPTR: the frame table knows it.
  const mem = new GuestMemory(core, () => (frames.baseptr.get(domid) ?? 0) * 4096);
  const domain = new PvDomain(core, mem, frames, region, {
    domid, sharedInfo, grantFrames: grant.map((g) => g / 4096), consoleOut, peers,
  }, now);

  if (img.hypercallPage !== undefined) {
    // Xen's hypercall_page_initialise_ring1_kernel: entry i at i * 32 is
    // `mov $i, %eax; int $0x82; ret`; __HYPERVISOR_iret pushes %eax first.
    const page = new Uint8Array(4096);
    for (let i = 0; i < 128; i++) {
      const at = i * 32;
      const code = i === X.HC.iret
        ? [0x50, 0xb8, i, 0, 0, 0, 0xcd, X.HYPERCALL_VECTOR]
        : [0xb8, i, 0, 0, 0, 0xcd, X.HYPERCALL_VECTOR, 0xc3];
      page.set(code, at);
    }
    if (img.hypercallPage & 0xfff || img.hypercallPage >= top) {
      throw new PvKernelError('pv: XEN_ELFNOTE_HYPERCALL_PAGE is not a page of the kernel');
    }
    core.writePhys(img.hypercallPage, page);
  }

  const si = new Uint8Array(4096);
  const sdv = new DataView(si.buffer);
  si.set(new TextEncoder().encode(X.START_INFO_MAGIC), X.START_INFO.magic);
  const S = X.START_INFO;
  sdv.setUint32(S.nr_pages, guestFrames, true);
  sdv.setUint32(S.shared_info, sharedInfo, true);
  sdv.setUint32(S.pt_base, pd * 4096, true);
  sdv.setUint32(S.nr_pt_frames, 1 + nPt, true);
  sdv.setUint32(S.mfn_list, p2m * 4096, true);
  const cl = new TextEncoder().encode(cmdline).subarray(0, S.MAX_GUEST_CMDLINE - 1);
  si.set(cl, S.cmd_line);
  core.writePhys(startInfo * 4096, si);
  // max_pfn in arch_shared_info
  const mp = new Uint8Array(4);
  new DataView(mp.buffer).setUint32(0, guestFrames, true);
  core.writePhys(sharedInfo + X.SHARED_INFO.arch_max_pfn, mp);
  // Events start masked (the guest unmasks when its callback is set), as Xen starts vCPUs.
  core.writePhys(sharedInfo + X.VCPU_INFO.evtchn_upcall_mask, Uint8Array.of(1));

  region.enter(pd * 4096, img.entry, next * 4096, startInfo * 4096);
  // The kernel stack for traps from ring 3 until stack_switch: the boot stack (Xen's
  // builder starts kernel_ss:kernel_sp at FLAT_KERNEL_SS and the initial ESP).
  domain.kernelSp = next * 4096;
  region.setKernelStack(X.FLAT_RING1_SS, next * 4096);
  region.setVmmGate(X.HYPERCALL_VECTOR, 1);
  return { domain, region, frames, startInfo: startInfo * 4096, pageDirectory: pd * 4096 };
}
