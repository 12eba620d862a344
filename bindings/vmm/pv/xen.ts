/**
 * The numbers of Xen's public interface for 32-bit PV guests, each beside the header it
 * comes from (xen/include/public/...). The layouts (start_info, shared_info, vcpu_info,
 * trap_info, mmu_update, mmuext_op, multicall_entry, the event-channel and grant-table
 * argument structures) are given as byte offsets for the x86_32 ABI (4-byte longs and
 * pointers, xen_pfn_t 32 bits, uint64_t 8 bytes with 4-byte alignment in a struct).
 */

// ---- Hypercall numbers (xen.h, "__HYPERVISOR_*") ----
export const HYPERCALL_NAMES: Record<number, string> = {
  0: 'set_trap_table', 1: 'mmu_update', 2: 'set_gdt', 3: 'stack_switch', 4: 'set_callbacks',
  5: 'fpu_taskswitch', 6: 'sched_op_compat', 7: 'platform_op', 8: 'set_debugreg',
  9: 'get_debugreg', 10: 'update_descriptor', 12: 'memory_op', 13: 'multicall',
  14: 'update_va_mapping', 15: 'set_timer_op', 16: 'event_channel_op_compat',
  17: 'xen_version', 18: 'console_io', 19: 'physdev_op_compat', 20: 'grant_table_op',
  21: 'vm_assist', 22: 'update_va_mapping_otherdomain', 23: 'iret', 24: 'vcpu_op',
  26: 'mmuext_op', 28: 'nmi_op', 29: 'sched_op', 30: 'callback_op', 32: 'event_channel_op',
  33: 'physdev_op',
};
export const HC = {
  set_trap_table: 0, mmu_update: 1, set_gdt: 2, stack_switch: 3, set_callbacks: 4,
  fpu_taskswitch: 5, update_descriptor: 10, multicall: 13, update_va_mapping: 14,
  set_timer_op: 15, xen_version: 17, console_io: 18, grant_table_op: 20, iret: 23,
  vcpu_op: 24, mmuext_op: 26, sched_op: 29, event_channel_op: 32, physdev_op: 33,
} as const;

// ---- physdev_op (physdev.h): PHYSDEVOP_set_iopl, struct physdev_set_iopl { uint32_t iopl; }
export const PHYSDEVOP_set_iopl = 6;
/** Ports a domain may never reach, even with an I/O privilege level: the 8259A PICs, the
 *  8254 PIT and the ELCR, which the VMM drives itself (Xen's dom0_setup_permissions denies
 *  the same ranges: PIC, PIT, ELCR). */
export const VMM_PORTS: [number, number][] = [
  [0x20, 0x21], [0x40, 0x43], [0xa0, 0xa1], [0x4d0, 0x4d1],
];

/** Whether the VMM does a port access of `size` bytes at `port` for code at `cpl` of a
 *  domain with I/O privilege level `iopl` (Xen's guest_io_okay: CPL <= IOPL, and never a
 *  port of VMM_PORTS). */
export function ioAllowed(iopl: number, cpl: number, port: number, size: number): boolean {
  if (iopl === 0 || cpl > iopl) return false;
  return !VMM_PORTS.some(([lo, hi]) => port + size - 1 >= lo && port <= hi);
}

// ---- Error codes (xen/include/public/errno.h: XEN_EPERM ...), returned negated ----
export const EPERM = 1, ENOENT = 2, ESRCH = 3, EAGAIN = 11, ENOMEM = 12, EACCES = 13;
export const EFAULT = 14, EBUSY = 16, EEXIST = 17, EINVAL = 22, ENOSPC = 28, ENOSYS = 38;
export const E2BIG = 7;

// ---- Virtual address space (arch-x86/xen-x86_32.h) ----
/** __HYPERVISOR_VIRT_START_NONPAE: the top 64 MiB belong to the hypervisor on a 32-bit
 *  non-PAE host (this CPU has no PAE), every PDE slot from 1008 on. */
export const HYPERVISOR_VIRT_START = 0xfc000000;
export const FIRST_XEN_L2_SLOT = HYPERVISOR_VIRT_START >>> 22; // 1008
/** The flat segments in the Xen-private part of every GDT (xen-x86_32.h FLAT_RING*). */
export const FLAT_RING1_CS = 0xe019, FLAT_RING1_DS = 0xe021, FLAT_RING1_SS = 0xe021;
export const FLAT_RING3_CS = 0xe02b, FLAT_RING3_DS = 0xe033, FLAT_RING3_SS = 0xe033;
/** The hypervisor's own ring-0 selectors (xen/include/asm-x86/desc.h __HYPERVISOR_CS/DS). */
export const HYPERVISOR_CS = 0xe008, HYPERVISOR_DS = 0xe010;
/** TSS_ENTRY (asm-x86/desc.h: FIRST_RESERVED_GDT_ENTRY + 8): selector 0xe040. */
export const HYPERVISOR_TSS = 0xe040;
/** FIRST_RESERVED_GDT_PAGE (desc.h): 14 pages of guest GDT, then Xen's entries. */
export const FIRST_RESERVED_GDT_PAGE = 14;
/** The hypercall trap vector of 32-bit Xen (xen-x86_32.h: TRAP_INSTR "int $0x82"). */
export const HYPERCALL_VECTOR = 0x82;
/** The vectors of the machine's interrupts, which belong to the VMM (the PIC's base, a
 *  multiple of 8: 8259A ICW2): a guest's trap table may not name them. */
