; Protected-mode entry: the Multiboot state, our own GDT, the descriptor-table
; registers, far transfers, CPUID leaf 0 presence and the EFLAGS.ID test for CPUID.
%include "lib.inc"
main:
    PUTS "magic="
    PHEX [mb_eax]
    NL
    mov ebx, [mb_ebx]
    PUTS "mbi.flags.mmap="
    mov eax, [ebx]
    and eax, 0x40
    PHEX eax
    NL
    PUTS "cs="
    mov ax, cs
    PHEX16 eax
    PUTS " ds="
    mov ax, ds
    PHEX16 eax
    PUTS " ss="
    mov ax, ss
    PHEX16 eax
    NL
    sgdt [scratch]
    PUTS "gdtr.limit="
    PHEX16 [scratch]
    PUTS " base="
    PHEX [scratch+2]
    NL
    sidt [scratch]
    PUTS "idtr.limit="
    PHEX16 [scratch]
    PUTS " base="
    PHEX [scratch+2]
    NL
    str ax
    PUTS "tr="
    PHEX16 eax
    NL
    smsw ax
    and eax, 1
    PUTS "msw.pe="
    PHEX16 eax
    NL
    ; the TSS descriptor became busy with LTR
    PUTS "gdt[0x28].access="
    PHEX8 [gdt + SEL_TSS + 5]
    NL
    ; far call and far return through the GDT
    call SEL_CODE0:farproc
    PUTS "farret esp ok="
    cmp esp, [saved_esp]
    sete al
    movzx eax, al
    PHEX8 eax
    NL
    ; far jump through a memory pointer
    jmp far [farptr]
.back:
    ; far JMP and far CALL through a 32-bit call gate (DPL 0, 0x40) to ring-0 code: CS is
    ; the gate's selector with the CPL (SDM vol. 2A, JMP and CALL, "CALL-GATE")
    mov eax, gate_jmp_target
    mov [gdt + GDT_TEST], ax
    mov word [gdt + GDT_TEST + 2], SEL_CODE0
    mov byte [gdt + GDT_TEST + 4], 0
    mov byte [gdt + GDT_TEST + 5], 0x8c     ; present, DPL 0, 32-bit call gate
    shr eax, 16
    mov [gdt + GDT_TEST + 6], ax
    jmp GDT_TEST:0
.gate_back:
    mov eax, gate_call_target
    mov [gdt + GDT_TEST], ax
    shr eax, 16
    mov [gdt + GDT_TEST + 6], ax
    call GDT_TEST:0
    ; EFLAGS.ID (bit 21) can be toggled: CPUID is present (SDM vol. 1, 3.4.3.3)
    pushfd
    pop eax
    mov ecx, eax
    xor eax, 1 << 21
    push eax
    popfd
    pushfd
    pop eax
    xor eax, ecx
    shr eax, 21
    and eax, 1
    PUTS "eflags.id toggles="
    PHEX8 eax
    NL
    push ecx
    popfd
    ; CPUID leaf 0: the highest basic leaf is at least 1 (vendor string is not printed)
    xor eax, eax
    cpuid
    cmp eax, 1
    setae al
    movzx eax, al
    PUTS "cpuid.0.max>=1="
    PHEX8 eax
    NL
    ; CPUID leaf 1 EDX bits every P6 has: FPU(0) TSC(4) MSR(5) CX8(8) SEP(11) PSE(3)
    mov eax, 1
    cpuid
    and edx, (1 << 4) | (1 << 5) | (1 << 8) | (1 << 3)
    PUTS "cpuid.1.edx&tsc|msr|cx8|pse="
    PHEX edx
    NL
    ret

farproc:
    lea eax, [esp+8]
    mov [saved_esp], eax
    PUTS "farcall cs="
    mov ebp, esp
    PHEX16 [ebp+4]                  ; the caller's CS, above the return EIP
    NL
    retf

farjump_target:
    PUTSN "farjmp ok"
    jmp main.back

gate_jmp_target:
    mov eax, cs
    PUTS "gate jmp cs="
    PHEX16 eax
    NL
    jmp main.gate_back

gate_call_target:
    mov eax, cs
    mov ecx, [esp + 4]
    PUTS "gate call cs="
    PHEX16 eax
    PUTS " pushed cs="
    PHEX16 ecx
    NL
    retf

farptr: dd farjump_target
        dw SEL_CODE0
saved_esp: dd 0
scratch: times 8 db 0
%include "end.inc"
