// The one source of the memory layout shared by the core (assembly/) and the host
// (bindings/). Every block of the core's linear memory and every field inside one is
// declared here, in order, with its size; the offsets are computed (each field aligned to
// its own size, up to 8 bytes) and checked: no two fields overlap, every field fits its
// block, no two blocks overlap. scripts/gen-layout.mjs writes the result to
// assembly/generated/layout.ts and bindings/generated/layout.ts; no offset is typed
// anywhere else. All fields are little endian.

import { buildVmcsFields } from './gen-vmm-tables.mjs';

const u32 = 4;
const u64 = 8;

/**
 * Records that occur several times: each field gets a constant (its offset inside the
 * record) and the record its size, `<NAME>_SIZE`.
 */
export const structs = {
  /** A segment cache, one per segment register (ES CS SS DS FS GS LDTR TR, the sreg
   *  encoding): selector, base, limit (byte granular), access rights in the VMCS format
   *  (Intel SDM vol. 3C, 25.4.1, table 25-2; bit 16 = unusable). */
  SEG: [['SEG_SEL', u32], ['SEG_BASE', u32], ['SEG_LIMIT', u32], ['SEG_ACCESS', u32]],
  /** An access in the replay log: its kind (EXIT_IO or EXIT_MMIO), port or physical
   *  address, size in bytes (with the element count of a string I/O batch in bits 8 and
   *  up) and the value written or read. */
  IOLOG_ENTRY: [['IOL_KIND', u32], ['IOL_ADDR', u32], ['IOL_SIZE', u32], ['IOL_VALUE', u32]],
  /** A chunk of VMM RAM: host-physical start, length, host (linear) address. */
  VMMRAM_ENTRY: [['VR_PHYS', u32], ['VR_LEN', u32], ['VR_HOST', u32], ['VR_PAD', u32]],
  /** A TLB entry kept for its tag across a world switch: index, tag, addend, global. */
  TLBSAVE_ENTRY: [['TS_INDEX', u32], ['TS_TAG', u32], ['TS_ADD', u32], ['TS_GLOBAL', u32]],
  /** A ROM image: guest-physical start, length, host (linear) address of its copy. */
  ROM_ENTRY: [['ROM_PHYS', u32], ['ROM_LEN', u32], ['ROM_HOST', u32], ['ROM_PAD', u32]],
  /** An MMIO range: guest-physical start and length. */
  MMIO_ENTRY: [['MMIO_PHYS', u32], ['MMIO_LEN', u32]],
  /** The check data the core derives from a segment cache (assembly/cpu/access.ts,
   *  segUpdate): base, lowest valid offset, the span of valid offsets above it for a read
   *  and for a write (i64, -1 when none), padded to 32 bytes so that it is indexed by a
   *  shift. */
  SEGX_ENTRY: [['SX_BASE', u32], ['SX_LO', u32], ['SX_SPAN_READ', u64], ['SX_SPAN_WRITE', u64],
    ['SX_PAD', u64]],
};

/** Element counts of the tables below. */
export const counts = {
  IOLOG_MAX: 16, ROM_MAX: 16, MMIO_MAX: 64, TLB_ENTRIES: 8192,
  /** Chunks of VMM RAM (assembly/mem/phys.ts, addVmmRam). */
  VMMRAM_MAX: 16,
  /** Exit counters by basic exit reason (VMX, SDM vol. 3C appendix C: 0-79) and by SVM
   *  exit-code index (assembly/svm: codes 0-0x9F as themselves, then #NPF 0x400, VMEXIT_
   *  INVALID -1 and any other code). */
  VMX_EXIT_SLOTS: 80, SVM_EXIT_SLOTS: 0xa4,
  /** Nested TLB and page-walk cache entries (assembly/mem/nested.ts). */
  NTLB_ENTRIES: 1024, PWC_ENTRIES: 512,
  /** Address spaces (VPID/ASID tags) whose TLB entries are kept across world switches. */
  TLBSAVE_TAGS: 8,
  /** TLB entries filled since the last full flush that a flush clears one by one. */
  FILL_LOG_MAX: 128,
  /** Host debugger (GDB stub) instruction breakpoints. */
  HOSTDBG_MAX: 64,
  /** VMCS field slots: one per encoding of scripts/vmx-fields.mjs (a 64-bit field has two,
   *  FULL and HIGH), in the order of VMCS_ENCODINGS (assembly/generated/vmx.ts). */
  VMCS_SLOTS: buildVmcsFields().length,
};

