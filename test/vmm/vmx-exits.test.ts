/**
 * VM exits of a host-owned VT-x guest against Intel SDM vol. 3C: the basic exit reasons of
 * appendix C (table C-1), the exit qualifications of 28.2.1 (tables 28-1 .. 28-7), the
 * interruption information of 28.2.2 (table 25-18 format), fault-like saving of RIP (28.3.3)
 * and the conditions of 26.1-26.3 and 26.7 that make an instruction or a boundary exit.
 * Also RDPMC and INVEPT/INVVPID (their opcode rows name this suite).
 */
import { describe, expect, it } from 'vitest';
import {
  CODE, F, HANDLERS, PIN, PROC, PROC2, guestCore, identityEpt, writeGuestVmcs, enterRun, rip,
  insnLen, skip, qual, type GuestSetup,
} from './vmx-guest.js';
import type { Core } from '../../bindings/core/index.js';

/** Exit reasons (appendix C, table C-1). */
const R = {
  EXCEPTION_NMI: 0, EXTERNAL_INTERRUPT: 1, TRIPLE_FAULT: 2, INTERRUPT_WINDOW: 7, TASK_SWITCH: 9,
  CPUID: 10, HLT: 12, INVD: 13, INVLPG: 14, RDPMC: 15, RDTSC: 16, VMCALL: 18, VMCLEAR: 19,
  VMXON: 27, CR_ACCESS: 28, DR_ACCESS: 29, IO: 30, MSR_READ: 31, MSR_WRITE: 32,
  INVALID_STATE: 33, MSR_LOAD: 34, MTF: 37, PAUSE: 40, GDTR_IDTR: 46, EPT_MISCONFIG: 49,
  INVEPT: 50, PREEMPTION_TIMER: 52, INVVPID: 53, WBINVD: 54,
};
const HLT = 0xf4;

async function guest(code: number[], g: GuestSetup = {}): Promise<Core> {
  const core = await guestCore([...code, HLT]);
  const eptp = identityEpt(core, 1 << 22);
  writeGuestVmcs(core, { eptp, ...g, proc: (g.proc ?? 0) | PROC.HLT });
  return core;
}
const v32 = (core: Core, enc: number) => Number(core.vmcsRead(enc));

