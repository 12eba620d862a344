; Spins for ever with interrupts off: it never exits, halts or does I/O.
%include "mb.inc"
_start:
    mov esp, 0x90000                ; Multiboot gives no stack (0.6.96, 3.2: ESP undefined)
    mov esi, msg
    call puts
    cli
.l: inc eax
    jmp .l
msg: db 'spin: spinning', 10, 0
load_end:
bss_end:
