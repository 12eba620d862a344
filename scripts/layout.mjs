// The one source of the offsets shared by the core (assembly/) and the host (bindings/).
// scripts/gen-layout.mjs turns this into assembly/generated/layout.ts and
// bindings/generated/layout.ts. Every number below is written here only.
//
// Linear memory of one VM instance:
//   0x00000000  guard page (never used: a null pointer hits nothing of the VM)
//   STATE_BASE  the guest state block (one contiguous block, saved/loaded as a whole
//               by a VMM into a VMCS-like area): registers, segment caches, tables,
//               control and debug registers, MSRs, TSC, interrupt state, exit info,
//               counters
//   IOLOG_BASE  replay log of completed port/MMIO accesses of the current instruction
//   RANGES_BASE ROM and MMIO range tables
//   TLB_BASE    the software TLB (tags, host addends, global flags)
//   DATA_BASE   AssemblyScript's own static data (asconfig memoryBase)
//   RAM_BASE    guest RAM (guest-physical 0 .. ramBytes-1), then ROM images

/** Offsets inside the state block (bytes, from STATE_BASE). All fields little endian. */
const state = {
  // General registers in the x86 encoding order (ModRM reg field): EAX ECX EDX EBX ESP EBP ESI EDI.
  S_EAX: 0, S_ECX: 4, S_EDX: 8, S_EBX: 12, S_ESP: 16, S_EBP: 20, S_ESI: 24, S_EDI: 28,
  S_EIP: 32,
  /** Full EFLAGS whenever the core is not running (the lazy flags are folded in at exit). */
  S_EFLAGS: 36,
  /** Segment caches, 16 bytes each in the order ES CS SS DS FS GS LDTR TR (sreg encoding):
   *  +0 selector, +4 base, +8 limit (byte granular), +12 access rights in the VMCS format
   *  (Intel SDM vol. 3C, 25.4.1, table 25-2; bit 16 = unusable). */
  S_SEG: 64, SEG_SIZE: 16,
  SEG_SEL: 0, SEG_BASE: 4, SEG_LIMIT: 8, SEG_ACCESS: 12,
  S_GDTR_BASE: 192, S_GDTR_LIMIT: 196, S_IDTR_BASE: 200, S_IDTR_LIMIT: 204,
  S_CR0: 208, S_CR2: 212, S_CR3: 216, S_CR4: 220,
  S_DR0: 224, S_DR1: 228, S_DR2: 232, S_DR3: 236, S_DR6: 240, S_DR7: 244,
  /** Virtual time stamp counter (u64). */
  S_TSC: 248,
  /** MSRs (Intel SDM vol. 4, table 2-2): IA32_SYSENTER_CS/ESP/EIP (0x174-0x176), IA32_APIC_BASE (0x1B, u64). */
  S_SYSENTER_CS: 256, S_SYSENTER_ESP: 260, S_SYSENTER_EIP: 264, S_APIC_BASE: 272,
  /** Current privilege level (0..3); kept equal to CS.RPL in protected mode, 0 in real mode, 3 in V86. */
  S_CPL: 280,
  /** 1 while the one-instruction interrupt shadow of STI / MOV SS / POP SS is active. */
  S_INT_SHADOW: 284,
  S_NMI_PENDING: 288,
  /** 1 from NMI delivery until the next IRET (SDM vol. 3A, 6.7.1). */
  S_NMI_BLOCKED: 292,
  /** External interrupt to deliver before the next instruction: vector | 0x100 when valid. */
  S_INTR_PENDING: 296,
  S_IRQ_WINDOW: 300,
  /** 1 while halted (HLT): the core waits for an interrupt. */
  S_HALTED: 304,
  /** Exit information of the last run(): reason code, port or physical address, size,
   *  direction (1 = write), value, a detail code for shutdown/invalid. */
  S_EXIT_REASON: 320, S_EXIT_ADDR: 324, S_EXIT_SIZE: 328, S_EXIT_WRITE: 332, S_EXIT_VALUE: 336,
  S_EXIT_DETAIL: 340,
  /** Elements of a string I/O exit (REP INS/OUTS batched, their data at PIO_DATA_BASE);
   *  1 for every other port or MMIO exit. */
  S_EXIT_COUNT: 348,
  /** The exception being delivered (for double-fault classification), or -1. */
  S_EXC_NESTING: 344,
  /** Counters (u64 each). */
  S_CNT_INSN: 384, S_CNT_TLB_HIT: 392, S_CNT_TLB_MISS: 400, S_CNT_WALK: 408, S_CNT_WALK_REFS: 416,
  S_CNT_INTR: 424, S_CNT_EXC: 432, S_CNT_IO: 440, S_CNT_MMIO: 448, S_CNT_TLB_FLUSH: 456,
  /** Instruction boundaries the run loop checked on its slow path (events, interrupt
   *  shadows, debug, prefixes) instead of its inner loop. */
  S_CNT_SLOW: 464,
  /** Configuration: RAM size, A20 mask, TSC ticks per instruction. */
  S_RAM_BYTES: 512, S_A20_MASK: 516, S_TSC_PER_INSN: 520, S_ROM_END: 524,
  /** 1: REP INS/OUTS exit once per run of elements within a page (S_EXIT_COUNT, data at
   *  PIO_DATA_BASE), as KVM's KVM_EXIT_IO with count; 0: one exit per element. */
  S_STRIO: 528,
  STATE_SIZE: 1024,
};

/** Exit reason codes (S_EXIT_REASON). */
const exits = {
  EXIT_BUDGET: 0, EXIT_IO: 1, EXIT_MMIO: 2, EXIT_HLT: 3, EXIT_IRQ_WINDOW: 4, EXIT_SHUTDOWN: 5,
  EXIT_INVALID: 6,
  /** S_EXIT_DETAIL for shutdown/invalid. */
  WHY_TRIPLE_FAULT: 1, WHY_BAD_STATE: 2, WHY_IO_PROTOCOL: 3,
};

export const layout = {
  STATE_BASE: 0x1000,
  ...state,
  ...exits,
  /** Replay log: up to IOLOG_MAX entries of 16 bytes (kind, address, size, value). */
  IOLOG_BASE: 0x1400, IOLOG_MAX: 16,
  /** ROM ranges (16 x {phys, length, hostOffset, pad}) and MMIO ranges (64 x {phys, length}). */
  RANGES_BASE: 0x1800, ROM_MAX: 16, MMIO_MAX: 64,
  /** Software TLB: TLB_ENTRIES direct-mapped entries. Three u32 arrays. */
  TLB_BASE: 0x4000, TLB_ENTRIES: 8192,
  /** Data of a string I/O exit: S_EXIT_COUNT elements of S_EXIT_SIZE bytes, in the order
   *  the instruction transfers them (as the data page of KVM's kvm_run for KVM_EXIT_IO). */
  PIO_DATA_BASE: 0x20000, PIO_DATA_SIZE: 4096,
  /** AssemblyScript static data starts here (asconfig.json memoryBase). */
  DATA_BASE: 0x40000,
  /** Guest RAM starts here in linear memory. */
  RAM_BASE: 0x100000,
};
