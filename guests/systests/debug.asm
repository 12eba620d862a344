; Debug facilities (SDM vol. 3B, chapter 18): DR0-DR3/DR7 read back, DR6 after a
; breakpoint (B0-B3, BS), an instruction breakpoint (fault: EIP of the instruction, RF),
; a data write breakpoint (trap: EIP after the instruction), single-step (TF) including
; over MOV SS (the trap waits one instruction). INT1 (F1) is in strict.asm (QEMU 7.2
; raises #UD for it).
%include "lib.inc"
%macro SHOWDR6 0
    mov eax, dr6
    and eax, 0x0000e00f             ; BS, BT, BD and B0-B3 (the other bits are fixed)
    PUTS "dr6&0xe00f="
    PHEX eax
    NL
    xor eax, eax
    mov dr6, eax
%endmacro

main:
    mov eax, 0x11111111
    mov dr0, eax
    mov eax, 0x22222222
    mov dr1, eax
    mov eax, 0x33333333
    mov dr2, eax
    mov eax, 0x44444444
    mov dr3, eax
    mov eax, dr0
    PUTS "dr0="
    PHEX eax
    mov eax, dr1
    PUTS " dr1="
    PHEX eax
    mov eax, dr2
    PUTS " dr2="
    PHEX eax
    mov eax, dr3
    PUTS " dr3="
    PHEX eax
    NL
    xor eax, eax
    mov dr6, eax

    CASE "instruction breakpoint (dr0, l0)"
    mov eax, bp_insn
    mov dr0, eax
    mov eax, 0x00000001             ; L0, R/W0=00 (execute), LEN0=00
    mov dr7, eax
    nop
bp_insn:
    nop
    ENDTRY
    xor eax, eax
    mov dr7, eax
    SHOWDR6

    CASE "data write breakpoint (dr1, l1, 4 bytes)"
    mov eax, watched
    mov dr1, eax
    mov eax, 0x00d00004             ; L1, R/W1=01 (write), LEN1=11 (4 bytes)
    mov dr7, eax
    mov dword [watched], 5
    nop
    ENDTRY
    xor eax, eax
    mov dr7, eax
    SHOWDR6

    CASE "data breakpoint does not fire on a read (r/w=01)"
    mov eax, 0x00d00004
    mov dr7, eax
    mov eax, [watched]
    nop
    ENDTRY
    xor eax, eax
    mov dr7, eax
    SHOWDR6

    CASE "single step"
    pushfd
    or dword [esp], 0x100
    popfd
    mov eax, 1                      ; the trap comes after this one
    mov eax, 2
    ENDTRY
    SHOWDR6

    CASE "single step over mov ss (trap delayed one instruction)"
    mov bx, ss
    pushfd
    or dword [esp], 0x100
    popfd
    mov ss, bx                      ; no trap after this one
    mov eax, 3                      ; the trap comes after this one
    mov eax, 4
    ENDTRY
    SHOWDR6

    ret

align 4
watched: dd 0
%include "end.inc"
