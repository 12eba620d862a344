; An ELF32 Multiboot kernel linked at 0xC0100000 (virtual) and loaded at 0x100000
; (physical, the program header's p_paddr), as higher-half kernels are. Its entry point
; e_entry is virtual: GRUB 2, QEMU and v86 start it at its physical alias (the entry's
; offset in the PT_LOAD segment that contains it, added to p_paddr). The code only uses
; relative addressing, since paging is off.
MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0
section .multiboot
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
section .text
global _start
_start:
    mov esp, 0x7000                 ; ESP is undefined at entry (Multiboot 3.2): own stack
    call .here                      ; physical address of .here in ESI
.here:
    pop esi
    lea esi, [esi + msg - .here]
    mov dx, 0x3f8
.l: lodsb
    test al, al
    jz .e
    out dx, al
    jmp .l
.e: mov al, 0
    out 0xf4, al
    cli
    hlt
msg: db "higher half: running at its physical address", 10, "DONE", 10, 0
