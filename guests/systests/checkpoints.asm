; Register checkpoints for the differential runner: blocks of integer instructions, each
; followed by `out 0xe9, eax` (a checkpoint: the runner records all general registers and
; EFLAGS; QEMU ignores the port without -debugcon). At each checkpoint every flag is
; defined: where an instruction leaves flags undefined (SDM vol. 2), the block keeps only
; the defined ones (PUSHFD/POP/AND into a register) and ends with a flag-defining CMP.
%include "lib.inc"

%macro CK 0
    out 0xe9, eax
    call dump_regs
%endmacro
main:
    call checkpoint_blocks
    PUTSN "checkpoints done"
    ret

; Prints the registers of the checkpoint to COM1 too, so the QEMU fixture holds them.
dump_regs:
    pushfd
    pushad                          ; [esp]=edi esi ebp esp' ebx edx ecx eax, then eflags
    mov ebp, esp
    PUTS "ck eax="
    PHEX [ebp+28]
    PUTS " ecx="
    PHEX [ebp+24]
    PUTS " edx="
    PHEX [ebp+20]
    PUTS " ebx="
    PHEX [ebp+16]
    PUTS " esp="
    mov eax, [ebp+12]
    add eax, 8                      ; before the PUSHFD and the CALL
    PHEX eax
    PUTS " ebp="
    PHEX [ebp+8]
    PUTS " esi="
    PHEX [ebp+4]
    PUTS " edi="
    PHEX [ebp]
    PUTS " efl="
    PHEX [ebp+32]
    NL
    popad
    popfd
    ret

%include "checkpoints-body.inc"
%include "end.inc"
