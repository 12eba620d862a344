; System registers and instructions (Intel SDM vol. 3A, 2.5 control registers, 2.6 MSRs,
; 17.2 debug registers, 7.2 TSS descriptors and the busy bit, 5.8.7 SYSENTER/SYSEXIT; the LGDT,
; LMSW, MOV CR, MOV DR, RDMSR, WRMSR, LTR, LLDT pages of vol. 2).
%include "frame.inc"


main:
    ; --- CR0
    mov eax, cr0
    SHOW "cr0", eax
    XTRY "cr0 pg without pe", {mov eax, 0x80000010}, {mov cr0, eax}
    XTRY "cr0 nw without cd", {mov eax, 0x20000011}, {mov cr0, eax}
    XTRY "cr0 cd nw", {mov eax, 0x60000011}, {mov cr0, eax}
    mov eax, cr0
    SHOW "cr0 now", eax
    mov eax, 0x00000001                     ; ET is hardwired to 1 (SDM 2.5)
    mov cr0, eax
    mov eax, cr0
    SHOW "cr0 after writing 1", eax
    lmsw [msw_0f]                           ; MP EM TS, PE stays
    mov eax, cr0
    SHOW "cr0 after lmsw f", eax
    mov ax, 0
    lmsw ax                                 ; cannot clear PE
    mov eax, cr0
    SHOW "cr0 after lmsw 0", eax
    smsw [scratch]
    SHOW "smsw m16", [scratch]
    mov eax, 0x0000000b
    mov cr0, eax
    clts
    mov eax, cr0
    SHOW "cr0 after clts", eax
    mov eax, 0x11
    mov cr0, eax

    ; --- CR2, CR3, CR4
    mov eax, 0xdeadb000
    mov cr2, eax
    mov eax, cr2
    SHOW "cr2", eax
    mov eax, 0x00123018
    mov cr3, eax
    mov eax, cr3
    SHOW "cr3", eax
    XTRY "cr4 bit 31", {mov eax, 0x80000000}, {mov cr4, eax}
    mov eax, 0x00000098                     ; DE PSE PGE
    mov cr4, eax
    mov eax, cr4
    SHOW "cr4", eax
    XTRY "mov cr1", {db 0x0f, 0x22, 0xc8}
    XTRY "mov cr5", {db 0x0f, 0x20, 0xe8}

    ; --- debug registers
    mov eax, dr6
    SHOW "dr6 at reset", eax
    mov eax, dr7
    SHOW "dr7 at reset", eax
    mov eax, 0x12345678
    mov dr0, eax
    mov eax, 0x9abcdef0
    mov dr3, eax
    mov eax, dr0
    SHOW "dr0", eax
    mov eax, dr3
    SHOW "dr3", eax
    xor eax, eax
    mov dr7, eax
    mov eax, dr7
    SHOW "dr7 after 0", eax
    ; DR7.GD: the next MOV to or from a debug register is a #DB fault, with DR6.BD set and
    ; GD cleared (SDM vol. 3B, 17.2.4)
    mov eax, 0x00002000
    mov dr7, eax
    XTRY "mov from dr0 with dr7.gd", {mov eax, dr0}
    mov eax, dr6
    SHOW "  dr6", eax
    mov eax, dr7
    SHOW "  dr7", eax
    mov eax, 0xffff0ff0
    mov dr6, eax
    XTRY "mov dr4 with cr4.de", {db 0x0f, 0x21, 0xe0}
    xor eax, eax
    mov cr4, eax
    XTRY "mov dr4 without cr4.de", {db 0x0f, 0x21, 0xe0}
    SHOW "  dr4 (dr6)", eax

    ; --- MSRs
    mov ecx, 0x174
    mov eax, 0x08
    xor edx, edx
    wrmsr
    mov ecx, 0x175
    mov eax, sysenter_stack_top
    wrmsr
    mov ecx, 0x176
    mov eax, sysenter_handler
    wrmsr
    mov ecx, 0x174
    rdmsr
    SHOW "sysenter_cs", eax
    mov ecx, 0x176
    rdmsr
    SHOW "sysenter_eip", eax
    mov ecx, 0x1b
    rdmsr
    SHOW "apic_base", eax
    SHOW "apic_base hi", edx
    mov ecx, 0x10
    mov edx, 5
    xor eax, eax
    wrmsr
    rdmsr
    SHOW "tsc hi after write", edx
    XTRY "rdmsr 12345", {mov ecx, 0x12345}, {rdmsr}
    XTRY "wrmsr 12345", {mov ecx, 0x12345}, {wrmsr}
    XTRY "invd", {invd}
    XTRY "wbinvd", {wbinvd}
    XTRY "invlpg", {invlpg [0x1000]}

    ; --- GDTR/IDTR with 16-bit operand size: the base's high byte is not loaded
    sidt [saved_idtr]
    o16 lidt [idtr_1234]
    sidt [scratch]
    lidt [saved_idtr]
    movzx eax, word [scratch]
    SHOW "o16 lidt limit", eax
    SHOW "o16 lidt base", [scratch + 2]

    ; --- LTR / LLDT
    str eax
    SHOW "str", eax
    SHOW "tss desc hi", [gdt + SEL_TSS + 4]
    XTRY "ltr busy tss", {mov ax, SEL_TSS}, {ltr ax}
    XTRY "ltr 40", {mov ax, 0x40}, {ltr ax}
    SHOW "tss 40 desc hi", [gdt + 0x40 + 4]
    str eax
    SHOW "str now", eax
    XTRY "ltr data", {mov ax, 0x10}, {ltr ax}
    XTRY "ltr null", {xor eax, eax}, {ltr ax}
    XTRY "lldt not present", {mov ax, 0x48}, {lldt ax}
    XTRY "lldt tss", {mov ax, SEL_TSS}, {lldt ax}
    XTRY "ltr ldt-table selector", {mov ax, 0x44}, {ltr ax}
    and byte [gdt + SEL_TSS + 5], ~2        ; back to the frame's TSS: clear its busy bit, LTR
    mov ax, SEL_TSS
    ltr ax

    ; --- SYSENTER / SYSEXIT
    mov eax, .r3
    call run_ring3
    ret
