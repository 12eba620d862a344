; Descriptor-table checks beyond data segment loads (SDM vol. 3A, 5.8 and the instruction
; pages): LLDT and segments from an LDT, LTR of a busy TSS and of a non-TSS, conforming
; code segments (a far call keeps CPL 3), far JMP/CALL from ring 3 to a DPL 0
; non-conforming segment, RETF and IRET towards an inner ring.
%include "lib.inc"

%macro RING3 1
    mov eax, %1
    xor ecx, ecx
    call to_ring3
%endmacro

SEL_LDT  equ 0x40
SEL_CONF equ 0x48                   ; conforming code, DPL 0
SEL_NC0  equ 0x50                   ; non-conforming code, DPL 0 (a copy of 0x08)

main:
    ALLOW_COM1                      ; ring 3 may print
    ; GDT 0x40: LDT descriptor for `ldt`
    mov eax, ldt
    mov word [gdt + SEL_LDT], ldt_end - ldt - 1
    mov [gdt + SEL_LDT + 2], ax
    shr eax, 16
    mov [gdt + SEL_LDT + 4], al
    mov byte [gdt + SEL_LDT + 5], 0x82
    mov [gdt + SEL_LDT + 7], ah
    mov dword [gdt + SEL_CONF], 0x0000ffff
    mov dword [gdt + SEL_CONF + 4], 0x00cf9f00   ; present, DPL 0, code, conforming, readable, accessed
    mov dword [gdt + SEL_NC0], 0x0000ffff
    mov dword [gdt + SEL_NC0 + 4], 0x00cf9b00

    CASE "lldt a data selector"
    mov ax, SEL_DATA0
    lldt ax
    ENDTRY
    CASE "lldt the ldt"
    mov ax, SEL_LDT
    lldt ax
    sldt bx
    PUTS "ldtr="
    PHEX16 ebx
    NL
    ENDTRY
    mov dword [0x2000], 0x600d2000
    CASE "fs <- ldt entry 1 (data, base 0x2000)"
    mov ax, 0x0c                    ; index 1, TI=1, RPL 0
    mov fs, ax
    mov eax, [fs:0]
    mov ebx, 0x0c
    lsl ecx, ebx
    PUTS "fs:[0]="
    PHEX eax
    PUTS " lsl="
    PHEX ecx
    NL
    ENDTRY
    CASE "fs <- ldt entry beyond the ldt limit"
    mov ax, 0x1c
    mov fs, ax
    ENDTRY
    mov ax, SEL_DATA0
    mov fs, ax
    CASE "ltr a busy tss"
    mov ax, SEL_TSS
    ltr ax
    ENDTRY
    CASE "ltr a data selector"
    mov ax, SEL_DATA0
    ltr ax
    ENDTRY
    CASE "ring 3 far call to conforming dpl 0 code"
    RING3 r3_conforming
    ENDTRY
    CASE "ring 3 far jmp to non-conforming dpl 0 code"
    RING3 r3_jmp_nc0
    ENDTRY
    CASE "ring 3 far call to non-conforming dpl 0 code"
    RING3 r3_call_nc0
    ENDTRY
    CASE "ring 3 retf to ring 0"
    RING3 r3_retf_inner
    ENDTRY
    CASE "ring 3 iret to ring 0"
    RING3 r3_iret_inner
    ENDTRY
    CASE "ring 0 far call to conforming code"
    call SEL_CONF:conforming
    ENDTRY
    ret

conforming:                         ; prints its CS: the RPL is the caller's CPL
    mov eax, cs
    mov ebx, ss
    PUTS "in conforming code cs="
    PHEX16 eax
    PUTS " ss="
    PHEX16 ebx
    NL
    retf

r3_conforming:
    call SEL_CONF:conforming
    PUTSN "back in ring 3"
    int 0x30
r3_jmp_nc0:
    jmp SEL_NC0:r3_target
r3_call_nc0:
    call SEL_NC0:r3_target
r3_target:
    int 0x30
r3_retf_inner:
    push dword SEL_CODE0
    push dword r3_target
    retf
r3_iret_inner:
    pushfd
    push dword SEL_CODE0
    push dword r3_target
    iretd

align 8
ldt:
    DESC 0, 0xfffff, 0x92, 0xc      ; LDT 0: flat data
    DESC 0x2000, 0x0fff, 0x92, 0x0  ; LDT 1: data, base 0x2000, limit 0xfff
    DESC 0, 0xfffff, 0xf2, 0xc      ; LDT 2: flat data, DPL 3
ldt_end:
%include "end.inc"