describe('instruction exits (26.1.2, 26.1.3; qualifications 28.2.1)', () => {
  it('I/O: unconditional exiting, OUT imm8 (table 28-5: size-1, immediate bit 6, port)',
    async () => {
      const core = await guest([0xe6, 0x80], { proc: PROC.UNCOND_IO }); // out 0x80, al
      expect(enterRun(core)).toBe(R.IO);
      expect(qual(core)).toBe((0x80 << 16) | 0x40);
      expect(insnLen(core)).toBe(2);
    });
  it('I/O bitmaps: IN AL, DX exits for a set bit (bitmap A), not for a clear one', async () => {
    const core = await guest([0xec, 0xec], { proc: PROC.IO_BITMAPS }); // in al, dx x2
    const bm = core.addVmmRam(0x2000);
    core.vmcsWrite(F.IO_BITMAP_A, bm);
    core.vmcsWrite(F.IO_BITMAP_B, bm + 0x1000);
    core.writeHostPhys(bm + (0x3f8 >> 3), Uint8Array.of(1 << (0x3f8 & 7)));
    core.setRegs({ edx: 0x3f8 });
    expect(enterRun(core)).toBe(R.IO);
    expect(qual(core)).toBe((0x3f8 << 16) | 8); // IN (bit 3), DX encoding, 1 byte
    core.setRegs({ edx: 0x3f9 });
    skip(core);
    const x = (core.vmxHostEnter(), core.run(1000));
    expect(x.reason).toBe('io'); // not intercepted: the device model's exit
  });
  it('RDMSR without MSR bitmaps exits (31); WRMSR with a clear bitmap does not', async () => {
    const core = await guest([0x0f, 0x32]);
    expect(enterRun(core)).toBe(R.MSR_READ);
    const core2 = await guest([0x0f, 0x30], { proc: PROC.MSR_BITMAPS });
    core2.vmcsWrite(F.MSR_BITMAP, core2.addVmmRam(0x1000));
    core2.setRegs({ ecx: 0x174, eax: 0x8, edx: 0 }); // IA32_SYSENTER_CS
    expect(enterRun(core2)).toBe(R.HLT);
    // ...and exits once its write bit (offset 0x800, bit 0x174) is set.
    const core3 = await guest([0x0f, 0x30], { proc: PROC.MSR_BITMAPS });
    const bm = core3.addVmmRam(0x1000);
    core3.vmcsWrite(F.MSR_BITMAP, bm);
    core3.writeHostPhys(bm + 0x800 + (0x174 >> 3), Uint8Array.of(1 << (0x174 & 7)));
    core3.setRegs({ ecx: 0x174 });
    expect(enterRun(core3)).toBe(R.MSR_WRITE);
  });
  it('MOV to CR0 changing a host-owned bit exits (table 28-3); a read gives the shadow',
    async () => {
      // mov eax, cr0; mov ebx, eax; mov cr0, eax (same: no exit); xor eax, 8 (TS); mov cr0, eax
      const code = [0x0f, 0x20, 0xc0, 0x89, 0xc3, 0x0f, 0x22, 0xc0, 0x83, 0xf0, 0x08, 0x0f,
        0x22, 0xc0];
      const core = await guest(code);
      core.vmcsWrite(F.CR0_GUEST_HOST_MASK, 0x8);
      core.vmcsWrite(F.CR0_READ_SHADOW, 0x8); // the guest believes TS = 1
      expect(enterRun(core)).toBe(R.CR_ACCESS);
      expect(core.getRegs().ebx & 8).toBe(8); // MOV from CR0 read the shadow's TS
      expect(rip(core)).toBe(CODE + 11);
      expect(qual(core)).toBe(0); // CR0, MOV to CR (type 0), register EAX (0)
    });
  it('CR3-load exiting spares the CR3-target values (26.1.3)', async () => {
    const code = [0x0f, 0x22, 0xd8, 0x0f, 0x22, 0xd9]; // mov cr3, eax; mov cr3, ecx
    const core = await guest(code, { proc: PROC.CR3_LOAD });
    core.vmcsWrite(F.CR3_TARGET_COUNT, 1);
    core.vmcsWrite(F.CR3_TARGET_VALUE0, 0x5000);
    core.setRegs({ eax: 0x5000, ecx: 0x6000 });
    expect(enterRun(core)).toBe(R.CR_ACCESS);
    expect(rip(core)).toBe(CODE + 3);
    expect(qual(core)).toBe(3 | (1 << 8)); // CR3, MOV to CR, ECX
  });
  it('MOV DR with MOV-DR exiting (table 28-4: DR, direction, register)', async () => {
    const core = await guest([0x0f, 0x21, 0xfa], { proc: PROC.MOV_DR }); // mov edx, dr7
    expect(enterRun(core)).toBe(R.DR_ACCESS);
    expect(qual(core)).toBe(7 | (1 << 4) | (2 << 8));
  });
  it('INVLPG (qualification: the linear address), RDTSC, PAUSE, WBINVD, INVD, VMCALL',
    async () => {
      const cases: [number[], GuestSetup, number, number?][] = [
        [[0x0f, 0x01, 0x3d, 0x34, 0x12, 0, 0], { proc: PROC.INVLPG }, R.INVLPG, 0x1234],
        [[0x0f, 0x31], { proc: PROC.RDTSC }, R.RDTSC],
        [[0xf3, 0x90], { proc: PROC.PAUSE }, R.PAUSE],
        [[0x0f, 0x09], { proc2: PROC2.EPT | PROC2.UNRESTRICTED | PROC2.WBINVD }, R.WBINVD],
        [[0x0f, 0x08], {}, R.INVD],
        [[0x0f, 0x01, 0xc1], {}, R.VMCALL],
      ];
      for (const [code, g, reason, q] of cases) {
        const core = await guest(code, g);
        expect(enterRun(core), code.join()).toBe(reason);
        expect(insnLen(core)).toBe(code.length);
        if (q !== undefined) expect(qual(core)).toBe(q);
      }
    });
  it('RDPMC: RDPMC exiting (15); without it counter 0 reads 0 and counter 2 is #GP',
    async () => {
      const core = await guest([0x0f, 0x33], { proc: 1 << 11 });
      expect(enterRun(core)).toBe(R.RDPMC);
      const core2 = await guest([0x0f, 0x33]);
      core2.setRegs({ ecx: 0, eax: 5, edx: 5 });
      expect(enterRun(core2)).toBe(R.HLT);
      expect(core2.getRegs().eax).toBe(0);
      const core3 = await guest([0x0f, 0x33]);
      core3.setRegs({ ecx: 2 });
      core3.vmcsWrite(F.EXCEPTION_BITMAP, 1 << 13);
      expect(enterRun(core3)).toBe(R.EXCEPTION_NMI);
      expect(v32(core3, F.VM_EXIT_INTR_INFO)).toBe(0x80000b0d); // #GP, hw exc, error code
    });
  it('VMX instructions exit in non-root operation (19, 27, 50, 53)', async () => {
    const cases: [number[], number][] = [
      [[0x66, 0x0f, 0xc7, 0x35, 0, 0x20, 0, 0], R.VMCLEAR],
      [[0xf3, 0x0f, 0xc7, 0x35, 0, 0x20, 0, 0], R.VMXON],
      [[0x66, 0x0f, 0x38, 0x80, 0x05, 0, 0x20, 0, 0], R.INVEPT],
      [[0x66, 0x0f, 0x38, 0x81, 0x05, 0, 0x20, 0, 0], R.INVVPID],
    ];
    for (const [code, reason] of cases) {
      const core = await guest(code);
      expect(enterRun(core), code.join()).toBe(reason);
      expect(qual(core)).toBe(0x2000); // the displacement (28.2.1)
      // Table 28-13: address size 32 (9:7 = 1), DS (17:15 = 3), no index (22), no base (27).
      expect(v32(core, F.VMX_INSTRUCTION_INFO) & 0x0fffffff).toBe((1 << 7) | (3 << 15) |
        (1 << 22) | (1 << 27));
    }
  });
});

