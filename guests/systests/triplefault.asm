; A triple fault (SDM vol. 3A, 6.15 interrupt 8): with an empty IDT, INT3 cannot be
; delivered (#GP), nor can the #GP (#DF), nor the #DF: the processor shuts down. QEMU
; with -no-reboot then exits with status 0 and nothing more is printed; wasmvisor's
; harness ends with a 'shutdown' exit.
%include "lib.inc"
main:
    PUTSN "before the triple fault"
    lidt [empty_idt]
    int3
    PUTSN "after the triple fault (never printed)"
    ret
empty_idt:
    dw 0
    dd 0
%include "end.inc"
