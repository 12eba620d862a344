; Multiboot (v1) entry point. The loader (QEMU -kernel, GRUB, wasmvisor) enters here in
; 32-bit protected mode with paging off, EAX = 0x2BADB002 and EBX = the multiboot
; information structure (Multiboot Specification 0.6.96, section 3.2).

MB_MAGIC     equ 0x1BADB002          ; spec 3.1.2
MB_ALIGN     equ 1 << 0              ; page-align modules
MB_MEMINFO   equ 1 << 1              ; ask for mem_lower/mem_upper and the memory map
MB_FLAGS     equ MB_ALIGN | MB_MEMINFO

section .multiboot
align 4
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)        ; checksum: the three fields sum to zero

section .bss
align 16
boot_stack_bottom:
    resb 16384
global boot_stack_top
boot_stack_top:

section .text
global _start
extern kmain
_start:
    cli
    mov esp, boot_stack_top
    xor ebp, ebp
    push 0                           ; EFLAGS: clear everything (IF, DF, NT, AC...)
    popfd
    push ebx                         ; multiboot information
    push eax                         ; multiboot magic
    call kmain
.hang:
    cli
    hlt
    jmp .hang