describe('exceptions, events and boundaries (26.2, 26.7, 27.6)', () => {
  it('exception bitmap: UD2 exits with #UD interruption information (type 3)', async () => {
    const core = await guest([0x0f, 0x0b]);
    core.vmcsWrite(F.EXCEPTION_BITMAP, 1 << 6);
    expect(enterRun(core)).toBe(R.EXCEPTION_NMI);
    expect(v32(core, F.VM_EXIT_INTR_INFO)).toBe(0x80000306);
    expect(rip(core)).toBe(CODE);
  });
  it('INT3 with bit 3: software exception (type 6) with its length', async () => {
    const core = await guest([0xcc]);
    core.vmcsWrite(F.EXCEPTION_BITMAP, 1 << 3);
    expect(enterRun(core)).toBe(R.EXCEPTION_NMI);
    expect(v32(core, F.VM_EXIT_INTR_INFO)).toBe(0x80000603);
    expect(insnLen(core)).toBe(1);
  });
  it('#PF error-code mask/match inverts bit 14 (25.6.3)', async () => {
    // Paging on with an empty page directory: the first fetch faults with error code 0
    // (not present, supervisor read; no I/D bit without NX: SDM vol. 3A, 4.7).
    const core = await guest([0x90]);
    core.vmcsWrite(F.GUEST_CR0, 0x80000031);
    core.vmcsWrite(F.GUEST_CR3, 0x10000);
    core.vmcsWrite(F.EXCEPTION_BITMAP, 0); // bit 14 clear...
    core.vmcsWrite(F.PAGE_FAULT_ERROR_CODE_MASK, 0);
    core.vmcsWrite(F.PAGE_FAULT_ERROR_CODE_MATCH, 1); // ...and no match: the #PF exits
    expect(enterRun(core)).toBe(R.EXCEPTION_NMI);
    expect(v32(core, F.VM_EXIT_INTR_INFO)).toBe(0x80000b0e);
    expect(v32(core, F.VM_EXIT_INTR_ERROR_CODE)).toBe(0);
    expect(qual(core)).toBe(CODE); // the faulting linear address; CR2 untouched
    expect(core.getRegs().cr2).toBe(0);
  });
  it('event injection: #GP with its error code through the guest IDT (27.6)', async () => {
    const core = await guest([0x90]);
    core.vmcsWrite(F.VM_ENTRY_INTR_INFO_FIELD, 0x80000b0d);
    core.vmcsWrite(F.VM_ENTRY_EXCEPTION_ERROR_CODE, 0x1234);
    expect(enterRun(core)).toBe(R.HLT);
    expect(rip(core)).toBe(HANDLERS + 13);
    const esp = v32(core, F.GUEST_RSP);
    const frame = new DataView(core.readPhys(esp, 8).buffer);
    expect(frame.getUint32(0, true)).toBe(0x1234); // the error code pushed
    expect(frame.getUint32(4, true)).toBe(CODE); // the return EIP: RIP as entered
    expect(v32(core, F.VM_ENTRY_INTR_INFO_FIELD) >>> 31).toBe(0); // valid bit cleared
    // Counted as a delivered exception, as the same #GP delivered natively would be.
    expect(core.counters().exceptions).toBe(1);
  });
  it('injected software interrupt pushes RIP + the entry instruction length', async () => {
    const core = await guest([0x90]);
    core.vmcsWrite(F.VM_ENTRY_INTR_INFO_FIELD, 0x80000420);
    core.vmcsWrite(F.VM_ENTRY_INSTRUCTION_LEN, 2);
    expect(enterRun(core)).toBe(R.HLT);
    expect(rip(core)).toBe(HANDLERS + 0x20);
    const esp = v32(core, F.GUEST_RSP);
    expect(new DataView(core.readPhys(esp, 4).buffer).getUint32(0, true)).toBe(CODE + 2);
  });
  it('interrupt-window exiting with IF = 1 exits before the first instruction', async () => {
    const core = await guest([0x90], { proc: PROC.INT_WINDOW, eflags: 0x202 });
    expect(enterRun(core)).toBe(R.INTERRUPT_WINDOW);
    expect(rip(core)).toBe(CODE);
  });
  it('external-interrupt exiting with acknowledge on exit, even with IF = 0', async () => {
    const core = await guest([0x90, 0x90], { pin: PIN.EXT_INT, exit: 1 << 15 });
    expect(core.vmxHostEnter()).toBe(0);
    expect(core.canInjectInterrupt()).toBe(true);
    core.injectInterrupt(0x31);
    expect(core.run(1000).reason).toBe('vmexit');
    expect(Number(core.vmcsRead(F.VM_EXIT_REASON))).toBe(R.EXTERNAL_INTERRUPT);
    expect(v32(core, F.VM_EXIT_INTR_INFO)).toBe(0x80000031);
  });
  it('monitor trap flag: an exit after each instruction, RIP past it (26.7.8)', async () => {
    const core = await guest([0x90, 0x90], { proc: PROC.MTF });
    expect(enterRun(core)).toBe(R.MTF);
    expect(rip(core)).toBe(CODE + 1);
    expect(enterRun(core)).toBe(R.MTF);
    expect(rip(core)).toBe(CODE + 2);
  });
  it('preemption timer: value 0 exits before any instruction, 3 after three', async () => {
    const core = await guest([0x90, 0x90, 0x90, 0x90, 0x90], { pin: PIN.PREEMPT,
      exit: 1 << 22 });
    core.vmcsWrite(F.VMX_PREEMPTION_TIMER_VALUE, 0);
    expect(enterRun(core)).toBe(R.PREEMPTION_TIMER);
    expect(rip(core)).toBe(CODE);
    core.vmcsWrite(F.VMX_PREEMPTION_TIMER_VALUE, 3);
    expect(enterRun(core)).toBe(R.PREEMPTION_TIMER);
    expect(rip(core)).toBe(CODE + 3); // IA32_VMX_MISC rate 0: one per TSC tick
    expect(v32(core, F.VMX_PREEMPTION_TIMER_VALUE)).toBe(0); // saved (exit control 22)
  });
  it('a triple fault exits (reason 2) instead of shutting down', async () => {
    const core = await guest([0x0f, 0x0b]);
    core.vmcsWrite(F.GUEST_IDTR_LIMIT, 0); // #UD -> #GP -> #DF -> triple fault
    expect(enterRun(core)).toBe(R.TRIPLE_FAULT);
  });
  it('a task switch exits (reason 9, table 28-2: selector, source JMP = 2)', async () => {
    const core = await guest([0xea, 0, 0, 0, 0, 0x18, 0]); // jmp 0x18:0 (the busy TSS)
    // A far JMP to a busy TSS would #GP; make it available (type 9) in the GDT.
    core.writePhys(0x18 + 5, Uint8Array.of(0x89));
    expect(enterRun(core)).toBe(R.TASK_SWITCH);
    expect(qual(core)).toBe((0x18 | (2 << 30)) >>> 0);
  });
});

