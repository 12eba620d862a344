; SYSENTER/SYSEXIT (SDM vol. 2B, SYSENTER and SYSEXIT; vol. 3A, 5.8.7): the MSRs
; IA32_SYSENTER_CS/ESP/EIP (0x174-0x176), the flat selectors derived from SYSENTER_CS
; (CS, CS+8 for ring 0; CS+16|3, CS+24|3 for ring 3), ESP/EIP from the MSRs and from
; ECX/EDX, IF and VM cleared on entry, #GP(0) when SYSENTER_CS is 0 or SYSEXIT runs in ring 3.
%include "lib.inc"

%macro WRMSR 2
    mov ecx, %1
    mov eax, %2
    xor edx, edx
    wrmsr
%endmacro

main:
    ALLOW_COM1                      ; ring 3 may print
    WRMSR 0x174, SEL_CODE0
    WRMSR 0x175, stack0_top - 64
    WRMSR 0x176, sysenter_target
    mov ecx, 0x174
.show:
    rdmsr
    PUTS "msr "
    PHEX16 ecx
    PUTS "="
    PHEX edx
    PHEX eax
    NL
    inc ecx
    cmp ecx, 0x177
    jb .show

    CASE "sysexit to ring 3 and sysenter back"
    mov [kernel_esp], esp
    mov ecx, stack3_top - 16
    mov edx, ring3_code
    sysexit
    ENDTRY

    CASE "sysenter with sysenter_cs=0"
    WRMSR 0x174, 0
    mov eax, r3_sysenter
    xor ecx, ecx
    call to_ring3
    ENDTRY
    WRMSR 0x174, SEL_CODE0

    CASE "sysexit in ring 3"
    mov eax, r3_sysexit
    xor ecx, ecx
    call to_ring3
    ENDTRY

    CASE "sysexit with sysenter_cs=0 in ring 0"
    WRMSR 0x174, 0
    mov ecx, stack3_top - 16
    mov edx, ring3_code
    sysexit
    ENDTRY
    WRMSR 0x174, SEL_CODE0
    ret

ring3_code:
    mov eax, cs
    mov ebx, ss
    mov ecx, esp
    mov dx, SEL_DATA3 | 3           ; SYSEXIT leaves DS as it was (ring-0 data): reload
    mov ds, dx
    PUTS "ring 3: cs="
    PHEX16 eax
    PUTS " ss="
    PHEX16 ebx
    PUTS " esp="
    PHEX ecx
    pushfd
    pop eax
    PUTS " efl="
    PHEX eax
    NL
    mov ecx, 0xc0c0c0c0
    mov edx, 0xd0d0d0d0
    sysenter

sysenter_target:
    mov eax, cs
    mov ebx, ss
    mov esi, esp
    mov di, SEL_DATA0
    mov ds, di
    PUTS "ring 0: cs="
    PHEX16 eax
    PUTS " ss="
    PHEX16 ebx
    PUTS " esp="
    PHEX esi
    PUTS " ecx="
    PHEX ecx
    PUTS " edx="
    PHEX edx
    pushfd
    pop eax
    PUTS " efl="
    PHEX eax
    NL
    jmp exc_common.resume

r3_sysenter:
    sysenter
    int 0x30
r3_sysexit:
    sysexit
    int 0x30

kernel_esp: dd 0
%include "end.inc"