/**
 * The state block: everything a VMM saves and loads as a whole into a VMCS-like area.
 * Fields are offsets from STATE_BASE. Groups start on a 64-byte boundary; a group's
 * `start` names its offset. A field is [name, bytes], or an array
 * { name, count, bytes | struct, names? } whose elements may be named one by one.
 */
const stateGroups = [
  { fields: [
    // The code indexes the general registers by their x86 encoding (ModRM reg field).
    { name: 'S_GPR', count: 8, bytes: u32,
      names: ['S_EAX', 'S_ECX', 'S_EDX', 'S_EBX', 'S_ESP', 'S_EBP', 'S_ESI', 'S_EDI'] },
    ['S_EIP', u32],
    /** Full EFLAGS whenever the core is not running (the lazy flags are folded in at exit). */
    ['S_EFLAGS', u32],
  ] },
  { fields: [{ name: 'S_SEG', count: 8, struct: 'SEG' }] },
  { fields: [
    ['S_GDTR_BASE', u32], ['S_GDTR_LIMIT', u32], ['S_IDTR_BASE', u32], ['S_IDTR_LIMIT', u32],
    ['S_CR0', u32], ['S_CR2', u32], ['S_CR3', u32], ['S_CR4', u32],
    // DR0-DR3 are indexed by number (MOV DRn, the breakpoint match).
    { name: 'S_DR', count: 4, bytes: u32, names: ['S_DR0', 'S_DR1', 'S_DR2', 'S_DR3'] },
    ['S_DR6', u32], ['S_DR7', u32],
    /** Virtual time stamp counter. */
    ['S_TSC', u64],
    /** MSRs (Intel SDM vol. 4, table 2-2): IA32_SYSENTER_CS/ESP/EIP (0x174-0x176),
     *  IA32_APIC_BASE (0x1B). */
    ['S_SYSENTER_CS', u32], ['S_SYSENTER_ESP', u32], ['S_SYSENTER_EIP', u32],
    ['S_APIC_BASE', u64],
    /** Current privilege level (0..3); kept equal to CS.RPL in protected mode, 0 in real
     *  mode, 3 in V86. */
    ['S_CPL', u32],
    /** 1 while the one-instruction interrupt shadow of STI / MOV SS / POP SS is active. */
    ['S_INT_SHADOW', u32],
    ['S_NMI_PENDING', u32],
    /** 1 from NMI delivery until the next IRET (SDM vol. 3A, 6.7.1). */
    ['S_NMI_BLOCKED', u32],
    /** External interrupt to deliver before the next instruction: vector | 0x100 when valid. */
    ['S_INTR_PENDING', u32],
    ['S_IRQ_WINDOW', u32],
    /** 1 while halted (HLT): the core waits for an interrupt. */
    ['S_HALTED', u32],
  ] },
  { fields: [
    /** Exit information of the last run(): reason code, port or physical address, size,
     *  direction (1 = write), value, a detail code for shutdown/invalid. */
    ['S_EXIT_REASON', u32], ['S_EXIT_ADDR', u32], ['S_EXIT_SIZE', u32], ['S_EXIT_WRITE', u32],
    ['S_EXIT_VALUE', u32], ['S_EXIT_DETAIL', u32],
    /** The exception being delivered (for double-fault classification), or -1. */
    ['S_EXC_NESTING', u32],
    /** Elements of a string I/O exit (REP INS/OUTS batched, their data at PIO_DATA_BASE);
     *  1 for every other port or MMIO exit. */
    ['S_EXIT_COUNT', u32],
  ] },
  { fields: [
    /** VMX (Intel SDM vol. 3C, chapter 24): 1 in VMX root operation; IA32_FEATURE_CONTROL
     *  (MSR 0x3A, vol. 4 table 2-2; 0 at reset); the VMXON pointer; the current-VMCS pointer
     *  (all ones when there is none) and the launch state of that VMCS (1 launched). The
     *  current VMCS's fields are in the VMCS block. */
    ['S_VMX_OP', u32], ['S_FEATURE_CONTROL', u32], ['S_VMXON_PTR', u64], ['S_VMCS_PTR', u64],
    ['S_VMCS_LAUNCHED', u32],
    /** Non-root operation (assembly/vmm/guest.ts): 0 none, 1 VMX non-root operation, 2 SVM
     *  guest mode; 1 in S_HOST_OWNED when the entry was made by the TypeScript VMM
     *  (vmxHostEnter / svmHostEnter), 0 when by a guest's own VMM (nested). */
    ['S_GUEST_MODE', u32], ['S_HOST_OWNED', u32],
    /** VMX-preemption timer value while in non-root operation (SDM vol. 3C, 26.5.1). */
    ['S_VMX_PREEMPT', u32],
  ] },
  { fields: [
    /** The x87 FPU (SDM vol. 1, 8.1): physical data registers 0-7 as significand and
     *  sign/exponent; control, status (TOP in bits 13:11) and full tag words; the last
     *  instruction pointer, its CS and opcode, the last data pointer and its DS. */
    { name: 'S_FPU_MAN', count: 8, bytes: u64 },
    { name: 'S_FPU_SE', count: 8, bytes: u32 },
    ['S_FPU_CW', u32], ['S_FPU_SW', u32], ['S_FPU_TW', u32], ['S_FPU_FIP', u32],
    ['S_FPU_FCS', u32], ['S_FPU_FOP', u32], ['S_FPU_FDP', u32], ['S_FPU_FDS', u32],
  ] },
  { fields: [
    /** AMD-V (AMD APM vol. 2, chapter 15; assembly/svm/). EFER (MSR C000_0080h, 3.1.7; only
     *  SVME, bit 12, exists in this core); VM_CR (C001_0114h, 15.30.1); VM_HSAVE_PA
     *  (C001_0117h, 15.30.4); 1 while the global interrupt flag is clear (15.17: GIF is 1
     *  after reset, which the block's reset value 0 gives). */
    ['S_EFER', u32], ['S_VM_CR', u32], ['S_VM_HSAVE_PA', u64], ['S_GIF_CLEAR', u32],
    /** In SVM guest mode: the VMCB's physical address and the controls VMRUN read from it
     *  (15.5.1; the cache that the VMCB clean bits of 15.15.3 let VMRUN keep): the five
     *  intercept vectors (CR, DR, exceptions, misc 1, misc 2), IOPM and MSRPM bases, TSC
     *  offset, ASID, V_TPR/V_IRQ/V_INTR_PRIO/V_IGN_TPR/V_INTR_MASKING and V_INTR_VECTOR,
     *  NP_ENABLE and N_CR3, the VMCB the cache was filled from (all ones: none) and 1 when
     *  the entry was made by the host (svmHostEnter). */
    ['S_SVM_VMCB', u64], ['S_SVM_ICPT_CR', u32], ['S_SVM_ICPT_DR', u32],
    ['S_SVM_ICPT_EXC', u32], ['S_SVM_ICPT1', u32], ['S_SVM_ICPT2', u32],
    ['S_SVM_IOPM', u32], ['S_SVM_MSRPM', u32], ['S_SVM_TSC_OFFSET', u64],
    ['S_SVM_ASID', u32], ['S_SVM_VINTR', u32], ['S_SVM_VVEC', u32], ['S_SVM_NP', u32],
    ['S_SVM_NCR3', u64], ['S_SVM_CACHED', u64],
  ] },
  // Everything above is guest state that a CPU reset clears; the counters and the
  // configuration below survive it.
  { start: 'S_COUNTERS', fields: [
    ['S_CNT_INSN', u64], ['S_CNT_TLB_HIT', u64], ['S_CNT_TLB_MISS', u64], ['S_CNT_WALK', u64],
    ['S_CNT_WALK_REFS', u64], ['S_CNT_INTR', u64], ['S_CNT_EXC', u64], ['S_CNT_IO', u64],
    ['S_CNT_MMIO', u64], ['S_CNT_TLB_FLUSH', u64],
    /** Instruction boundaries the run loop checked on its slow path (events, interrupt
     *  shadows, debug, prefixes) instead of its inner loop. */
    ['S_CNT_SLOW', u64],
  ] },
  { fields: [
    /** RAM size, A20 mask, TSC ticks per instruction, end of the ROM copies after RAM. */
    ['S_RAM_BYTES', u32], ['S_A20_MASK', u32], ['S_TSC_PER_INSN', u32], ['S_ROM_END', u32],
    /** 1: REP INS/OUTS exit once per run of elements within a page (S_EXIT_COUNT, data at
     *  PIO_DATA_BASE), as KVM's KVM_EXIT_IO with count; 0: one exit per element. */
    ['S_STRIO', u32],
    /** 1: the CPU has VMX (CPUID.1:ECX.VMX, CR4.VMXE, the VMX MSRs and instructions). */
    ['S_VMX', u32],
    /** Bit 0: the CPU has SVM (CPUID 8000_0001h ECX.SVM and 8000_000Ah, EFER.SVME, VM_CR,
     *  VM_HSAVE_PA and the SVM instructions: AMD APM vol. 2, chapter 15); bit 1: it reports
     *  NRIPS (CPUID 8000_000Ah EDX bit 3). */
    ['S_SVM', u32],
    /** Nested paging caches (assembly/mem/nested.ts): bit 0 page-walk cache, bit 1 nested
     *  TLB (setNestedCaches); 1 in S_TLB_TAGS: TLB entries carry their VPID/ASID and survive
     *  world switches (setTlbTags). */
    ['S_NESTED_CACHES', u32], ['S_TLB_TAGS', u32],
  ] },
  // The issue-9 counters come last so that the offsets before them stay where older
  // builds of the core have them (bench/ab.ts runs old and new cores with one loader).
  { fields: [
    /** Hardware-assisted virtualization (issue 9): VM entries and exits (all reasons; by
     *  reason in the VMM_STATS block), VMCS field accesses by the TypeScript VMM
     *  (vmcsRead/vmcsWrite), nested (EPT/NPT) walks and their references, the page-walk
     *  cache and the nested TLB, TLB entries kept across a world switch by their tag
     *  (VPID/ASID), instructions run by hostEmulate(). */
    ['S_CNT_VMENTRY', u64], ['S_CNT_VMEXIT', u64], ['S_CNT_VMCS_READ', u64],
    ['S_CNT_VMCS_WRITE', u64], ['S_CNT_NWALK', u64], ['S_CNT_NWALK_REFS', u64],
    ['S_CNT_PWC_HIT', u64], ['S_CNT_PWC_MISS', u64], ['S_CNT_NTLB_HIT', u64],
    ['S_CNT_NTLB_MISS', u64], ['S_CNT_TLB_SURVIVE', u64], ['S_CNT_EMULATED', u64],
  ] },
];