describe('VM-entry failures (27.2, 27.3, 27.4, 27.8)', () => {
  it('controls: pin-based default-1 bits missing is VMfailValid(7)', async () => {
    const core = await guest([0x90]);
    core.vmcsWrite(F.PIN_BASED_VM_EXEC_CONTROL, 0);
    expect(core.vmxHostEnter()).toBe(7);
  });
  it('controls: unrestricted guest without EPT, a bad EPTP, VPID 0 are error 7', async () => {
    for (const [field, value] of [[F.SECONDARY_VM_EXEC_CONTROL, PROC2.UNRESTRICTED],
      [F.EPT_POINTER, 0x10000 | (2 << 3) | 6], [F.SECONDARY_VM_EXEC_CONTROL,
        PROC2.EPT | PROC2.UNRESTRICTED | PROC2.VPID]] as const) {
      const core = await guest([0x90]);
      core.vmcsWrite(field, value);
      expect(core.vmxHostEnter()).toBe(7);
    }
  });
  it('guest state: CR0.NE clear is exit reason 33 with bit 31 (27.3.1.1, 27.8)', async () => {
    const core = await guest([0x90]);
    core.vmcsWrite(F.GUEST_CR0, 0x11);
    expect(core.vmxHostEnter() >>> 0).toBe(0x80000021);
    expect(Number(core.vmcsRead(F.VM_EXIT_REASON))).toBe(0x80000021);
  });
  it('guest state: a VMCS link pointer that is not all ones, qualification 4', async () => {
    const core = await guest([0x90]);
    core.vmcsWrite(F.VMCS_LINK_POINTER, 0);
    expect(core.vmxHostEnter() >>> 0).toBe(0x80000021);
    expect(qual(core)).toBe(4);
  });
  it('MSR loading: a reserved-bit entry fails with reason 34 and its number', async () => {
    const core = await guest([0x90]);
    const area = core.addVmmRam(0x1000);
    const e = new DataView(new ArrayBuffer(32));
    e.setUint32(0, 0x174, true); e.setUint32(8, 8, true); // IA32_SYSENTER_CS = 8: fine
    e.setUint32(16, 0x174, true); e.setUint32(20, 1, true); // reserved bits 63:32 set
    core.writeHostPhys(area, new Uint8Array(e.buffer));
    core.vmcsWrite(F.VM_ENTRY_MSR_LOAD_ADDR, area);
    core.vmcsWrite(F.VM_ENTRY_MSR_LOAD_COUNT, 2);
    expect(core.vmxHostEnter() >>> 0).toBe(0x80000022);
    expect(qual(core)).toBe(2);
  });
  it('an injected external interrupt needs RFLAGS.IF (27.3.1.4)', async () => {
    const core = await guest([0x90]);
    core.vmcsWrite(F.VM_ENTRY_INTR_INFO_FIELD, 0x80000020);
    expect(core.vmxHostEnter() >>> 0).toBe(0x80000021);
  });
  it('a misused VMCS interface is a typed error (VmcsError 12 / 13)', async () => {
    const core = await guest([0x90]);
    expect(() => core.vmcsRead(0x1234)).toThrow(/unsupported/);
    expect(() => core.vmcsWrite(F.VM_EXIT_REASON, 1)).toThrow(/read-only/);
  });
});

