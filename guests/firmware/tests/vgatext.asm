; Boot sector for the int 10h / VGA text test: sets mode 3, writes through the BIOS
; (teletype with CR, LF and BS, cursor set/get, write character with and without
; attribute, read character, scroll a window up and down, scrolling the whole screen at its
; bottom line) and directly (a cell of B800:0000, the cursor location in CRTC 0Eh/0Fh), then
; reports on the 0xE9 debug console: "VGA:", what int 10h AH=08h and AH=03h returned
; (AX; DX, CX), CRTC 0Ah/0Bh after the mode set, AX of AH=0Fh, CRTC 0Ah-0Fh at the end
; (after AH=01h), and the 4000 bytes of the 80x25 page at B800:0000. AH=13h writes a
; string with attributes (the cursor following) and one in a single attribute.
; Ends through isa-debug-exit (port 0xF4). Build: nasm -f bin -o vgatext.bin vgatext.asm
bits 16
org 0x7C00
start:
        cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7000
        cld
        mov ax, 0x0003                  ; mode 3: clears the screen
        int 0x10
        mov dx, 0x3D4                   ; the cursor lines mode 3 left
        mov al, 0x0A
        out dx, al
        inc dx
        in al, dx
        mov [r_mode_shape], al
        dec dx
        mov al, 0x0B
        out dx, al
        inc dx
        in al, dx
        mov [r_mode_shape + 1], al
        mov si, msg1
        call puts
        mov ah, 0x02                    ; cursor to row 5, column 10
        xor bh, bh
        mov dx, 0x050A
        int 0x10
        mov ax, 0x0958                  ; 'X' with attribute 1Eh, 3 times
        mov bx, 0x001E
        mov cx, 3
        int 0x10
        mov ax, 0x0A79                  ; 'y' twice, attributes kept
        xor bh, bh
        mov cx, 2
        int 0x10
        mov ah, 0x08                    ; read back the character at the cursor
        xor bh, bh
        int 0x10
        mov [r_char], ax
        mov ax, 0x0602                  ; rows 1-6, columns 2-20 up by 2, blanks 4Fh
        mov bh, 0x4F
        mov cx, 0x0102
        mov dx, 0x0614
        int 0x10
        mov ax, 0x0701                  ; rows 3-8, columns 0-79 down by 1, blanks 2Ah
        mov bh, 0x2A
        mov cx, 0x0300
        mov dx, 0x084F
        int 0x10
        mov ah, 0x02                    ; to the last row: the teletype scrolls the screen
        xor bh, bh
        mov dx, 0x1700
        int 0x10
        mov cx, 4
.lines: mov si, msg2
        call puts
        loop .lines
        mov ah, 0x02                    ; column 78 of the last row: two characters wrap
        xor bh, bh
        mov dx, 0x184E
        int 0x10
        mov si, msg3
        call puts
        push ds
        pop es                          ; ES:BP = the strings of AH=13h
        mov ax, 0x1303                  ; characters and attributes, the cursor follows
        xor bx, bx
        mov cx, 4
        mov dx, 0x0F4E                  ; row 15, column 78: wraps to row 16
        mov bp, str13a
        int 0x10
        mov ax, 0x1300                  ; characters in attribute BL, the cursor stays
        mov bx, 0x0071
        mov cx, 3
        mov dx, 0x1005
        mov bp, str13b
        int 0x10
        mov ah, 0x0F                    ; current mode and columns
        int 0x10
        mov [r_mode], ax
        mov ah, 0x03
        xor bh, bh
        int 0x10
        mov [r_pos], dx
        mov [r_shape], cx
        mov ah, 0x01                    ; a CGA cursor shape: lines 5-7 of 8
        mov cx, 0x0507
        int 0x10
        push word 0xB800
        pop es
        mov word [es:2 * (80 * 20 + 40)], 0x5F41 ; 'A' on magenta, written directly
        mov dx, 0x3D4                   ; cursor to row 12, column 7 through the CRTC
        mov ax, 0x030E                  ; 12 * 80 + 7 = 03C7h
        out dx, ax
        mov ax, 0xC70F
        out dx, ax
        mov si, tag
        mov cx, 4 + 10
        mov dx, 0xE9
        rep outsb                       ; "VGA:" and the six result bytes
        mov bl, 0x0A                    ; CRTC 0Ah-0Fh
.crtc:  mov dx, 0x3D4
        mov al, bl
        out dx, al
        inc dx
        in al, dx
        out 0xE9, al
        inc bl
        cmp bl, 0x10
        jb .crtc
        push word 0xB800
        pop ds
        xor si, si
        mov cx, 4000
        mov dx, 0xE9
        rep outsb
        mov al, 0
        out 0xF4, al
        hlt

puts:   lodsb                           ; teletype the NUL-terminated string at DS:SI
        test al, al
        jz .done
        mov ah, 0x0E
        xor bh, bh
        int 0x10
        jmp puts
.done:  ret

msg1:   db "Hello, VGA", 13, 10, "second line", 8, 8, "NE", 13, 10, 0
msg2:   db "scrolling line", 13, 10, 0
msg3:   db "ab", 0
tag:    db "VGA:"
r_char: dw 0
r_pos:  dw 0
r_shape: dw 0
r_mode_shape: dw 0
r_mode: dw 0
str13a: db "P", 0x1F, "Q", 0x2E, "R", 0x3D, "S", 0x4C
str13b: db "xyz"
        times 510 - ($ - $$) db 0
        dw 0xAA55
