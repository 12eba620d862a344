; #TS and #SS during an interrupt's stack switch (SDM vol. 3A, 6.12.1.1 and vol. 2A, INT n
; pseudo-code): a ring-3 INT through a DPL 3 gate to ring 0 reads SS0:ESP0 from the TSS;
; a null SS0, one beyond the GDT limit, one whose RPL or DPL is not 0, or a code segment
; give #TS(selector), a not-present one #SS(selector). The #TS and #SS gates lead to a
; conforming code segment, so their handlers run in ring 3 on the ring-3 stack (a stack
; switch through the broken TSS would fault again). Recorded under Bochs: QEMU 7.2 raises
; #TS for the not-present SS0, where the SDM's INT n pseudo-code says #SS.
%include "lib.inc"

SEL_CONF equ 0x48                   ; conforming code, DPL 0
SEL_NP   equ 0x50                   ; data, DPL 0, not present

%macro SS0CASE 2                    ; name, SS0 value
    PUTS %1
    PUTS ": "
    mov word [tss + 8], %2
    TRY
    mov eax, r3_int
    xor ecx, ecx
    call to_ring3
    ENDTRY
    mov word [tss + 8], SEL_DATA0
%endmacro

main:
    ALLOW_COM1
    mov dword [gdt + SEL_CONF], 0x0000ffff
    mov dword [gdt + SEL_CONF + 4], 0x00cf9f00   ; present, DPL 0, conforming execute/read, accessed
    mov dword [gdt + SEL_NP], 0x0000ffff
    mov dword [gdt + SEL_NP + 4], 0x00cf1300     ; data r/w, accessed, NOT present
    mov eax, 0x80
    mov ebx, int80
    mov ecx, SEL_CODE0
    mov edx, 0xee
    call set_gate
    mov eax, 10
    mov ebx, ring3_ts
    mov ecx, SEL_CODE0
    mov edx, 0x8e
    call set_gate
    mov word [idt + 10*8 + 2], SEL_CONF
    mov eax, 12
    mov ebx, ring3_ss
    mov ecx, SEL_CODE0
    mov edx, 0x8e
    call set_gate
    mov word [idt + 12*8 + 2], SEL_CONF

    SS0CASE "tss.ss0 = 0x10 (valid)", SEL_DATA0
    SS0CASE "tss.ss0 = 0 (null)", 0
    SS0CASE "tss.ss0 = 0x100 (beyond the gdt)", 0x100
    SS0CASE "tss.ss0 = 0x13 (rpl 3)", SEL_DATA0 | 3
    SS0CASE "tss.ss0 = 0x20 (dpl 3 data)", SEL_DATA3
    SS0CASE "tss.ss0 = 0x08 (code segment)", SEL_CODE0
    SS0CASE "tss.ss0 = 0x50 (not present)", SEL_NP
    ret

r3_int:
    mov eax, 0x80808080
    int 0x80
    int 0x30

int80:                              ; ring 0: the stack switch worked
    mov ebp, esp
    mov ax, SEL_DATA0
    mov ds, ax
    PUTS "int 0x80 in ring 0, ss="
    mov ax, ss
    PHEX16 eax
    NL
    jmp exc_common.resume

ring3_ts:
    push dword 10
    jmp ring3_fault
ring3_ss:
    push dword 12
ring3_fault:                        ; runs in ring 3 (conforming code): [esp]=vector, error code
    mov ebp, esp
    mov eax, cs
    PUTS "#"
    PHEX8 [ebp]
    PUTS " in a ring 3 handler: err="
    PHEX [ebp+4]
    PUTS " eip="
    PHEX [ebp+8]
    PUTS " cs="
    PHEX16 [ebp+12]
    PUTS " handler cs="
    PHEX16 eax
    NL
    mov word [tss + 8], SEL_DATA0   ; repair SS0 (flat DPL 3 data can write the TSS)
    int 0x30
%include "end.inc"
