; A small firmware image for the --trace and --io-log tests: it runs from the reset vector
; with no BIOS, through real-mode loops, calls, a software interrupt, a #DE fault and its
; handler, an external interrupt (IRQ1: the i8042 puts a byte in its output buffer on
; command 0xD2), POST codes on ports 0x80 and 0x190, into protected mode, and exits through
; isa-debug-exit. Nothing in it depends on time or on state the machine does not set, so
; QEMU (-bios) and wasmvisor (--bios) execute the same instructions.
; Build: nasm -f bin -o trace.bin trace.asm (a 64 KiB image for F0000-FFFFF).
bits 16
org 0

start:
    cli
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    mov ds, ax
    mov word [0 * 4], de_handler          ; IVT entry 0: #DE
    mov word [0 * 4 + 2], 0xf000
    mov word [0x30 * 4], soft_handler     ; IVT entry 0x30
    mov word [0x30 * 4 + 2], 0xf000
    mov word [9 * 4], kbd_handler         ; IRQ1 at vector 8 + 1
    mov word [9 * 4 + 2], 0xf000
    mov al, 0x11
    out 0x80, al                          ; POST code
    mov cx, 5
.loop:
    call add_one
    loop .loop
    int 0x30
    xor bx, bx
    mov ax, 7
    div bl                                ; #DE: the handler skips the 2-byte DIV
    mov dx, 0x190
    mov al, 0x22
    out dx, al                            ; POST code on the second port
    mov al, 0x33
    out 0x80, al
    in al, 0x80                           ; reads float (0xff)
    ; 8259A: ICW1 edge, cascade, ICW4; ICW2 vector base 8; ICW3 slave on IR2; ICW4 8086
    ; mode (8259A datasheet, "Initialization command words"); OCW1 masks all but IR1.
    mov al, 0x11
    out 0x20, al
    mov al, 0x08
    out 0x21, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x01
    out 0x21, al
    mov al, 0xfd
    out 0x21, al
    ; i8042: command byte 0x01 (keyboard interrupt on), then 0xD2: the next data byte
    ; appears in the output buffer as if the keyboard sent it, raising IRQ1.
    mov al, 0x60
    out 0x64, al
    mov al, 0x01
    out 0x60, al
    mov al, 0xd2
    out 0x64, al
    mov al, 0x5a
    out 0x60, al
    sti
    hlt                                   ; in STI's shadow; IRQ1 wakes it, whenever it comes
    cli
    o32 lgdt [cs:gdt_ptr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword 0x08:(0xf0000 + pm32)

add_one:
    inc si
    test si, 1
    jz .even
    add di, si
.even:
    ret

soft_handler:
    mov bp, 0x1234
    iret

kbd_handler:
    in al, 0x60
    mov bl, al
    mov al, 0x20                          ; non-specific EOI
    out 0x20, al
    iret

de_handler:
    push bp
    mov bp, sp
    add word [bp + 2], 2
    pop bp
    iret

bits 32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov ss, ax
    mov esp, 0x7000
    mov ecx, 3
.again:
    push ecx
    pop edx
    dec ecx
    jnz .again
    mov al, 0                             ; isa-debug-exit: status (0 << 1) | 1
    out 0xf4, al
    hlt
    jmp $ - 1

align 8
gdt:
    dq 0
    dq 0x00cf9b000000ffff                 ; 0x08: code, base 0, 4 GiB, 32-bit
    dq 0x00cf93000000ffff                 ; 0x10: data, base 0, 4 GiB
gdt_ptr:
    dw 3 * 8 - 1
    dd 0xf0000 + gdt

    times 0xfff0 - ($ - $$) db 0xf4
bits 16
reset:
    jmp 0xf000:start
    times 0x10000 - ($ - $$) db 0xf4
