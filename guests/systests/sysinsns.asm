; System instructions and MSRs (SDM vol. 2 instruction pages; vol. 4 for MSR numbers):
; LMSW (loads CR0 bits 0-3, cannot clear PE), SMSW to memory, MOV CR2, CLTS, INVD/WBINVD,
; ARPL, RDTSC, IA32_APIC_BASE (0x1b), and INT3/INT n/INTO from ring 3 through a DPL 0
; gate. (TSC writes and unknown MSRs are in strict.asm: QEMU ignores both.)
%include "lib.inc"

main:
    ; LMSW: loads PE, MP, EM, TS from the operand; PE cannot be cleared
    mov eax, cr0
    mov [saved_cr0], eax
    mov ax, 0x000e                  ; MP, EM, TS set, PE clear
    lmsw ax
    mov eax, cr0
    PUTS "cr0 after lmsw 0x000e="
    PHEX eax
    NL
    clts
    mov eax, cr0
    PUTS "cr0 after clts="
    PHEX eax
    NL
    mov eax, [saved_cr0]
    mov cr0, eax
    mov dword [scratch], 0xffffffff
    smsw [scratch]                  ; memory form: 16 bits written
    PUTS "smsw to memory="
    PHEX [scratch]
    NL
    mov eax, 0x12345678
    mov cr2, eax
    mov ebx, cr2
    PUTS "cr2="
    PHEX ebx
    NL
    invd
    wbinvd
    PUTSN "invd, wbinvd: no fault"

    ; ARPL: raises the destination RPL to the source's, ZF=1 when it did
    mov ax, 0x0010
    mov bx, 0x0003
    arpl ax, bx
    setz cl
    mov dx, 0x0013
    arpl dx, bx
    setz ch
    PUTS "arpl 0x10,3 -> "
    PHEX16 eax
    PUTS " zf="
    PHEX8 ecx
    PUTS "; arpl 0x13,3 -> "
    PHEX16 edx
    mov cl, ch
    PUTS " zf="
    PHEX8 ecx
    NL

    ; time stamp counter: RDTSC counts up
    rdtsc
    mov esi, eax
    mov edi, edx
    rdtsc
    sub eax, esi
    sbb edx, edi
    or edx, edx
    setz cl                         ; upper half of the difference is 0
    test eax, eax
    setnz ch                        ; and the lower half is not
    and cl, ch
    PUTS "rdtsc advances="
    PHEX8 ecx
    NL
    mov ecx, 0x1b
    rdmsr
    and eax, 0xfffff900             ; base, BSP (bit 8), enable (bit 11)
    PUTS "apic base msr="
    PHEX edx
    PHEX eax
    NL
    ; software interrupts from ring 3 check the gate's DPL, INT3 (CC) included
    mov eax, 3
    mov ebx, exc3
    mov ecx, SEL_CODE0
    mov edx, 0x8e                    ; DPL 0
    call set_gate
    CASE "ring 3 int3 through a dpl 0 gate"
    mov eax, r3_int3
    xor ecx, ecx
    call to_ring3
    ENDTRY
    CASE "ring 3 int 3 (cd 03) through a dpl 0 gate"
    mov eax, r3_int_3
    xor ecx, ecx
    call to_ring3
    ENDTRY
    mov eax, 3
    mov ebx, exc3
    mov ecx, SEL_CODE0
    mov edx, 0xee                    ; DPL 3
    call set_gate
    CASE "ring 3 int3 through a dpl 3 gate"
    mov eax, r3_int3
    xor ecx, ecx
    call to_ring3
    ENDTRY
    CASE "ring 3 into (OF=1) through a dpl 0 gate"
    mov eax, r3_into
    xor ecx, ecx
    call to_ring3
    ENDTRY
    ret

r3_int3:
    int3
    int 0x30
r3_int_3:
    int 3
    int 0x30
r3_into:
    mov al, 0x7f
    add al, 1
    into
    int 0x30

saved_cr0: dd 0
scratch: dd 0
%include "end.inc"