describe('the VMM emulator and EPT details', () => {
  it('hostEmulate runs the exiting OUT to the device model, then past it', async () => {
    const core = await guest([0xe6, 0x80, 0x90], { proc: PROC.UNCOND_IO });
    core.setRegs({ eax: 0x5a });
    expect(enterRun(core)).toBe(R.IO);
    const x = core.hostEmulate(1);
    expect(x).toMatchObject({ reason: 'io', port: 0x80, write: true, value: 0x5a });
    expect(core.hostEmulate(1).reason).toBe('budget');
    expect(rip(core)).toBe(CODE + 2);
    expect(core.counters().emulatedInstructions).toBe(1);
  });
  it('an EPT entry writable but not readable is a misconfiguration (reason 49)', async () => {
    const core = await guestCore([0xa1, 0, 0, 0x20, 0, HLT]); // mov eax, [0x200000]
    const eptp = identityEpt(core, 1 << 22);
    writeGuestVmcs(core, { eptp, proc: PROC.HLT });
    // PD entry 1 (2 MiB at 0x200000) -> its PT; the PT's first entry made W without R.
    const pml4 = eptp & ~0xfff;
    const pd = pml4 + 0x2000, pt1 = pml4 + 0x4000;
    expect(new DataView(core.readHostPhys(pd + 8, 4).buffer).getUint32(0, true) & ~0xfff)
      .toBe(pt1);
    core.writeHostPhys(pt1, Uint8Array.of(0x32, 0, 0x20, 0)); // W, WB, no R
    expect(enterRun(core)).toBe(R.EPT_MISCONFIG);
    expect(Number(core.vmcsRead(F.GUEST_PHYSICAL_ADDRESS))).toBe(0x200000);
  });
  it('EPT accessed and dirty flags (EPTP bit 6): a write sets A (8) and D (9) of the leaf',
    async () => {
      const core = await guestCore([0xa3, 0x10, 0, 0x20, 0, HLT]); // mov [0x200010], eax
      const eptp = identityEpt(core, 1 << 22, true);
      writeGuestVmcs(core, { eptp, proc: PROC.HLT });
      expect(enterRun(core)).toBe(R.HLT);
      const pt1 = (eptp & ~0xfff) + 0x4000;
      const leaf = new DataView(core.readHostPhys(pt1, 4).buffer).getUint32(0, true);
      expect(leaf & 0x300).toBe(0x300);
    });
});