/**
 * The core's linear memory, in address order. A block has a base and a size (`<NAME>_BASE`,
 * `<NAME>_SIZE`); its fields, if any, are laid out from its base, and `<NAME>_USED_END` is
 * the address after the last one. Fields of the state block are offsets from STATE_BASE;
 * those of the other blocks are addresses.
 */
export const blocks = [
  /** Never used: a null pointer hits nothing of the VM. */
  { name: 'GUARD', base: 0, size: 0x1000 },
  { name: 'STATE', base: 0x1000, size: 0x400, relative: true, groups: stateGroups },
  /** Replay log of the completed port/MMIO accesses of the current instruction. */
  { name: 'IOLOG', base: 0x1400, size: 0x400,
    fields: [{ name: 'IOLOG_TABLE', count: 'IOLOG_MAX', struct: 'IOLOG_ENTRY' }] },
  /** ROM and MMIO range tables. */
  { name: 'RANGES', base: 0x1800, size: 0x800, fields: [
    { name: 'ROM_TABLE', count: 'ROM_MAX', struct: 'ROM_ENTRY' },
    { name: 'MMIO_TABLE', count: 'MMIO_MAX', struct: 'MMIO_ENTRY' },
    { name: 'VMMRAM_TABLE', count: 'VMMRAM_MAX', struct: 'VMMRAM_ENTRY' },
  ] },
  /** A page of 0xFF bytes that unclaimed physical pages read from. */
  { name: 'ONES_PAGE', base: 0x2000, size: 0x1000 },
  /** Segment check data, one entry per segment register (in the S_SEG order). */
  { name: 'SEGX', base: 0x3000, size: 0x1000,
    fields: [{ name: 'SEGX_TABLE', count: 8, struct: 'SEGX_ENTRY' }] },
  /** The software TLB: three u32 arrays indexed by entry (tag, host addend, global flag),
   *  then the fill log (indexes of the entries filled since the last full flush). */
  { name: 'TLB', base: 0x4000, size: 0x1c000, fields: [
    { name: 'TLB_TAG', count: 'TLB_ENTRIES', bytes: u32 },
    { name: 'TLB_ADD', count: 'TLB_ENTRIES', bytes: u32 },
    { name: 'TLB_GLOBAL', count: 'TLB_ENTRIES', bytes: u32 },
    { name: 'TLB_FILL_LOG', count: 'FILL_LOG_MAX', bytes: u32 },
  ] },
  /** Data of a string I/O exit: S_EXIT_COUNT elements of S_EXIT_SIZE bytes, in the order
   *  the instruction transfers them (as the data page of KVM's kvm_run for KVM_EXIT_IO). */
  { name: 'PIO_DATA', base: 0x20000, size: 0x1000 },
  /** The fields of the current VMCS (assembly/cpu/system/vmx.ts), one u32 per slot: a
   *  16-bit field zero-extended, a 64-bit field as its FULL (low) and HIGH slots, a
   *  natural-width field as 32 bits (this core has no IA-32e mode). */
  { name: 'VMCS', base: 0x21000, size: 0x1000, fields: [
    { name: 'VMCS_FIELDS', count: 'VMCS_SLOTS', bytes: u32 },
  ] },
  /** Exits by reason (u64 counters, survive reset): VMX basic reasons, SVM exit codes. */
  { name: 'VMM_STATS', base: 0x22000, size: 0x1000, fields: [
    { name: 'VMX_EXIT_COUNTS', count: 'VMX_EXIT_SLOTS', bytes: u64 },
    { name: 'SVM_EXIT_COUNTS', count: 'SVM_EXIT_SLOTS', bytes: u64 },
    /** The intercepted INTR (AMD APM vol. 2, 15.21): 0x100 | vector of an interrupt the
     *  CPU had latched from the controller and an INTR intercept gave back untaken (the
     *  host returns it to its interrupt controller at the end of run(); 0 when none). */
    { name: 'INTR_RETURNED', count: 1, bytes: u32 },
  ] },
  /** The nested TLB (guest-physical page -> host-physical page and permissions) and the
   *  page-walk cache (nested paging-structure entries by level and address). */
  { name: 'NESTED', base: 0x23000, size: 0x4000, fields: [
    { name: 'NTLB_TAG', count: 'NTLB_ENTRIES', bytes: u32 },
    { name: 'NTLB_VAL', count: 'NTLB_ENTRIES', bytes: u32 },
    { name: 'PWC_TAG', count: 'PWC_ENTRIES', bytes: u32 },
    { name: 'PWC_VAL', count: 'PWC_ENTRIES', bytes: u64 },
  ] },
  /** TLB entries of other address spaces kept across world switches (tagged TLB): per tag
   *  slot its tag (all ones: free), its entry count, then the entries. */
  { name: 'TLBSAVE', base: 0x27000, size: 0x5000, fields: [
    { name: 'TLBSAVE_ID', count: 'TLBSAVE_TAGS', bytes: u32 },
    { name: 'TLBSAVE_N', count: 'TLBSAVE_TAGS', bytes: u32 },
    { name: 'TLBSAVE_TABLE', count: 1024, struct: 'TLBSAVE_ENTRY' },
  ] },
  /** The host debugger's (GDB stub's) instruction breakpoints: linear addresses at which
   *  the core exits to the host (EXIT_DEBUG) before executing, and the one address to pass
   *  once (resuming from a breakpoint; all ones: none). Host state, not guest state. */
  { name: 'HOSTDBG', base: 0x2c000, size: 0x1000, fields: [
    { name: 'HOSTDBG_COUNT', count: 1, bytes: u32 },
    { name: 'HOSTDBG_SKIP', count: 1, bytes: u32 },
    { name: 'HOSTDBG_ADDRS', count: 'HOSTDBG_MAX', bytes: u32 },
  ] },
  /** AssemblyScript's own static data and heap (passed to asc as --memoryBase). */
  { name: 'DATA', base: 0x40000, size: 0xc0000 },
  /** Guest RAM (guest-physical 0 .. ramBytes-1), then the ROM images; grows with RAM. */
  { name: 'RAM', base: 0x100000 },
];

/** Exit reason codes (S_EXIT_REASON) and the detail codes (S_EXIT_DETAIL). */
export const exits = {
  EXIT_BUDGET: 0, EXIT_IO: 1, EXIT_MMIO: 2, EXIT_HLT: 3, EXIT_IRQ_WINDOW: 4, EXIT_SHUTDOWN: 5,
  EXIT_INVALID: 6,
  /** A VM exit for the TypeScript VMM (the exit information is in the VMCS or the VMCB). */
  EXIT_VMEXIT: 7,
  /** The host debugger's instruction breakpoint (HOSTDBG): before the instruction runs. */
  EXIT_DEBUG: 8,
  /** RDTSC, RDTSCP or RDMSR of IA32_TSC with simulated time on (the host's cost profile):
   *  the instruction has not run; it runs again with the host's answer (completeTsc). */
  EXIT_RDTSC: 9,
  /** S_EXIT_DETAIL for shutdown/invalid. */
  WHY_TRIPLE_FAULT: 1, WHY_BAD_STATE: 2, WHY_IO_PROTOCOL: 3,
};

const STATE_GROUP_ALIGN = 64;

/** A layout error, naming the field or block at fault. */
export class LayoutError extends Error {}

const alignUp = (v, a) => Math.ceil(v / a) * a;

