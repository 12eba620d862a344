; VM exits due to events and the controls that create them (Intel SDM vol. 3C, 25.2
; exceptions and the exception bitmap, 25.4.2 task switches, 25.5.1 the VMX-preemption
; timer, 25.5.2 monitor trap flag, 25.2/26.7.5 interrupt and NMI windows, 27.2.3 the
; IDT-vectoring information of exits during event delivery): an interrupt window opened
; by VM entry and one after STI's blocking, an NMI window (virtual NMIs) at VM entry and
; one opened by IRET, MTF after one instruction, the preemption timer at 0 (before any
; instruction) and counting down while L2 waits (only that it fired is printed), task
; switches by JMP, CALL, IRET with NT and INT n through a task gate (qualification source
; and selector, IDT-vectoring information), a #PF during delivery of INT n (IDT-vectoring
; information and instruction length), and a triple fault in L2 (exit reason 2) last.
; Reference: Bochs 2.7 with VMX (cpu model corei7_sandy_bridge_2600k).
%include "lib.inc"
%include "vmx.inc"

SEL_TASK    equ GDT_TEST + 8        ; 0x48: an available 32-bit TSS

; RAWCFG cmd, field, value: the VMCALL alone, inside a step (EAX EBX ECX clobbered)
%macro RAWCFG 3
    mov eax, %1
    mov ebx, %2
    mov ecx, %3
    vmcall
%endmacro

main:
    call vmx_setup
    ; the TSS of SEL_TASK (its contents do not matter: the switch exits first) and
    ; L2's IDT vector 0x21: a task gate to it (SDM vol. 3A, 7.2.5)
    mov eax, task_tss
    mov word [gdt + SEL_TASK], 0x67
    mov [gdt + SEL_TASK + 2], ax
    shr eax, 16
    mov [gdt + SEL_TASK + 4], al
    mov byte [gdt + SEL_TASK + 5], 0x89
    mov [gdt + SEL_TASK + 7], ah
    mov dword [l2_idt + 0x21*8], SEL_TASK << 16
    mov dword [l2_idt + 0x21*8 + 4], 0x8500
    mov dword [l2_tss], SEL_TASK    ; L2's back link, for IRET with NT
    ; which of the optional controls this CPU offers (allowed-1 settings, appendix A.3)
    mov ecx, 0x482
    rdmsr
    shr edx, 27                     ; monitor trap flag
    and edx, 1
    mov [has_mtf], edx
    mov ecx, 0x481
    rdmsr
    shr edx, 6                      ; activate VMX-preemption timer
    and edx, 1
    mov [has_timer], edx
    mov ecx, 0x481
    rdmsr
    shr edx, 5                      ; virtual NMIs
    and edx, 1
    mov [has_vnmi], edx
    call vmx_run
    PUTSN "back in l1"
    vmxoff
    ret

l2_main:
    ; interrupt-window exiting (25.2): with IF=1 and no blocking, before any instruction
    sti
    STEP "interrupt window, if=1 at vm entry", RAWCFG CMD_OR, PROC_CTLS, 1 << 2
    cli
    BSTEP "interrupt window, if=0: sti; nop; nop"
    RAWCFG CMD_OR, PROC_CTLS, 1 << 2
    sti
    nop
    nop
    ESTEP
    cli
    ; NMI-window exiting with virtual NMIs (24.6.1, 25.2)
    cmp dword [has_vnmi], 0
    jne .vnmi
    L2NOTE "virtual nmis not offered (ia32_vmx_pinbased_ctls bit 37 clear)"
    jmp .novnmi
.vnmi:
    CFG CMD_OR, PIN_CTLS, (1 << 3) | (1 << 5)
    STEP "nmi window, no virtual-nmi blocking", RAWCFG CMD_OR, PROC_CTLS, 1 << 22
    CFG CMD_OR, GUEST_INTERRUPTIBILITY, 1 << 3
    BSTEP "nmi window, blocked until iret"
    RAWCFG CMD_OR, PROC_CTLS, 1 << 22
    pushfd
    push cs
    push dword .after_iret
    iretd
.after_iret:
    nop
    ESTEP
    CFG CMD_AND, PIN_CTLS, ~((1 << 3) | (1 << 5))
.novnmi:
    ; monitor trap flag (25.5.2): after one instruction
    cmp dword [has_mtf], 0
    jne .mtf
    L2NOTE "monitor trap flag not offered (ia32_vmx_procbased_ctls bit 59 clear)"
    jmp .nomtf