export const VMM_IRQ_BASE = 0xf0;

// ---- mmu_update (xen.h) ----
/** struct mmu_update { uint64_t ptr; uint64_t val; }: 16 bytes; cmd in ptr bits 1:0. */
export const MMU_UPDATE_SIZE = 16;
export const MMU_NORMAL_PT_UPDATE = 0, MMU_MACHPHYS_UPDATE = 1, MMU_PT_UPDATE_PRESERVE_AD = 2;
/** The most updates one call takes here (the bound; Xen preempts longer batches
 *  with a continuation instead). */
export const MAX_BATCH = 2048;

// ---- mmuext_op (xen.h) ----
/** struct mmuext_op { unsigned int cmd; union arg1 (mfn / linear_addr); union arg2 }: 12. */
export const MMUEXT_OP_SIZE = 12;
export const MMUEXT = {
  PIN_L1_TABLE: 0, PIN_L2_TABLE: 1, PIN_L3_TABLE: 2, PIN_L4_TABLE: 3, UNPIN_TABLE: 4,
  NEW_BASEPTR: 5, TLB_FLUSH_LOCAL: 6, INVLPG_LOCAL: 7, TLB_FLUSH_MULTI: 8, INVLPG_MULTI: 9,
  TLB_FLUSH_ALL: 10, INVLPG_ALL: 11, FLUSH_CACHE: 12, SET_LDT: 13,
} as const;
export const MMUEXT_NAMES = Object.fromEntries(
  Object.entries(MMUEXT).map(([k, v]) => [v, k.toLowerCase()])) as Record<number, string>;

// ---- update_va_mapping flags (xen.h UVMF_*) ----
export const UVMF_NONE = 0, UVMF_TLB_FLUSH = 1, UVMF_INVLPG = 2, UVMF_FLUSHTYPE_MASK = 3;
export const UVMF_ALL = 4;

// ---- console_io (xen.h CONSOLEIO_*) ----
export const CONSOLEIO_write = 0, CONSOLEIO_read = 1;

// ---- sched_op (sched.h) ----
export const SCHEDOP_yield = 0, SCHEDOP_block = 1, SCHEDOP_shutdown = 2, SCHEDOP_poll = 3;
export const SHUTDOWN_NAMES = ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog'];

// ---- vcpu_op (vcpu.h) ----
export const VCPUOP_is_up = 3, VCPUOP_set_periodic_timer = 6, VCPUOP_stop_periodic_timer = 7;
export const VCPUOP_set_singleshot_timer = 8, VCPUOP_stop_singleshot_timer = 9;

// ---- event_channel_op (event_channel.h EVTCHNOP_*) ----
export const EVTCHNOP = {
  bind_interdomain: 0, bind_virq: 1, bind_pirq: 2, close: 3, send: 4, status: 5,
  alloc_unbound: 6, bind_ipi: 7, bind_vcpu: 8, unmask: 9,
} as const;
/** VIRQ_TIMER etc. (xen.h). */
export const VIRQ_TIMER = 0, VIRQ_DEBUG = 1, VIRQ_CONSOLE = 2, VIRQ_DOM_EXC = 3;
export const NR_VIRQS = 24;
/** EVTCHNSTAT_* (event_channel.h). */
export const EVTCHNSTAT_closed = 0, EVTCHNSTAT_unbound = 1, EVTCHNSTAT_interdomain = 2;
export const EVTCHNSTAT_pirq = 3, EVTCHNSTAT_virq = 4, EVTCHNSTAT_ipi = 5;
/** NR_EVENT_CHANNELS for the 2-level ABI on 32 bits (xen.h: sizeof(xen_ulong_t)^2 * 64
 *  = 1024); this VMM offers the first 64. */
export const NR_EVENT_CHANNELS = 64;
/** DOMID_SELF (xen.h). */
export const DOMID_SELF = 0x7ff0, DOMID_XEN = 0x7ff2;

