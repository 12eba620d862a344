; User program entry: the kernel starts a program at its ELF entry with ESP at the top of
; an empty, demand-paged stack. main's return value becomes the exit status.
SYS_EXIT equ 0
extern main
section .text.start
global _start
_start:
    xor ebp, ebp
    call main
    mov ebx, eax
    mov eax, SYS_EXIT
    int 0x80
.hang:
    jmp .hang
