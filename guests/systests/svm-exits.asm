; AMD-V intercepts, one #VMEXIT after another (AMD APM vol. 2, chapter 15: the sections
; "Instruction Intercepts", "Exception Intercepts", "IOIO Intercepts", "MSR Intercepts",
; "Intercepts During IDT Interrupt Delivery" (EXITINTINFO), 15.20 "Event Injection"; the
; intercept vectors in appendix B, the exit codes in appendix C). The L1 (svm.inc) runs an
; L2 guest in 32-bit protected mode that executes one intercepted instruction after
; another; after each #VMEXIT the L1 prints EXITCODE, EXITINFO1, EXITINFO2, EXITINTINFO
; (and the next-RIP delta when NRIPS is offered), skips the instruction and runs the guest
; again. Without decode assists (neither reference offers them) EXITINFO1 of
; CR/DR/INVLPG/INTn exits is 0 (APM "Decode Assists"). References: Bochs 2.7 (cpu model
; phenom_8650_toliman) and QEMU 7.2 (-cpu phenom); where they differ,
; test/system/references.test.ts says which follows the APM.
%include "lib.inc"
%include "svm.inc"

svm_setup:
    ; L2 pages its own memory (for #PF): 0-4 MiB with a 4 MiB page, 4-8 MiB through a
    ; page table with 0x400000 present, 0x401000 not present, 0x402000 read-only; WP on
    mov dword [l2_pd + 0], 0x000000 | 0x83
    mov dword [l2_pd + 4], l2_pt + 0x03
    mov dword [l2_pt + 0], 0x400000 | 0x03
    mov dword [l2_pt + 8], 0x402000 | 0x01
    mov dword [vmcb + V_CR0], L2_CR0 | 0x80010000
    mov dword [vmcb + V_CR3], l2_pd
    mov dword [vmcb + V_CR4], 1 << 4 ; PSE
    ; intercepts (APM vol. 2, appendix B, table B-1)
    mov word [vmcb + V_CR_RD], (1 << 0) | (1 << 3) | (1 << 4)
    mov word [vmcb + V_CR_WR], (1 << 0) | (1 << 3) | (1 << 4)
    mov word [vmcb + V_DR_RD], 1 << 7
    mov word [vmcb + V_DR_WR], 1 << 0
    mov dword [vmcb + V_EXC], (1 << 0) | (1 << 3) | (1 << 6) | (1 << 14)
    mov dword [vmcb + V_MISC1], I_CPUID | I_HLT | I_INVLPG | I_RDTSC | I_RDPMC | \
        I_IDTR_RD | I_GDTR_RD | I_IDTR_WR | I_GDTR_WR | I_INVD | I_PAUSE | I_IOIO | \
        I_MSR | I_SHUTDOWN | I_INVLPGA
    or dword [vmcb + V_MISC2], I2_VMLOAD | I2_VMSAVE | I2_STGI | I2_CLGI | I2_WBINVD | \
        I2_RDTSCP | I2_ICEBP | I2_MWAIT
    or dword [vmcb + V_MISC1], I_TASKSW
    ; a 32-bit available TSS at GDT_TEST (0x40) for the task-switch intercepts
    mov eax, l2_scratch
    mov word [gdt_test + 0], 0x67
    mov [gdt_test + 2], ax
    shr eax, 16
    mov [gdt_test + 4], al
    mov byte [gdt_test + 5], 0x89
    mov [gdt_test + 7], ah
    ; IOPM (APM "I/O Permissions Map"): one bit per port; 0x80, 0x1234 and 0x107
    ; intercepted
    or byte [iopm + 0x80 / 8], 1 << (0x80 & 7)
    or byte [iopm + 0x1234 / 8], 1 << (0x1234 & 7)
    or byte [iopm + 0x107 / 8], 1 << (0x107 & 7)
    or byte [iopm + 0x10000 / 8], 1 ; the bit after port 0xffff (a word at 0xffff)
    ; MSRPM (APM "MSR Intercepts"): two bits per MSR (read, write); 0000_0000-0000_1FFF at
    ; byte 0, C000_0000-C000_1FFF at 0x800. SYSENTER_CS (0x174) read, SYSENTER_ESP (0x175)
    ; write, EFER read and write
    or byte [msrpm + (0x174 * 2) / 8], 1 << ((0x174 * 2) & 7)
    or byte [msrpm + (0x175 * 2 + 1) / 8], 1 << ((0x175 * 2 + 1) & 7)
    or byte [msrpm + 0x800 + (0x80 * 2) / 8], 3 << ((0x80 * 2) & 7)
    ; C001_0000-C001_1FFF at 0x1000: VM_HSAVE_PA (C001_0117) read
    or byte [msrpm + 0x1000 + (0x117 * 2) / 8], 1 << ((0x117 * 2) & 7)
    ret

; exits without a record: a single-step #DB (TF cleared; the VMCB's DR6 is not printed:
; Bochs 2.7 leaves BS clear there, QEMU 7.2 sets it, and the APM does not say whether an
; intercepted #DB updates DR6 first); the #NP met while delivering an injected event (the
; gate restored, the event injected again from EXITINTINFO, as a VMM does); anything
; else ends the guest
svm_noinfo:
    cmp eax, 0x41
    jne .np
    and dword [vmcb + V_RFLAGS], ~0x100
    xor eax, eax
    ret
.np:
    cmp eax, 0x4b
    jne .other
    or byte [l2_idt + 13 * 8 + 5], 0x80
    mov eax, [vmcb + V_EXITINT + 4]
    mov [vmcb + V_EVENTINJ + 4], eax
    mov eax, [vmcb + V_EXITINT]
    mov [vmcb + V_EVENTINJ], eax
    and dword [vmcb + V_EXC], ~(1 << 11)
    xor eax, eax
    ret
.other:
    mov eax, 1
    ret
svm_fix:
svm_call:
    ret

l2_code:
l2_main:
    xor eax, eax
    X "cpuid", cpuid
    X "hlt", hlt
    X "invlpg", {invlpg [0x400000]}
    X "rdtsc", rdtsc
    xor ecx, ecx
    X "rdpmc", rdpmc
    X "invd", invd
    X "wbinvd", wbinvd
    X "pause", pause
    X "invlpga", {db 0x0f, 0x01, 0xdf}
    X "vmrun", {db 0x0f, 0x01, 0xd8}
    X "vmload", {db 0x0f, 0x01, 0xda}
    X "vmsave", {db 0x0f, 0x01, 0xdb}
    X "stgi", {db 0x0f, 0x01, 0xdc}
    X "clgi", {db 0x0f, 0x01, 0xdd}
    X "vmmcall", {db 0x0f, 0x01, 0xd9}
    X "rdtscp", {db 0x0f, 0x01, 0xf9}
    X "icebp", {db 0xf1}
    xor eax, eax                    ; (MONITOR is not here: Bochs 2.7 does not intercept
    xor ecx, ecx                    ; it, QEMU 7.2 does)
    X "mwait", {db 0x0f, 0x01, 0xc9}
    ; control and debug registers (exit codes 0x00-0x1f, 0x20-0x3f)
    X "mov eax, cr0", {mov eax, cr0}
    X "mov ebx, cr3", {mov ebx, cr3}
    X "mov ecx, cr4", {mov ecx, cr4}
    mov eax, L2_CR0 | 0x80010000
    X "mov cr0, eax", {mov cr0, eax}
    mov edx, l2_pd
    X "mov cr3, edx", {mov cr3, edx}
    mov esi, 1 << 4
    X "mov cr4, esi", {mov cr4, esi}
    X "clts (cr0 write)", clts
    X "lmsw (cr0 write)", {lmsw ax}
    X "smsw (cr0 read)", {smsw bx}
    X "mov eax, dr7", {mov eax, dr7}
    X "mov dr0, eax", {mov dr0, eax}
    ; CR0 selective write (APM "CR0 Selective Write Intercept"): CR0 writes not
    ; intercepted, the selective one on; a write changing only TS or MP does not exit, one
    ; changing CD does
    VMANDN V_CR_RD, 1 << 16         ; CR0 writes (offset 2 bit 0: the dword at 0, bit 16)
    VMOR V_MISC1, I_CR0_SEL
    mov eax, L2_CR0 | 0x80010000 | (1 << 3)
    mov cr0, eax
    L2PUTS "mov cr0 setting ts ran"
    clts
    mov eax, L2_CR0 | 0x80010000 | (1 << 30)
    X "mov cr0 setting cd (selective)", {mov cr0, eax}
    mov ax, 0x33
    lmsw ax
    L2PUTS "lmsw setting mp ran"
    mov ax, 0x37
    X "lmsw setting em (selective)", {lmsw ax}
    VMANDN V_MISC1, I_CR0_SEL
    ; descriptor tables
    X "sidt", {sidt [l2_scratch]}
    X "sgdt", {sgdt [l2_scratch]}
    X "lidt", {lidt [l2_scratch]}
    X "lgdt", {lgdt [l2_scratch]}
    VMOR V_MISC1, I_LDTR_RD | I_TR_RD | I_LDTR_WR | I_TR_WR
    X "sldt", {sldt ax}
    X "str", {str ax}
    xor eax, eax
    X "lldt", {lldt ax}
    mov ax, SEL_TSS
    X "ltr", {ltr ax}
    VMANDN V_MISC1, I_LDTR_RD | I_TR_RD | I_LDTR_WR | I_TR_WR
    ; PUSHF, POPF, INTn, IRET: on only around their own test (L2's prints use IRET)
    VMOR V_MISC1, I_PUSHF | I_POPF | I_INTN | I_IRET
    X "pushf", pushfd
    X "popf", popfd
    X "int 0x31", {int 0x31}
    X "iret", iretd
    VMANDN V_MISC1, I_PUSHF | I_POPF | I_INTN | I_IRET
    ; IOIO (APM "IOIO Intercepts", figure "EXITINFO1 for IOIO Intercept"): EXITINFO1 =
    ; port 31:16, A64/A32/A16 9:7, SZ32/16/8 6:4, REP 3, STR 2, TYPE (1 = IN) 0;
    ; EXITINFO2 = the next RIP
    X "in al, 0x80", {in al, 0x80}
    X "out 0x80, al", {out 0x80, al}
    X "in eax, 0x80", {in eax, 0x80}
    mov dx, 0x1234
    X "in ax, dx", {in ax, dx}
    X "out dx, eax", {out dx, eax}
    mov dx, 0x106
    X "in ax, dx (port 0x106, 0x107 intercepted)", {in ax, dx}
    mov dx, 0xffff
    X "in ax, dx (port 0xffff, the bit after it set)", {in ax, dx}
    mov dx, 0x1234
    mov edi, l2_scratch
    mov esi, l2_scratch
    mov ecx, 4
    X "rep insb", {rep insb}
    X "outsw", {outsw}
    X "rep outsd", {rep outsd}
    X "a16 rep insw", {a16 rep insw}
    X "a16 outsb", {a16 outsb}
    ; MSR (APM "MSR Intercepts"): EXITINFO1 0 for RDMSR, 1 for WRMSR
    mov ecx, 0x174
    X "rdmsr 0x174", rdmsr
    xor eax, eax
    xor edx, edx
    wrmsr
    L2PUTS "wrmsr 0x174 ran"
    mov ecx, 0x175
    rdmsr
    L2PUTS "rdmsr 0x175 ran"
    xor eax, eax
    X "wrmsr 0x175", wrmsr
    mov ecx, MSR_EFER
    X "rdmsr efer", rdmsr
    X "wrmsr efer", wrmsr
    mov ecx, MSR_HSAVE
    X "rdmsr vm_hsave_pa", rdmsr
    mov ecx, 0x40000000
    X "rdmsr 0x40000000 (outside the map)", rdmsr
    ; exceptions (APM "Exception Intercepts"): EXITINFO1 the error code, EXITINFO2 CR2 for
    ; #PF
    xor ecx, ecx
    X "#de", {div ecx}
    X "#bp", int3
    X "#ud", ud2
    VMOR V_EXC, 1 << 13
    mov ax, 0x1230                  ; beyond the GDT's limit: #GP(0x1230)
    X "#gp", {mov ds, ax}
    VMANDN V_EXC, 1 << 13
    X "#pf read, not present", {mov eax, [0x401000]}
    X "#pf write, not present", {mov [0x401004], eax}
    X "#pf write, read-only", {mov [0x402008], eax}
    mov eax, [0x402008]
    L2PUTS "read of the read-only page ran"
    ; exceptions not intercepted go through L2's IDT
    VMANDN V_EXC, 1 << 6
    X "#ud not intercepted", ud2
    ; an exception during event delivery (APM "Intercepts During IDT Interrupt Delivery"):
    ; an injected #GP meets a not-present IDT gate; #NP intercepted with EXITINFO1 its
    ; error code (13*8 + IDT 2 + EXT 1: the injected event counts as external, APM vol. 2,
    ; 8.4.1) and EXITINTINFO the #GP with its error code; the L1 restores the gate and
    ; injects the #GP again from EXITINTINFO
    and byte [l2_idt + 13 * 8 + 5], 0x7f
    VMOR V_EXC, 1 << 11
    VMW V_EVENTINJ + 4, 0x5678
    VMW V_EVENTINJ, 0x80000000 | (1 << 11) | (3 << 8) | 13
    L2PUTS "after #gp re-injected"
    ; #DB from single-stepping (EFLAGS.TF), intercepted: a trap, the exit's RIP after the
    ; stepped instruction (the first NOP: POPF sets TF for the one after it); the L1
    ; clears TF
    VMOR V_EXC, 1 << 1
    pushfd
    or dword [esp], 0x100
    popfd
    nop
    nop
    VMANDN V_EXC, 1 << 1
    ; task switches (APM "Miscellaneous Intercepts", TASK_SWITCH 0x7d): EXITINFO1 the TSS
    ; selector, EXITINFO2 bit 38 for a far JMP (36 IRET, 44 an error code to push); last,
    ; as QEMU 7.2 does not intercept them and switches tasks
    X "jmp far to a tss", {jmp GDT_TEST:0}
    X "call far to a tss", {call GDT_TEST:0}
    L2_END
l2_null_idt: dw 0
    dd 0
l2_code_end:

section .bss
alignb 4096
l2_pd:      resb 4096
l2_pt:      resb 4096
l2_scratch: resb 64
section .text
%include "end.inc"