/**
 * Computes every constant from a declaration and checks it. Returns the constants in
 * declaration order (name -> value) and every field's extent (name, block, start, bytes,
 * align) as addresses in linear memory, for the tests to check on their own.
 */
export function computeLayout(decl = { structs, counts, blocks, exits }) {
  const values = new Map();
  const extents = [];
  const define = (name, value, where) => {
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new LayoutError(`${where}: bad name "${name}"`);
    if (values.has(name)) throw new LayoutError(`${where}: ${name} is defined twice`);
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new LayoutError(`${where}: ${name} = ${value} is not a u32`);
    }
    values.set(name, value);
  };
  for (const [name, n] of Object.entries(decl.counts)) define(name, n, 'counts');

  const structInfo = new Map();
  for (const [sname, fields] of Object.entries(decl.structs)) {
    let off = 0, align = 1;
    for (const [fname, bytes] of fields) {
      const a = Math.min(bytes, 8);
      if (off % a) throw new LayoutError(`struct ${sname}: ${fname} at ${off} is not ${a}-aligned`);
      define(fname, off, `struct ${sname}`);
      off += bytes;
      align = Math.max(align, a);
    }
    const size = alignUp(off, align);
    define(`${sname}_SIZE`, size, `struct ${sname}`);
    structInfo.set(sname, { size, align });
  }

  /** Lays out one field at `off` (relative to `origin`); returns the offset after it. */
  const place = (field, off, origin, block) => {
    const where = `block ${block.name}`;
    let name, bytes, align, elem = 0, count = 1, names;
    if (Array.isArray(field)) {
      [name, bytes] = field;
      align = Math.min(bytes, 8);
    } else {
      name = field.name;
      count = typeof field.count === 'string' ? values.get(field.count) : field.count;
      if (!Number.isInteger(count) || count <= 0) {
        throw new LayoutError(`${where}: ${name} has no count (${field.count})`);
      }
      if (field.struct !== undefined) {
        const s = structInfo.get(field.struct);
        if (!s) throw new LayoutError(`${where}: ${name} names an unknown struct ${field.struct}`);
        elem = s.size; align = s.align;
      } else {
        elem = field.bytes; align = Math.min(elem, 8);
      }
      bytes = elem * count;
      names = field.names;
      if (names !== undefined && names.length !== count) {
        throw new LayoutError(`${where}: ${name} has ${count} elements but ${names.length} names`);
      }
    }
    if (!Number.isInteger(bytes) || bytes <= 0) {
      throw new LayoutError(`${where}: ${name} has no size`);
    }
    off = alignUp(off, align);
    define(name, origin + off, where);
    if (names) names.forEach((n, i) => define(n, origin + off + i * elem, where));
    extents.push({ name, block: block.name, start: block.base + off, bytes, align });
    return off + bytes;
  };

  let prevEnd = 0, prevName = '(start)';
  decl.blocks.forEach((block, i) => {
    const last = i === decl.blocks.length - 1;
    if (block.base < prevEnd) {
      throw new LayoutError(`block ${block.name} at 0x${block.base.toString(16)} overlaps ` +
        `${prevName}, which ends at 0x${prevEnd.toString(16)}`);
    }
    if (block.size === undefined && !last) {
      throw new LayoutError(`block ${block.name}: only the last block may have no size`);
    }
    define(`${block.name}_BASE`, block.base, `block ${block.name}`);
    if (block.size !== undefined) define(`${block.name}_SIZE`, block.size, `block ${block.name}`);
    const origin = block.relative ? 0 : block.base;
    let off = 0;
    if (block.groups) {
      for (const g of block.groups) {
        off = alignUp(off, STATE_GROUP_ALIGN);
        if (g.start) define(g.start, origin + off, `block ${block.name}`);
        for (const f of g.fields) off = place(f, off, origin, block);
      }
    }
    if (block.fields) for (const f of block.fields) off = place(f, off, origin, block);
    if (block.groups || block.fields) {
      if (block.size !== undefined && off > block.size) {
        throw new LayoutError(`block ${block.name}: its fields take ${off} bytes, more than ` +
          `its ${block.size}`);
      }
      define(`${block.name}_USED_END`, block.base + off, `block ${block.name}`);
    }
    prevEnd = block.base + (block.size ?? 0);
    prevName = block.name;
  });

  for (const [name, v] of Object.entries(decl.exits)) define(name, v, 'exits');
  return { values, extents };
}