.r3:
    pushfd
    pop eax
    SHOW "ring3 eflags", eax
    mov ecx, esp
    mov edx, .after_sysenter
    mov ebx, 0x5e5e5e5e
    sysenter
.after_sysenter:
    mov eax, cs
    SHOW "after sysexit cs", eax
    mov eax, ss
    SHOW "  ss", eax
    mov eax, esp
    SHOW "  esp", eax
    pushfd
    pop eax
    SHOW "  eflags", eax
    XTRY "sysexit at ring 3", {sysexit}
    XTRY "rdtsc at ring 3 with cr4.tsd", {rdtsc}
    int 0x82

sysenter_handler:
    mov eax, cs
    SHOW "sysenter cs", eax
    mov eax, ss
    SHOW "  ss", eax
    mov eax, esp
    SHOW "  esp", eax
    pushfd
    pop eax
    SHOW "  eflags", eax
    SHOW "  ebx", ebx
    mov eax, cr4
    or eax, 1 << 2                          ; CR4.TSD for the RDTSC test
    mov cr4, eax
    sysexit

align 4
msw_0f: dw 0x000f
saved_idtr: dw 0
            dd 0
idtr_1234: dw 0x1234
           dd 0x12345678
scratch: dd 0, 0

%macro extra_gdt 0
    dq 0x0000890000000067 | ((0x100000 + (tss2 - mb_header)) & 0xffff) << 16 | (((0x100000 + (tss2 - mb_header)) >> 16) & 0xff) << 32 | (((0x100000 + (tss2 - mb_header)) >> 24) << 56)
    dq 0x0000020000000fff               ; 48 LDT, not present
%endmacro

align 16
tss2: times 104 db 0

section .bss
alignb 16
    resb 1024
sysenter_stack_top:
section .text

%include "frame-end.inc"