.mtf:
    BSTEP "mtf: vmcall; nop; nop"
    RAWCFG CMD_OR, PROC_CTLS, 1 << 27
    nop
    nop
    ESTEP
    BSTEP "mtf: vmcall; cpuid; nop"
    RAWCFG CMD_OR, PROC_CTLS, 1 << 27
    cpuid                           ; exits itself (no MTF exit), then MTF after the nop
    nop
    nop
    ESTEP
    CFG CMD_AND, PROC_CTLS, ~(1 << 27)
.nomtf:
    ; VMX-preemption timer (25.5.1): 0 exits before any instruction
    cmp dword [has_timer], 0
    jne .timer
    L2NOTE "preemption timer not offered (ia32_vmx_pinbased_ctls bit 38 clear)"
    jmp .notimer
.timer:
    CFG CMD_WRITE, GUEST_TIMER, 0
    STEP "preemption timer 0", RAWCFG CMD_OR, PIN_CTLS, 1 << 6
    CFG CMD_WRITE, GUEST_TIMER, 2000
    BSTEP "preemption timer 2000, l2 waiting"
    RAWCFG CMD_OR, PIN_CTLS, 1 << 6
    jmp $
    ESTEP

.notimer:
    ; task switches (25.4.2, table 27-2: source 0 CALL, 1 IRET, 2 JMP, 3 task gate)
    STEP "jmp 0x48:0 (a tss)", jmp SEL_TASK:0
    STEP "call 0x48:0 (a tss)", call SEL_TASK:0
    STEP "int 0x21 (a task gate)", int 0x21
    pushfd
    or dword [esp], 1 << 14         ; NT
    popfd
    or byte [gdt + SEL_TASK + 5], 2 ; busy: IRET's task switch checks it first (7.3)
    STEP "iret with nt=1 (back link 0x48)", iretd
    pushfd
    and dword [esp], ~(1 << 14)
    popfd

    ; a #PF during delivery of INT 0x20 and of #UD: the stack reaches a not-present page
    ; (27.2.3): IDT-vectoring information, and the length of INT n
    CFG CMD_WRITE, EXC_BITMAP, 1 << 14
    mov [saved_esp], esp
    mov esp, L2_HOLE + 4            ; only EFLAGS, pushed first, in the hole: CR2 = L2_HOLE
    STEP "int 0x20 with esp in a not-present page", int 0x20
    mov esp, [saved_esp]
    mov [saved_esp], esp
    mov esp, L2_HOLE + 4            ; only EFLAGS, pushed first, in the hole: CR2 = L2_HOLE
    STEP "ud2 with esp in a not-present page", ud2
    mov esp, [saved_esp]

    ; debug exceptions through the exception bitmap (25.2, 27.1): the qualification holds
    ; the DR6-like bits (table 27-1), DR6 itself is not written
    CFG CMD_WRITE, EXC_BITMAP, 1 << 1
    mov eax, 0xffff0ff0
    mov dr6, eax
    BSTEP "single step: popfd setting tf; nop"
    pushfd
    or dword [esp], 0x100
    popfd
    nop
    nop
    ESTEP
    mov eax, dr6
    L2PRINT "dr6 after the #db exit", eax
    mov eax, bp_data
    mov dr0, eax
    mov eax, 0x000d0002             ; DR0: data write, 4 bytes, global enable (G0)
    mov dr7, eax
    STEP "write to a dr0 data breakpoint", mov dword [bp_data], 1
    xor eax, eax
    mov dr7, eax
    mov eax, dr6
    L2PRINT "dr6 after the #db exit", eax
    CFG CMD_WRITE, EXC_BITMAP, 0

    ; a triple fault (25.2): an IDT of limit 0, #UD, #GP, #DF, shutdown
    CFG CMD_WRITE, EXC_BITMAP, 0
    lidt [null_idtr]
    STEP "ud2 with an idt limit of 0 (triple fault)", ud2
    L2NOTE "l2 after the triple fault (not expected)"
    L2DONE

null_idtr:  dw 0
            dd 0
saved_esp:  dd 0
bp_data:    dd 0
has_mtf:    dd 0
has_timer:  dd 0
has_vnmi:   dd 0

section .bss
alignb 16
task_tss:   resb 104
section .text
%include "end.inc"
