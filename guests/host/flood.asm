; Floods COM1: writes bytes to the transmitter as fast as it can, for ever.
%include "mb.inc"
_start:
    mov esp, 0x90000                ; Multiboot gives no stack (0.6.96, 3.2: ESP undefined)
    mov dx, COM1
    mov al, 'F'
.l: out dx, al
    jmp .l
load_end:
bss_end:
