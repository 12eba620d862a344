; A Multiboot kernel linked at 0x8000 whose bss covers 0x9000-0xAFFF, where QEMU and the
; Multiboot loaders that copy it keep their boot information. It checks the magic in EAX,
; checks that its bss reads as zeros (Multiboot 0.6.96, 3.1.3: the loader zeroes
; [load_end_addr, bss_end_addr)), runs code placed above 0x9000, prints the result on COM1
; and exits through isa-debug-exit (port 0xf4) with status (0 << 1) | 1.
; Build: nasm -f bin -o low8000.bin low8000.asm
bits 32
org 0x8000

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010000             ; a.out kludge

header:
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
    dd header, header, load_end, bss_end, start

start:
    mov esp, 0x7000                 ; below the image: the bss must stay untouched
    mov esi, msg_magic
    cmp eax, 0x2BADB002
    je .magic
    mov esi, msg_nomagic
.magic:
    call puts
    ; bss check: every byte of [load_end, bss_end) is zero.
    mov edi, load_end
    mov ecx, bss_end - load_end
    xor eax, eax
    repe scasb
    mov esi, msg_bss_zero
    je .zero
    mov esi, msg_bss_dirty
.zero:
    call puts
    call far_code                   ; code at 0x9xxx, inside the old boot area
    mov al, 0
    out 0xf4, al
    hlt

puts:                               ; prints the NUL-terminated string at ESI
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    lodsb
    test al, al
    jz .done
    mov dx, 0x3f8
    out dx, al
    jmp puts
.done:
    ret

msg_magic:    db "magic 2BADB002", 10, 0
msg_nomagic:  db "no magic", 10, 0
msg_bss_zero: db "bss zero", 10, 0
msg_bss_dirty: db "bss not zero", 10, 0
msg_far:      db "code at 0x9400 ran", 10, 0

    times 0x1400 - ($ - $$) db 0x90
far_code:                           ; at 0x9400
    mov esi, msg_far
    call puts
    ret
load_end:

section .bss
    resb 0x1c00                     ; to about 0xB000
bss_end:
