; Takes all of its memory: writes every 4 KiB page from 2 MiB up, checking each write
; reads back, until one does not (past the end of its RAM nothing answers: reads are all
; ones). Prints where its RAM ended, then exits through isa-debug-exit with 0 (status 1).
%include "mb.inc"
_start:
    mov esp, 0x90000                ; Multiboot gives no stack (0.6.96, 3.2: ESP undefined)
    mov edi, 0x200000
.l: mov eax, edi
    xor eax, 0x5a5a5a5a
    mov [edi], eax
    cmp [edi], eax
    jne .end
    add edi, 4096
    cmp edi, 0xc0000000
    jb .l
.end:
    mov esi, msg
    call puts
    mov eax, edi
    call puthex
    mov al, 10
    out dx, al
    xor eax, eax
    out 0xf4, eax
    jmp $
msg: db 'memhog: RAM ends at 0x', 0
load_end:
bss_end:
