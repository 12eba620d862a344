; A boot sector and its second stage that exercise the BIOS services a boot loader uses.
; It prints one result line per check to COM1 by writing the UART directly (so it reports
; the same way under any firmware), then ends through the isa-debug-exit port.
;
; Disk layout (scripts in this folder make the image): sector 0 this boot sector,
; sectors 1-7 the second stage, sectors 8-71 a pattern (byte i of sector s is
; (s * 7 + i) & 0xFF), sector 100 the target of the write test.

bits 16
cpu 686
org 0x7C00

%define COM1 0x3F8

boot:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7C00
        sti
        cld
        mov [drive], dl
        ; Stage 2: CHS read of sectors 2..8 (CHS sector numbers start at 1) to 0000:7E00.
        mov ax, 0x0207
        mov cx, 0x0002
        xor dh, dh
        mov dl, [drive]
        mov bx, 0x7E00
        int 0x13
        jc .fail
        jmp stage2
.fail:  mov al, '!'
        mov dx, COM1
        out dx, al
        mov al, 0x7F
        out 0xF4, al
        hlt

drive:  db 0

        times 510 - ($ - $$) db 0
        dw 0xAA55

; ----------------------------------------------------------------------------------------
stage2:
        mov si, s_boot
        call puts
        mov al, [drive]
        call puthex8
        call newline

        ; int 13h AH=41h: EDD installation check.
        mov ah, 0x41
        mov bx, 0x55AA
        mov dl, [drive]
        int 0x13
        setc al
        push bx
        push cx
        mov si, s_edd
        call puts
        call puthex8                    ; CF
        mov al, ' '
        call putc
        pop cx
        pop bx
        mov ax, bx
        call puthex16                   ; BX (AA55)
        mov al, ' '
        call putc
        mov ax, cx
        and ax, 1                       ; fixed-disk access subset bit
        call puthex16
        call newline

        ; CHS read of 64 pattern sectors (LBA 8..71): with 63 sectors per track this crosses
        ; a head boundary. LBA 8 = C0 H0 S9.
        mov ax, 0x1000
        mov es, ax
        xor bx, bx
        mov ax, 0x0240                  ; read 64 sectors
        mov cx, 0x0009
        xor dh, dh
        mov dl, [drive]
        int 0x13
        setc dl
        push ax
        mov si, s_chs
        call puts
        mov al, dl
        call puthex8
        mov al, ' '
        call putc
        pop ax
        call puthex8                    ; sectors read
        mov al, ' '
        call putc
        call sum_1000                   ; checksum of 0x1000:0000, 32 KiB
        call newline

        ; LBA read of the same 64 sectors through a disk address packet.
        mov ax, 0x2000
        mov es, ax
        mov word [dap_count], 64
        mov word [dap_off], 0
        mov word [dap_seg], 0x1000
        mov dword [dap_lba], 8
        call clear_1000
        mov ah, 0x42
        mov dl, [drive]
        mov si, dap
        int 0x13
        setc al
        mov si, s_lba
        call puts
        call puthex8
        mov al, ' '
        call putc
        mov ax, [dap_count]
        call puthex8
        mov al, ' '
        call putc
        call sum_1000
        call newline

        ; LBA write of a sector at LBA 100, then read it back into another buffer.
        mov ax, 0x1000
        mov es, ax
        xor di, di
        mov cx, 512
        mov al, 0x5A
.fill:  stosb
        add al, 3
        loop .fill
        mov word [dap_count], 1
        mov word [dap_off], 0
        mov word [dap_seg], 0x1000
        mov dword [dap_lba], 100
        mov ah, 0x43
        xor al, al
        mov dl, [drive]
        mov si, dap
        int 0x13
        setc al
        mov si, s_wr
        call puts
        call puthex8
        call newline
        call clear_1000
        mov word [dap_count], 1
        mov ah, 0x42
        mov dl, [drive]
        mov si, dap
        int 0x13
        mov si, s_rb
        call puts
        call sum_1000
        call newline

        ; A read beyond the disk's end must fail with CF set.
        mov word [dap_count], 1
        mov dword [dap_lba], 0x00FFFFFF
        mov ah, 0x42
        mov dl, [drive]
        mov si, dap
        int 0x13
        setc al
        mov si, s_beyond
        call puts
        call puthex8
        call newline

        ; int 12h base memory.
        int 0x12
        push ax
        mov si, s_mem
        call puts
        pop ax
        call puthex16
        call newline

        mov si, s_done
        call puts
        mov al, 0x00
        out 0xF4, al                    ; exit status (0 << 1) | 1 = 1
        cli
        hlt

; Sum of the 32 KiB at 1000:0000 as 16-bit words, printed in hex.
sum_1000:
        push ds
        push si
        push cx
        push bx
        mov ax, 0x1000
        mov ds, ax
        xor si, si
        xor bx, bx
        mov cx, 16384
.loop:  lodsw
        add bx, ax
        loop .loop
        mov ax, bx
        pop bx
        pop cx
        pop si
        pop ds
        jmp puthex16

clear_1000:
        push es
        push di
        push cx
        push ax
        mov ax, 0x1000
        mov es, ax
        xor di, di
        xor ax, ax
        mov cx, 16384
        rep stosw
        pop ax
        pop cx
        pop di
        pop es
        ret

putc:   push dx
        push ax
        mov dx, COM1 + 5
.wait:  in al, dx
        test al, 0x20
        jz .wait
        pop ax
        mov dx, COM1
        out dx, al
        pop dx
        ret

puts:   push ax
.loop:  lodsb
        test al, al
        jz .done
        call putc
        jmp .loop
.done:  pop ax
        ret

newline:
        push ax
        mov al, 10
        call putc
        pop ax
        ret

puthex16:
        push ax
        mov al, ah
        call puthex8
        pop ax
puthex8:
        push ax
        shr al, 4
        call .nib
        pop ax
        push ax
        call .nib
        pop ax
        ret
.nib:   and al, 0x0F
        add al, '0'
        cmp al, '9'
        jbe .out
        add al, 'a' - '9' - 1
.out:   jmp putc

s_boot:   db "boot dl=", 0
s_edd:    db "edd cf=", 0
s_chs:    db "chs-read cf=", 0
s_lba:    db "lba-read cf=", 0
s_wr:     db "lba-write cf=", 0
s_rb:     db "readback sum=", 0
s_beyond: db "beyond-end cf=", 0
s_mem:    db "int12 kb=", 0
s_done:   db "done", 10, 0

align 4
dap:       db 0x10, 0
dap_count: dw 0
dap_off:   dw 0
dap_seg:   dw 0
dap_lba:   dd 0, 0

        times 8 * 512 - ($ - $$) db 0
