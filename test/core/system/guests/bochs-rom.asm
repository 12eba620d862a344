; A 64 KiB Bochs ROM image that boots a multiboot test kernel without a BIOS, for recording the
; Bochs reference fixtures (Bochs has no multiboot loader). The kernel (a.out kludge, header at
; file offset 0, loaded at 1 MiB) is placed at the start of the ROM; the reset vector at
; F000:FFF0 enters protected mode, copies it to 1 MiB, zeroes its bss and jumps to its entry
; with EAX = 2BADB002 and the flat segments of Multiboot 0.6.96, 3.2 (EBX: no info structure).
; Assemble with: nasm -f bin -DKERNEL='"prog.bin"' -o rom.bin bochs-rom.asm

KERNEL_MAX equ 0xE000

bits 16
org 0
    incbin KERNEL
    times KERNEL_MAX-($-$$) db 0
stub:
    cli
    o32 lgdt [cs:gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword 0x08:(0xF0000 + pm32)
bits 32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esi, 0xF0000
    mov edi, 0x100000
    mov ecx, KERNEL_MAX/4
    rep movsd
    mov ecx, [0xF0000 + 24]                 ; bss_end_addr of the multiboot header
    sub ecx, edi
    jbe .nobss
    xor eax, eax
    rep stosb
.nobss:
    mov eax, 0x2BADB002
    xor ebx, ebx
    jmp [0xF0000 + 28]                      ; entry_addr
align 8
gdt: dq 0, 0x00CF9A000000FFFF, 0x00CF92000000FFFF
gdtr: dw 23
      dd 0xF0000 + gdt
    times 0x10000-16-($-$$) db 0
bits 16
    jmp 0xF000:stub                          ; reset vector
    times 0x10000-($-$$) db 0