// ---- grant_table_op (grant_table.h GNTTABOP_*, v1 entries) ----
export const GNTTABOP = {
  map_grant_ref: 0, unmap_grant_ref: 1, setup_table: 2, dump_table: 3, transfer: 4,
  copy: 5, query_size: 6,
} as const;
/** grant_entry_v1 { uint16_t flags; domid_t domid; uint32_t frame; }: 8 bytes. */
export const GTF_permit_access = 1, GTF_readonly = 1 << 2, GTF_reading = 1 << 3;
export const GTF_writing = 1 << 4, GTF_type_mask = 3;
/** GNTMAP_* (grant_table.h). */
export const GNTMAP_device_map = 1, GNTMAP_host_map = 2, GNTMAP_readonly = 4;
/** GNTST_* (grant_table.h). */
export const GNTST_okay = 0, GNTST_general_error = -1, GNTST_bad_domain = -2;
export const GNTST_bad_gntref = -3, GNTST_bad_handle = -4, GNTST_bad_virt_addr = -5;
export const GNTST_permission_denied = -8, GNTST_bad_page = -9, GNTST_bad_copy_arg = -10;

// ---- start_info (xen.h struct start_info, x86_32 offsets) ----
export const START_INFO = {
  magic: 0, nr_pages: 32, shared_info: 36, flags: 40, store_mfn: 44, store_evtchn: 48,
  console_mfn: 52, console_evtchn: 56, pt_base: 60, nr_pt_frames: 64, mfn_list: 68,
  mod_start: 72, mod_len: 76, cmd_line: 80, MAX_GUEST_CMDLINE: 1024,
} as const;
/** "xen-3.0-x86_32" (xen.h: "xen-<version>-<platform>"). */
export const START_INFO_MAGIC = 'xen-3.0-x86_32';

// ---- shared_info (xen.h struct shared_info / vcpu_info; arch-x86 arch_vcpu_info) ----
/** struct vcpu_info: 64 bytes; XEN_LEGACY_MAX_VCPUS = 32 of them first. */
export const VCPU_INFO = {
  evtchn_upcall_pending: 0, evtchn_upcall_mask: 1, evtchn_pending_sel: 4, arch_cr2: 8,
  time: 32, SIZE: 64,
} as const;
/** struct vcpu_time_info (xen.h) within vcpu_info.time. */
export const TIME_INFO = {
  version: 0, tsc_timestamp: 8, system_time: 16, tsc_to_system_mul: 24, tsc_shift: 28,
} as const;
export const XEN_LEGACY_MAX_VCPUS = 32;
export const SHARED_INFO = {
  evtchn_pending: 32 * 64, evtchn_mask: 32 * 64 + 128, wc_version: 32 * 64 + 256,
  wc_sec: 32 * 64 + 260, wc_nsec: 32 * 64 + 264, arch_max_pfn: 32 * 64 + 268,
} as const;

// ---- trap_info (arch-x86/xen.h struct trap_info: vector u8, flags u8, cs u16, address) ----
export const TRAP_INFO_SIZE = 8;
/** flags bits 1:0: the DPL of `int n`; bit 2: clear the upcall mask... set it on entry
 *  (arch-x86/xen.h TI_GET_DPL / TI_GET_IF). */
export const TI_DPL_MASK = 3, TI_IF = 4;

// ---- multicall_entry (xen.h: op, result, args[6], all xen_ulong_t): 32 bytes ----
export const MULTICALL_ENTRY_SIZE = 32;

// ---- ELF notes of a PV kernel (xen/include/public/elfnote.h) ----
export const XEN_ELFNOTE_ENTRY = 1, XEN_ELFNOTE_HYPERCALL_PAGE = 2;
export const XEN_ELFNOTE_GUEST_OS = 6, XEN_ELFNOTE_LOADER = 8;

// ---- CPUID leaves of the hypervisor (arch-x86/cpuid.h) ----
export const XEN_CPUID_FIRST_LEAF = 0x40000000;
/** "XenVMMXenVMM" in EBX, ECX, EDX (XEN_CPUID_SIGNATURE_EBX/ECX/EDX). */
export const XEN_CPUID_SIGNATURE = [0x566e6558, 0x65584d4d, 0x4d4d566e];
/** The leaves this VMM answers: 0x40000000 (highest leaf, signature), 0x40000001 (version
 *  major << 16 | minor: 3.0), 0x40000002 (hypercall pages: 1; their MSR base 0x40000000);
 *  the rest of the range reads as zeros. */
export function xenCpuid(leaf: number): [number, number, number, number] {
  switch (leaf >>> 0) {
    case 0x40000000: return [0x40000002, ...XEN_CPUID_SIGNATURE] as [number, number, number,
      number];
    case 0x40000001: return [3 << 16, 0, 0, 0];
    case 0x40000002: return [1, 0x40000000, 0, 0];
    default: return [0, 0, 0, 0];
  }
}
