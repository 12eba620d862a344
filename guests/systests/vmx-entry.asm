; VM entry: its failures and event injection (Intel SDM vol. 3C, chapter 26). From the
; valid VMCS of vmx.inc, each case changes one field, runs VMLAUNCH (VMCLEAR and VMPTRLD
; first, so the launch state is clear) and puts the field back:
; - checks on the VM-execution, VM-exit and VM-entry control fields (26.2.1): VMfailValid
;   with VM-instruction error 7;
; - checks on the host-state area (26.2.2-26.2.4): VMfailValid, error 8;
; - checks on the guest-state area (26.3.1): the VM entry fails as a VM exit with basic
;   reason 33 and bit 31 set (26.7), the exit qualification 0 or 4 (VMCS link pointer);
; - MSR loading (26.4): reason 34, the qualification the index of the failing entry;
; - VMRESUME of a clear VMCS (error 5), VMLAUNCH of a launched one (error 4);
; - event injection (26.5): hardware exceptions with and without error codes (#UD, #GP,
;   #PF, #DF), a software interrupt and a software exception with their instruction
;   length, a privileged software exception (INT1), an NMI and an external interrupt,
;   each delivered through L2's own IDT, whose handler reports the vector, the error code
;   and the saved EIP relative to L2's first instruction.
; Reference: Bochs 2.7 with VMX (cpu model corei7_sandy_bridge_2600k).
%include "lib.inc"
%include "vmx.inc"

; CASE_FIELD "text", field, value: VMLAUNCH with the field changed, then restored
%macro ECASE 3
    PUTS %1
    PUTS ": "
    mov eax, %2
    mov edx, %3
    call launch_with
%endmacro

main:
    call vmx_setup
    ; a valid VMCS first: L2 prints a note and ends
    PUTS "valid vmcs: "
    call launch
    ; VMLAUNCH of a launched VMCS; VMRESUME of a clear one
    PUTS "vmlaunch of a launched vmcs: "
    VMWR GUEST_RIP, l2_main
    call vmx_run
    vmclear [p_vmcs]
    vmptrld [p_vmcs]
    PUTS "vmresume of a clear vmcs: "
    mov [main_esp], esp
    vmresume
    pushfd
    call print_vmfail

    ; controls (26.2.1): VMfailValid(7)
    PUTSN "-- control fields (error 7)"
    ECASE "pin-based controls 0 (default1 bits clear)", PIN_CTLS, 0
    ECASE "secondary controls bit 31 (reserved)", PROC2_CTLS, 0x80000044
    ECASE "cr3-target count 5", CR3_COUNT, 5
    ECASE "virtual nmis without nmi exiting", PIN_CTLS, 0x16 | (1 << 5)
    mov ecx, PROC_CTLS              ; use I/O bitmaps
    vmread ebx, ecx
    or ebx, 1 << 25
    mov [io_ctls], ebx
    VMWR IO_BITMAP_A, io_bitmap_a + 0x800
    ECASE "i/o bitmap a not 4 KiB aligned", PROC_CTLS, [io_ctls]
    VMWR IO_BITMAP_A, io_bitmap_a
    VMWR ENTRY_LEN, 0
    ECASE "entry interruption: reserved type 1", ENTRY_INTR, 0x80000100 | 0x20
    ECASE "entry interruption: #ud with an error code", ENTRY_INTR, 0x80000b06
    ECASE "entry interruption: #gp without an error code", ENTRY_INTR, 0x8000030d
    ECASE "entry interruption: nmi with vector 3", ENTRY_INTR, 0x80000203
    ECASE "entry interruption: hardware exception 0x20", ENTRY_INTR, 0x80000320
    ECASE "entry interruption: software interrupt, length 0", ENTRY_INTR, 0x80000430
    VMWR ENTRY_ERR, 0xfffe0003
    ECASE "entry interruption: #pf, error code bits 31:16 set", ENTRY_INTR, 0x80000b0e
    VMWR ENTRY_ERR, 0
    ECASE "vm-entry controls 0", ENTRY_CTLS, 0
    ECASE "vm-exit controls 0", EXIT_CTLS, 0

    ; host state (26.2.2-26.2.4): VMfailValid(8)
    PUTSN "-- host state (error 8)"
    mov eax, cr0
    and eax, 0x7fffffff
    ECASE "host cr0.pg=0", 0x6c00, eax
    mov eax, cr4
    and eax, ~(1 << 13)
    ECASE "host cr4.vmxe=0", 0x6c04, eax
    ECASE "host cs selector 0", 0x0c02, 0
    ECASE "host tr selector 0", 0x0c0c, 0
    ECASE "host ss selector with rpl 3", 0x0c04, SEL_DATA0 | 3
    ECASE "host ds selector with ti=1", 0x0c06, SEL_DATA0 | 4
    ECASE "host address-space size with a 32-bit host", EXIT_CTLS, 0x00036dff | (1 << 9)

    ; guest state (26.3.1): exit reason 33 | 0x80000000
    PUTSN "-- guest state (exit reason 33)"
    mov eax, cr0
    and eax, 0x7fffffff
    ECASE "guest cr0.pg=0", GUEST_CR0, eax
    mov eax, cr0
    and eax, ~0x20
    ECASE "guest cr0.ne=0", GUEST_CR0, eax
    mov eax, cr4
    and eax, ~(1 << 13)
    ECASE "guest cr4.vmxe=0", GUEST_CR4, eax
    ECASE "guest rflags bit 1 clear", GUEST_RFLAGS, 0
    ECASE "guest rflags.vm=1", GUEST_RFLAGS, 0x20002
    ECASE "guest cs type data", 0x4816, 0xc093
    ECASE "guest cs not present", 0x4816, 0xc01b
    ECASE "guest ss dpl 3 with cs dpl 0", 0x4818, 0xc0f3
    ECASE "guest tr unusable", 0x4822, 0x1008b
    ECASE "guest tr type 16-bit busy tss (allowed outside ia-32e mode)", 0x4822, 0x83
    ECASE "guest ldtr usable, type 3 (not an ldt)", 0x4820, 0x83
    ECASE "guest gdtr limit above 0xffff", 0x4810, 0x10000
    ECASE "guest activity state 4", GUEST_ACTIVITY, 4
    ECASE "guest blocking by sti with if=0", GUEST_INTERRUPTIBILITY, 1
    ECASE "guest blocking by sti and mov ss", GUEST_INTERRUPTIBILITY, 3
    ECASE "injecting an external interrupt with if=0", ENTRY_INTR, 0x80000030
    ECASE "vmcs link pointer 0", 0x2800, 0
    ECASE "vmcs link pointer not aligned", 0x2800, 0xfff
    ; MSR loading (26.4): reason 34, the qualification the failing entry's index (from 1)
    PUTSN "-- msr loading (exit reason 34)"
    VMWR 0x200a, msr_load           ; VM-entry MSR-load address
    VMWR 0x200b, 0
    mov dword [msr_load + 0], 0x174 ; SYSENTER_CS <- 8: a valid entry
    mov dword [msr_load + 8], 8
    mov dword [msr_load + 16], 0x175
    mov dword [msr_load + 20], 1    ; reserved bits 63:32 set
    ECASE "entry msr-load: second entry with reserved bits", 0x4014, 2
    mov dword [msr_load + 20], 0
    mov dword [msr_load + 16], 0x80b ; an x2APIC MSR (26.4)
    ECASE "entry msr-load: second entry an x2apic msr", 0x4014, 2
    mov dword [msr_load + 16], 0x175 ; SYSENTER_ESP <- 0: loads
    ECASE "entry msr-load: two valid entries", 0x4014, 2
    VMWR 0x200a, 0xfff              ; not 16-byte aligned: a control check
    ECASE "entry msr-load address not 16-byte aligned", 0x4014, 1
    VMWR 0x200a, msr_load

    ; event injection (26.5): delivered through L2's IDT
    PUTSN "-- event injection"
    VMWR ENTRY_ERR, 0x1234
    VMWR ENTRY_LEN, 2
    ECASE "inject #ud", ENTRY_INTR, 0x80000306
    ECASE "inject #gp(0x1234)", ENTRY_INTR, 0x80000b0d
    VMWR ENTRY_ERR, 0x0003
    ECASE "inject #pf(3)", ENTRY_INTR, 0x80000b0e
    VMWR ENTRY_ERR, 0
    ECASE "inject #df(0)", ENTRY_INTR, 0x80000b08
    ECASE "inject software interrupt 0x20, length 2", ENTRY_INTR, 0x80000420
    VMWR ENTRY_LEN, 1
    ECASE "inject #bp as a software exception, length 1", ENTRY_INTR, 0x80000603
    ECASE "inject int1 (privileged software exception), length 1", ENTRY_INTR, 0x80000501
    ECASE "inject nmi", ENTRY_INTR, 0x80000202
    ECASE "inject external interrupt 0x20 (if=1)", ENTRY_INTR, 0x80000020
    ret

; launch_with: EAX = field, EDX = value; the field is set for one VMLAUNCH and restored
launch_with:
    mov [lw_field], eax
    vmread [lw_saved], eax
    call vmwr
    ; an external interrupt needs IF=1 in the guest (26.3.1.4): the last case sets it
    cmp dword [lw_field], ENTRY_INTR
    jne .go
    cmp edx, 0x80000020
    jne .go
    VMWR GUEST_RFLAGS, 0x202
.go:
    call launch
    mov eax, [lw_field]
    mov edx, [lw_saved]
    call vmwr
    VMWR 0x2801, 0xffffffff         ; a FULL write cleared the link pointer's high half
    VMWR GUEST_RFLAGS, 2
    VMWR ENTRY_INTR, 0
    ret

; launch: VMCLEAR, VMPTRLD, L2 from its start, VMLAUNCH; prints what happened
launch:
    vmclear [p_vmcs]
    vmptrld [p_vmcs]
    VMWR GUEST_RIP, l2_main
    VMWR GUEST_RSP, l2_stack_top
    mov dword [step_name], s_l2
    mov dword [step_insn], l2_main
    mov dword [step_next], l2_after
    call vmx_run
    ret

l2_main:
    nop
    nop
l2_after:
    L2NOTE "l2 ran"
    L2DONE

s_l2:       db "l2", 0
align 4
lw_field:   dd 0
lw_saved:   dd 0
io_ctls:    dd 0

section .bss
alignb 16
msr_load:   resb 64
section .text
%include "end.inc"
