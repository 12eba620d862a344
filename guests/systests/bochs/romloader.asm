; A 64 KiB ROM for Bochs (which has no Multiboot loader): at the reset vector it enters
; protected mode, loads the a.out-kludge Multiboot guest appended to it (GUEST, included
; at offset 0x1000) where its header says, zeroes its bss, writes a boot information
; structure with a memory map like bindings/boot/multiboot.ts (mmap at 0x9000, info at
; 0x9500) and jumps to the entry with EAX = 0x2BADB002, EBX = 0x9500.
; nasm -f bin -DGUEST='"../pmode.bin"' -o rom.bin romloader.asm
ROM     equ 0xf0000                 ; the ROM's real-mode alias (Bochs maps the top 64 KiB there)
GUEST_OFF equ 0x1000

bits 16
org 0
start:
    cli
    o32 lgdt [cs:gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword 0x08:(ROM + pm32)

bits 32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x8000
    ; find the header in the first 8192 bytes
    mov esi, ROM + GUEST_OFF
.find:
    cmp dword [esi], 0x1BADB002
    je .found
    add esi, 4
    jmp .find
.found:
    mov ebx, esi                    ; ebx = header in ROM
    ; file start in ROM = header - (header_addr - load_addr)
    mov eax, [ebx+12]
    sub eax, [ebx+16]
    sub esi, eax
    mov edi, [ebx+16]               ; load_addr
    mov ecx, [ebx+20]               ; load_end_addr (0: the whole file, Multiboot 3.1.3)
    test ecx, ecx
    jnz .sized
    mov ecx, ROM + guest_end        ; the end of the file in the ROM ...
    sub ecx, esi
    add ecx, edi                    ; ... as a load address
.sized:
    sub ecx, edi
    rep movsb
    mov ecx, [ebx+24]               ; bss_end_addr
    sub ecx, edi
    jbe .nobss
    xor al, al
    rep stosb
.nobss:
    ; memory map at 0x9000 (4 entries of 24 bytes) and the info structure at 0x9500
    mov esi, ROM + mmap
    mov edi, 0x9000
    mov ecx, mmap_end - mmap
    rep movsb
    mov edi, 0x9500
    mov ecx, 88
    xor al, al
    rep stosb
    mov dword [0x9500], 0x41        ; mem, mmap
    mov dword [0x9504], 639
    mov dword [0x9508], (128 << 10) - 1024
    mov dword [0x952c], mmap_end - mmap
    mov dword [0x9530], 0x9000
    mov eax, 0x2BADB002
    mov ecx, [ebx+28]               ; entry_addr
    mov ebx, 0x9500
    jmp ecx

align 8
gdt:
    dq 0
    dq 0x00cf9b000000ffff
    dq 0x00cf93000000ffff
gdtr:
    dw 23
    dd ROM + gdt
mmap:
    dd 20
    dq 0, 0x9fc00
    dd 1
    dd 20
    dq 0x9fc00, 0x400
    dd 2
    dd 20
    dq 0xf0000, 0x10000
    dd 2
    dd 20
    dq 0x100000, (128 << 20) - 0x100000
    dd 1
mmap_end:

    times GUEST_OFF - ($ - $$) db 0
    incbin GUEST
guest_end:
    times 0xfff0 - ($ - $$) db 0
bits 16
    jmp 0xf000:start                ; reset vector
    times 0x10000 - ($ - $$) db 0
