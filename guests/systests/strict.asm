; Faults QEMU 7.2 TCG does not raise (so this guest's reference is Bochs): #GP(0) for
; invalid CR0 combinations (PG without PE, NW without CD) and reserved CR4 bits (SDM vol.
; 3A, 2.5 and MOV CR), #DE for IDIV of -2^63 by -1 (QEMU dies of a host SIGFPE on it),
; #AC(0) for a misaligned ring-3 access with CR0.AM and EFLAGS.AC (SDM vol. 3A, 6.15
; interrupt 17), WRMSR to IA32_TIME_STAMP_COUNTER (0x10) setting the TSC (SDM vol. 3B,
; 18.17), #GP(0) for RDMSR/WRMSR of an MSR that does not exist (QEMU ignores both), and
; INT1/ICEBP (F1) raising a #DB trap (QEMU 7.2 raises #UD).
%include "lib.inc"

main:
    mov eax, cr0
    mov [saved_cr0], eax
    CASE "mov cr0 with pg=1 pe=0"
    mov eax, 0x80000010
    mov cr0, eax
    ENDTRY
    CASE "mov cr0 with nw=1 cd=0"
    mov eax, [saved_cr0]
    or eax, 1 << 29
    and eax, ~(1 << 30)
    mov cr0, eax
    ENDTRY
    mov eax, [saved_cr0]
    mov cr0, eax
    CASE "mov cr4 with bit 31 set"
    mov eax, cr4
    or eax, 1 << 31
    mov cr4, eax
    ENDTRY
    CASE "idiv -2^63 by -1"
    mov edx, 0x80000000
    xor eax, eax
    mov ecx, -1
    idiv ecx
    ENDTRY

    mov ecx, 0x10
    mov eax, 0
    mov edx, 0x12
    wrmsr
    rdtsc
    PUTS "rdtsc after wrmsr(0x10, 0x12_00000000): edx="
    PHEX edx
    NL
    CASE "rdmsr of msr 0x12345"
    mov ecx, 0x12345
    rdmsr
    ENDTRY
    CASE "wrmsr of msr 0x12345"
    mov ecx, 0x12345
    xor eax, eax
    xor edx, edx
    wrmsr
    ENDTRY

    CASE "int1 (f1): #DB trap"
    db 0xf1
    nop
    ENDTRY

    ; #AC: CR0.AM=1, then ring 3 with EFLAGS.AC=1
    mov eax, cr0
    or eax, 1 << 18
    mov cr0, eax
    CASE "ring 3 misaligned dword read, am=1 ac=1"
    mov eax, r3_ac
    xor ecx, ecx
    call to_ring3
    ENDTRY
    CASE "ring 3 misaligned dword read, am=1 ac=0"
    mov eax, r3_noac
    xor ecx, ecx
    call to_ring3
    ENDTRY
    CASE "ring 0 misaligned dword read, am=1 ac=1"
    pushfd
    or dword [esp], 1 << 18
    popfd
    mov eax, [aligned + 1]
    pushfd
    and dword [esp], ~(1 << 18)
    popfd
    ENDTRY
    mov eax, [saved_cr0]
    mov cr0, eax
    ret

r3_ac:
    pushfd
    or dword [esp], 1 << 18         ; AC
    popfd
    mov eax, [aligned + 1]
    int 0x30
r3_noac:
    mov eax, [aligned + 1]
    int 0x30

align 4
aligned: dd 0x11223344, 0x55667788
saved_cr0: dd 0
%include "end.inc"
