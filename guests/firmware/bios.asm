; wasmvisor BIOS: a small PC firmware that boots a disk's first sector.
;
; A 64 KiB ROM image for the top of the 1 MiB real-mode space (F000:0000-F000:FFFF), also
; aliased by the platform at 0xFFFF0000 so that the reset vector (Intel SDM vol. 3A, 9.1.4:
; the first instruction is fetched at 0xFFFFFFF0 with CS base 0xFFFF0000) lands at
; F000:FFF0. It offers what a boot sector needs, with the register conventions of the IBM
; PC/AT BIOS as documented in Ralf Brown's Interrupt List:
;   int 10h  text mode 3 on the VGA (teletype, cursor, scroll, write character), teletype
;            output also to COM1 (the platform is headless)
;   int 11h  equipment list          int 12h  base memory size
;   int 13h  disk: reset, status, read/write CHS, parameters, type, and the EDD 3.0
;            extensions 41h/42h/43h/48h (Phoenix "Enhanced Disk Drive Specification")
;   int 15h  E820 memory map, E801, 88h, A20 gate (2400h-2403h), C0h configuration
;   int 16h  keyboard (i8042 scan codes, or bytes received on COM1)
;   int 18h  no bootable disk        int 19h  bootstrap loader
;   int 1Ah  tick count and the MC146818 real-time clock
; The disk is the primary IDE master, driven by ATA PIO (ATA/ATAPI-6, 8.x command pages),
; polled with nIEN set, so the firmware needs no interrupt from it.
;
; Build: nasm -f bin -o bios.bin bios.asm  (guests/firmware/build.sh)

bits 16
cpu 686
org 0

%define ROM_SEG         0xF000
%define BDA_SEG         0x0040
%define EBDA_SEG        0x9FC0          ; 1 KiB extended BIOS data area below 640 KiB
%define BASE_MEM_KB     639
%define STACK_TOP       0x7000          ; 0000:7000, below the boot sector at 0000:7C00

; Our variables in the EBDA (segment EBDA_SEG).
%define E_SIZE_KB       0x00            ; word: EBDA size in KiB (first word of the EBDA)
%define E_RAM_TOP       0x04            ; dword: end of RAM below 4 GiB
%define E_DISK_SECTORS  0x08            ; dword: LBA28 sector count of the primary master, 0 = none
%define E_HEADS         0x0C            ; word: translation heads
%define E_SPT           0x0E            ; word: sectors per track
%define E_CYLS          0x10            ; word: cylinders reported through int 13h AH=08h
%define E_IDENTIFY      0x100           ; 512 bytes: IDENTIFY DEVICE data

; BIOS data area (segment 0x40), IBM PC/AT layout.
%define BDA_COM1        0x00
%define BDA_EQUIP       0x10
%define BDA_MEMKB       0x13
%define BDA_KBD_FLAGS   0x17
%define BDA_KBD_HEAD    0x1A
%define BDA_KBD_TAIL    0x1C
%define BDA_KBD_BUF     0x1E            ; 32 bytes, to 0x3E
%define BDA_VMODE       0x49
%define BDA_VCOLS       0x4A
%define BDA_TICKS       0x6C
%define BDA_MIDNIGHT    0x70
%define BDA_DISK_STATUS 0x74
%define BDA_NDISKS      0x75
%define BDA_KBD_START   0x80
%define BDA_KBD_END     0x82
%define BDA_VROWS       0x84            ; byte: rows - 1
%define BDA_VPAGESIZE   0x4C
%define BDA_VPAGESTART  0x4E
%define BDA_VCURSOR     0x50            ; 8 words: cursor of each page (low column, high row)
%define BDA_VSHAPE      0x60            ; word: cursor start (high) and end (low) lines
%define BDA_VPAGE       0x62
%define BDA_VCRTC       0x63            ; word: CRTC index port
%define BDA_VCHARH      0x85            ; word: character height in scan lines

; VGA colour text mode (IBM VGA Technical Reference: memory map B8000h-BFFFFh, CRTC 3D4h).
%define VGA_SEG         0xB800
%define VGA_BYTES       0x8000
%define VGA_CRTC        0x3D4
%define BDA_EBDA        0x0E

; 8250/16550A UART at COM1 (PC16550D datasheet, section 8.6 register table).
%define COM1            0x3F8
%define UART_LSR        5
%define LSR_DR          0x01            ; data ready
%define LSR_THRE        0x20            ; transmit holding register empty

; ATA task file, primary channel (ATA/ATAPI-6, section 7).
%define ATA_DATA        0x1F0
%define ATA_SECCOUNT    0x1F2
%define ATA_LBA0        0x1F3
%define ATA_LBA1        0x1F4
%define ATA_LBA2        0x1F5
%define ATA_DEVICE      0x1F6
%define ATA_CMD         0x1F7           ; status on read
%define ATA_CTL         0x3F6           ; device control on write
%define ST_BSY          0x80
%define ST_DRQ          0x08
%define ST_ERR          0x01
%define CMD_READ        0x20            ; READ SECTORS
%define CMD_WRITE       0x30            ; WRITE SECTORS
%define CMD_FLUSH       0xE7            ; FLUSH CACHE
%define CMD_IDENTIFY    0xEC            ; IDENTIFY DEVICE

; int 13h status codes (Interrupt List, table 00234).
%define DS_OK           0x00
%define DS_BADCMD       0x01
%define DS_NOSECTOR     0x04
%define DS_TIMEOUT      0x80
%define DS_CTRLFAIL     0x20
%define DS_WRITEFAULT   0xCC

; Saved-register frame of the handlers that use it (push ds, push es, pushad; mov bp, sp).
%define F_EDI   bp+0
%define F_ESI   bp+4
%define F_EBP   bp+8
%define F_EBX   bp+16
%define F_BX    bp+16
%define F_BL    bp+16
%define F_BH    bp+17
%define F_EDX   bp+20
%define F_DX    bp+20
%define F_DL    bp+20
%define F_DH    bp+21
%define F_ECX   bp+24
%define F_CX    bp+24
%define F_CL    bp+24
%define F_CH    bp+25
%define F_EAX   bp+28
%define F_AX    bp+28
%define F_AL    bp+28
%define F_AH    bp+29
%define F_ES    bp+32
%define F_DS    bp+34
%define F_FLAGS bp+40

%macro ENTER_FRAME 0
        push ds
        push es
        pushad
        mov bp, sp
%endmacro

%macro LEAVE_FRAME 0
        popad
        pop es
        pop ds
        iret
%endmacro

%macro SETVEC 2
        mov word [%1 * 4], %2
        mov word [%1 * 4 + 2], ROM_SEG
%endmacro

; ---------------------------------------------------------------------------------------
; Power-on self test
; ---------------------------------------------------------------------------------------
post:
        cli
        cld
        xor ax, ax
        mov ss, ax
        mov sp, STACK_TOP
        mov ds, ax
        mov es, ax

        ; Interrupt vector table: every vector to an IRET, hardware IRQs to handlers that
        ; acknowledge the PIC, then the services.
        xor di, di
        mov cx, 256
.ivt:   mov ax, iret_only
        stosw
        mov ax, ROM_SEG
        stosw
        loop .ivt
        mov bx, 0x08 * 4
        mov cx, 8
.mirq:  mov word [bx], irq_master
        add bx, 4
        loop .mirq
        mov bx, 0x70 * 4
        mov cx, 8
.sirq:  mov word [bx], irq_slave
        add bx, 4
        loop .sirq
        SETVEC 0x08, int08
        SETVEC 0x09, int09
        SETVEC 0x10, int10
        SETVEC 0x11, int11
        SETVEC 0x12, int12
        SETVEC 0x13, int13
        SETVEC 0x15, int15
        SETVEC 0x16, int16
        SETVEC 0x18, int18
        SETVEC 0x19, int19
        SETVEC 0x1A, int1a

        ; Clear the BIOS data area and the EBDA.
        mov ax, BDA_SEG
        mov es, ax
        xor di, di
        xor ax, ax
        mov cx, 128
        rep stosw
        mov ax, EBDA_SEG
        mov es, ax
        xor di, di
        xor ax, ax
        mov cx, 512
        rep stosw
        mov word [es:E_SIZE_KB], 1

        mov ax, BDA_SEG
        mov ds, ax
        mov word [BDA_COM1], COM1
        mov word [BDA_EQUIP], 0x0220    ; one serial port (bits 11-9), 80x25 colour (bits 5-4)
        mov word [BDA_MEMKB], BASE_MEM_KB
        mov word [BDA_EBDA], EBDA_SEG
        mov word [BDA_KBD_HEAD], BDA_KBD_BUF
        mov word [BDA_KBD_TAIL], BDA_KBD_BUF
        mov word [BDA_KBD_START], BDA_KBD_BUF
        mov word [BDA_KBD_END], BDA_KBD_BUF + 32
        call vga_mode3                  ; the screen as a VGA BIOS leaves it (int 10h AX=0003h)
        push word VGA_SEG
        pop es
        xor di, di
        mov ax, 0x0720
        mov cx, VGA_BYTES / 2
        rep stosw

        call pic_init
        call pit_init
        call serial_init
        call memory_size
        call pci_enable_ide
        call pci_pm_setup
        call disk_detect

        mov si, banner
        call debug_puts

        sti
        int 0x19
        ; int 19h does not return.

; 8259A: ICW1 edge, cascade, ICW4 needed; ICW2 vector bases 08h and 70h as the PC/AT
; BIOS has them; ICW3 slave on IRQ2; ICW4 8086 mode (8259A datasheet, "Initialization
; command words").
pic_init:
        mov al, 0x11
        out 0x20, al
        out 0xA0, al
        mov al, 0x08
        out 0x21, al
        mov al, 0x70
        out 0xA1, al
        mov al, 0x04
        out 0x21, al
        mov al, 0x02
        out 0xA1, al
        mov al, 0x01
        out 0x21, al
        out 0xA1, al
        mov al, 0xF8                    ; IRQ0 timer, IRQ1 keyboard, IRQ2 cascade
        out 0x21, al
        mov al, 0xFF
        out 0xA1, al
        ret

; 8254 channel 0, mode 3, divisor 65536: the PC's 18.2 Hz tick (8254 datasheet, control
; word format: SC=00, RW=11, M=011, BCD=0).
pit_init:
        mov al, 0x36
        out 0x43, al
        xor al, al
        out 0x40, al
        out 0x40, al
        ret

; COM1: 115200 8N1, FIFOs on, no interrupts.
serial_init:
        mov dx, COM1 + 3
        mov al, 0x80                    ; LCR.DLAB
        out dx, al
        mov dx, COM1
        mov al, 1                       ; divisor 1 = 115200 baud
        out dx, al
        inc dx
        xor al, al
        out dx, al
        mov dx, COM1 + 3
        mov al, 0x03                    ; 8 data bits, no parity, 1 stop bit
        out dx, al
        mov dx, COM1 + 2
        mov al, 0x07                    ; FCR: enable and clear FIFOs
        out dx, al
        mov dx, COM1 + 4
        mov al, 0x03                    ; MCR: DTR, RTS
        out dx, al
        mov dx, COM1 + 1
        xor al, al                      ; IER: none
        out dx, al
        ret

; RAM size from the CMOS bytes PC firmware and QEMU fill: 0x34/0x35 = 64 KiB blocks above
; 16 MiB, else 0x30/0x31 = KiB above 1 MiB.
memory_size:
        mov al, 0x35
        call cmos_read
        mov ah, al
        mov al, 0x34
        call cmos_read
        movzx eax, ax
        test eax, eax
        jz .small
        shl eax, 16
        add eax, 0x1000000
        jmp .store
.small: mov al, 0x31
        call cmos_read
        mov ah, al
        mov al, 0x30
        call cmos_read
        movzx eax, ax
        shl eax, 10
        add eax, 0x100000
.store: push es
        push word EBDA_SEG
        pop es
        mov [es:E_RAM_TOP], eax
        pop es
        ret

; AL = CMOS index -> AL = value. Keeps NMI enabled (bit 7 clear).
cmos_read:
        and al, 0x7F
        out 0x70, al
        in al, 0x71
        ret

; PCI configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2): find the IDE controller
; (class 01h, subclass 01h) on bus 0, enable its I/O decoding and, for a PIIX, the
; IDETIM decode-enable bits (PIIX3 datasheet, 2.3.9, bit 15 of 40h and 42h).
pci_enable_ide:
        xor ebx, ebx                    ; bus 0, device/function in bits 15:8
.next:  mov eax, ebx
        or eax, 0x80000008              ; class code / revision
        mov dx, 0xCF8
        out dx, eax
        mov dx, 0xCFC
        in eax, dx
        shr eax, 16
        cmp ax, 0x0101
        jne .skip
        mov eax, ebx
        or eax, 0x80000004              ; command register
        mov dx, 0xCF8
        out dx, eax
        mov dx, 0xCFC
        in ax, dx
        or ax, 0x0005                   ; I/O space, bus master
        out dx, ax
        mov eax, ebx
        or eax, 0x80000000              ; 0x00: vendor
        mov dx, 0xCF8
        out dx, eax
        mov dx, 0xCFC
        in ax, dx
        cmp ax, 0x8086
        jne .done
        mov eax, ebx
        or eax, 0x80000040              ; IDETIM primary and secondary
        mov dx, 0xCF8
        out dx, eax
        mov dx, 0xCFC
        in eax, dx
        or eax, 0x80008000
        out dx, eax
        jmp .done
.skip:  add bx, 0x100
        jnz .next
.done:  ret

; The PIIX4 power-management function (8086:7113; Intel 82371AB datasheet, 3.4): program
; its PM I/O base PMBA (40h) to 600h and set PMIOSE (80h bit 0), and the SCI on IRQ 9 in
; Interrupt Line, as SeaBIOS does on QEMU's pc machine (src/fw/pciinit.c). PM1a_CNT is then
; at 604h: a guest writing SLP_EN | SLP_TYP 0 (2000h) there powers the machine off (S5).
PM_BASE equ 0x600
pci_pm_setup:
        xor ebx, ebx                    ; bus 0, device/function in bits 15:8
.next:  mov eax, ebx
        or eax, 0x80000000              ; 0x00: device and vendor ID
        mov dx, 0xCF8
        out dx, eax
        mov dx, 0xCFC
        in eax, dx
        cmp eax, 0x71138086
        je .found
        add bx, 0x100
        jnz .next
        ret
.found: mov eax, ebx
        or eax, 0x8000003C              ; Interrupt Line
        mov dx, 0xCF8
        out dx, eax
        mov dx, 0xCFC
        mov al, 9
        out dx, al
        mov eax, ebx
        or eax, 0x80000040              ; PMBA
        mov dx, 0xCF8
        out dx, eax
        mov dx, 0xCFC
        mov eax, PM_BASE | 1
        out dx, eax
        mov eax, ebx
        or eax, 0x80000080              ; PMREGMISC
        mov dx, 0xCF8
        out dx, eax
        mov dx, 0xCFC
        mov al, 1                       ; PMIOSE
        out dx, al
        ret

; IDENTIFY DEVICE on the primary master; remember its size and a CHS translation.
disk_detect:
        push es
        push word EBDA_SEG
        pop es
        mov dx, ATA_CTL
        mov al, 0x02                    ; nIEN: no interrupts, the firmware polls
        out dx, al
        mov dx, ATA_DEVICE
        mov al, 0xA0
        out dx, al
        mov dx, ATA_CMD
        in al, dx
        cmp al, 0xFF                    ; floating bus: no controller
        je .none
        mov al, CMD_IDENTIFY
        out dx, al
        call ata_wait
        jc .none
        test al, ST_DRQ
        jz .none
        mov di, E_IDENTIFY
        mov cx, 256
        mov dx, ATA_DATA
        rep insw
        mov eax, [es:E_IDENTIFY + 60 * 2] ; words 60-61: LBA28 sectors (ATA/ATAPI-6, 8.15)
        mov [es:E_DISK_SECTORS], eax
        mov ax, [es:E_IDENTIFY + 3 * 2]   ; word 3: default heads
        mov bx, [es:E_IDENTIFY + 6 * 2]   ; word 6: default sectors per track
        test ax, ax
        jz .defgeom
        test bx, bx
        jz .defgeom
        cmp ax, 16
        ja .defgeom
        cmp bx, 63
        jbe .geom
.defgeom:
        mov ax, 16
        mov bx, 63
.geom:  mov [es:E_HEADS], ax
        mov [es:E_SPT], bx
        mul bx                          ; heads * spt
        mov cx, ax
        mov eax, [es:E_DISK_SECTORS]
        xor edx, edx
        movzx ecx, cx
        div ecx
        cmp eax, 1024
        jbe .cyl
        mov eax, 1024
.cyl:   mov [es:E_CYLS], ax
        push ds
        push word BDA_SEG
        pop ds
        mov byte [BDA_NDISKS], 1
        pop ds
.none:  pop es
        ret

; Waits for BSY clear; CF set on timeout or ERR. AL = last status.
ata_wait:
        push ecx
        push dx
        mov ecx, 0x100000
        mov dx, ATA_CMD
.poll:  in al, dx
        test al, ST_BSY
        jz .ready
        dec ecx
        jnz .poll
        stc
        jmp .out
.ready: test al, ST_ERR
        jz .ok
        stc
        jmp .out
.ok:    clc
.out:   pop dx
        pop ecx
        ret

; Transfers CX sectors at LBA EAX to/from ES:DI (BL = 0 read, 1 write), one sector per
; command, ES advancing 512 bytes each time so no segment wraps. CF set and AH = int 13h
; status on error; AL = sectors done.
ata_rw:
        push esi
        push bp
        push di
        push es
        xor bp, bp                      ; sectors done
.sector:
        test cx, cx
        jz .done
        push eax
        push cx
        mov esi, eax
        push ds
        push word EBDA_SEG
        pop ds
        cmp esi, [E_DISK_SECTORS]
        pop ds
        jae .range
        call ata_wait
        jc .fail
        mov dx, ATA_DEVICE
        mov eax, esi
        shr eax, 24
        and al, 0x0F
        or al, 0xE0                     ; LBA mode, master
        out dx, al
        mov dx, ATA_SECCOUNT
        mov al, 1
        out dx, al
        mov eax, esi
        mov dx, ATA_LBA0
        out dx, al
        shr eax, 8
        inc dx
        out dx, al
        shr eax, 8
        inc dx
        out dx, al
        mov dx, ATA_CMD
        mov al, CMD_READ
        test bl, bl
        jz .cmd
        mov al, CMD_WRITE
.cmd:   out dx, al
        call ata_wait
        jc .fail
        test al, ST_DRQ
        jz .fail
        mov dx, ATA_DATA
        mov cx, 256
        test bl, bl
        jnz .write
        push di
        rep insw
        pop di
        jmp .next
.write: push si
        push ds
        push es
        pop ds
        mov si, di
        rep outsw
        pop ds
        pop si
        call ata_wait
        jc .fail
.next:  mov ax, es
        add ax, 0x20
        mov es, ax
        pop cx
        pop eax
        inc eax
        inc bp
        dec cx
        jmp .sector
.range: pop cx
        pop eax
        mov bh, DS_NOSECTOR
        jmp .err
.fail:  pop cx
        pop eax
        mov bh, DS_CTRLFAIL
.err:   mov ax, bp
        mov ah, bh
        stc
        jmp .out
.done:  test bl, bl
        jz .ok
        call ata_wait                   ; FLUSH CACHE after writes: nothing lost on exit
        mov dx, ATA_CMD
        mov al, CMD_FLUSH
        out dx, al
        call ata_wait
.ok:    mov ax, bp
        xor ah, ah
        clc
.out:   pop es
        pop di
        pop bp
        pop esi
        ret

; ---------------------------------------------------------------------------------------
; Output helpers
; ---------------------------------------------------------------------------------------

; AL -> COM1, waiting for THRE.
serial_putc:
        push dx
        push ax
        mov dx, COM1 + UART_LSR
.wait:  in al, dx
        test al, LSR_THRE
        jz .wait
        pop ax
        mov dx, COM1
        out dx, al
        pop dx
        ret

; CS:SI zero-terminated -> COM1.
serial_puts:
        push ax
        push si
.loop:  mov al, [cs:si]
        test al, al
        jz .done
        call serial_putc
        inc si
        jmp .loop
.done:  pop si
        pop ax
        ret

; CS:SI zero-terminated -> the 0xE9 debug console (Bochs and QEMU -debugcon).
debug_puts:
        push ax
        push si
.loop:  mov al, [cs:si]
        test al, al
        jz .done
        out 0xE9, al
        inc si
        jmp .loop
.done:  pop si
        pop ax
        ret

; ---------------------------------------------------------------------------------------
; Hardware interrupts
; ---------------------------------------------------------------------------------------
iret_only:
        iret

irq_master:
        push ax
        mov al, 0x20                    ; OCW2: non-specific EOI
        out 0x20, al
        pop ax
        iret

irq_slave:
        push ax
        mov al, 0x20
        out 0xA0, al
        out 0x20, al
        pop ax
        iret

; IRQ0: the BIOS tick count, wrapping at 0x1800B0 ticks a day (Interrupt List, int 1Ah).
int08:
        push ds
        push eax
        mov ax, BDA_SEG
        mov ds, ax
        mov eax, [BDA_TICKS]
        inc eax
        cmp eax, 0x1800B0
        jb .store
        xor eax, eax
        mov byte [BDA_MIDNIGHT], 1
.store: mov [BDA_TICKS], eax
        int 0x1C                        ; user timer hook
        mov al, 0x20
        out 0x20, al
        pop eax
        pop ds
        iret

; IRQ1: scan code set 1 make codes to ASCII, into the BDA keyboard ring.
int09:
        push ds
        push ax
        push bx
        in al, 0x60
        test al, 0x80                   ; break code
        jnz .eoi
        mov ah, al
        movzx bx, al
        cmp bx, scancode_table_end - scancode_table
        jae .eoi
        mov al, [cs:scancode_table + bx]
        call kbd_push
.eoi:   mov al, 0x20
        out 0x20, al
        pop bx
        pop ax
        pop ds
        iret

; AX (AH scan code, AL ASCII) -> keyboard ring; dropped when full.
kbd_push:
        push ds
        push bx
        push si
        mov bx, BDA_SEG
        mov ds, bx
        mov bx, [BDA_KBD_TAIL]
        mov si, bx
        add si, 2
        cmp si, [BDA_KBD_END]
        jb .nowrap
        mov si, [BDA_KBD_START]
.nowrap:
        cmp si, [BDA_KBD_HEAD]
        je .full
        mov [bx], ax
        mov [BDA_KBD_TAIL], si
.full:  pop si
        pop bx
        pop ds
        ret

; ---------------------------------------------------------------------------------------
; int 10h: video. Text mode 3 (80x25, 16-line characters) on the VGA's buffer at B800:0000
; and its CRT controller at 3D4h/3D5h (IBM VGA Technical Reference, CRTC registers 0Ah/0Bh
; cursor start/end, 0Ch/0Dh start address, 0Eh/0Fh cursor location); functions and
; registers as the IBM PC/AT BIOS (Ralf Brown's Interrupt List, INT 10). Page 0 only.
; Teletype output (0Eh, 13h) also goes to COM1: the platform is headless.
; ---------------------------------------------------------------------------------------
int10:
        ENTER_FRAME
        cld
        push word BDA_SEG
        pop ds
        push word VGA_SEG
        pop es
        cmp ah, 0x0E
        je .tty
        cmp ah, 0x00
        je .setmode
        cmp ah, 0x01
        je .setshape
        cmp ah, 0x02
        je .setcursor
        cmp ah, 0x03
        je .getcursor
        cmp ah, 0x06
        je .scrollup
        cmp ah, 0x07
        je .scrolldown
        cmp ah, 0x08
        je .readchar
        cmp ah, 0x09
        je .writeca
        cmp ah, 0x0A
        je .writec
        cmp ah, 0x0F
        je .getmode
        cmp ah, 0x13
        je .string
        cmp ah, 0x1A
        je .display
.ret:   LEAVE_FRAME                     ; the rest: accepted, no effect
.tty:   call serial_putc
        xor si, si                      ; keep the cell's attribute
        call vga_tty
        jmp .ret
.setmode:
        and al, 0x7F
        cmp al, 2
        je .mode3
        cmp al, 3
        jne .ret                        ; other modes: accepted, no effect
.mode3: call vga_mode3
        test byte [F_AL], 0x80          ; bit 7: keep the buffer
        jnz .ret
        xor di, di
        mov ax, 0x0720
        mov cx, VGA_BYTES / 2
        rep stosw
        jmp .ret
.setshape:
        call vga_set_shape
        jmp .ret
.setcursor:
        test bh, bh
        jnz .ret
        mov [BDA_VCURSOR], dx
        call vga_sync_cursor
        jmp .ret
.getcursor:
        mov ax, [BDA_VCURSOR]
        mov [F_DX], ax
        mov ax, [BDA_VSHAPE]
        mov [F_CX], ax
        jmp .ret
.scrollup:
        xor si, si
        call vga_scroll
        jmp .ret
.scrolldown:
        mov si, 1
        call vga_scroll
        jmp .ret
.readchar:
        mov dx, [BDA_VCURSOR]
        call vga_cell
        mov ax, [es:di]
        mov [F_AX], ax
        jmp .ret
.writeca:                               ; AL char, BL attribute, CX times from the cursor
        mov ah, bl
        mov dx, [BDA_VCURSOR]
        call vga_cell
        rep stosw
        jmp .ret
.writec:                                ; AL char, CX times, attributes kept
        mov dx, [BDA_VCURSOR]
        call vga_cell
        jcxz .wcd
.wcl:   stosb
        inc di
        loop .wcl
.wcd:   jmp .ret
.getmode:
        mov al, [BDA_VMODE]
        mov ah, [BDA_VCOLS]
        mov [F_AX], ax
        mov byte [F_BH], 0
        jmp .ret
.display:
        test al, al
        jnz .ret
        mov byte [F_AL], 0x1A           ; function supported
        mov word [F_BX], 0x0008         ; VGA with colour display
        jmp .ret
; AH=13h: the string at ES:BP, CX bytes, from row DH column DL; AL bit 0 leaves the cursor
; after it, bit 1 takes an attribute byte after each character (else BL for all).
.string:
        test bh, bh
        jnz .ret
        push word [BDA_VCURSOR]
        mov [BDA_VCURSOR], dx
        mov si, 1                       ; write the attribute too
        mov di, [F_EBP]
.sloop: jcxz .sdone
        push es
        mov es, [F_ES]
        mov al, [es:di]
        mov ah, bl
        test byte [F_AL], 2
        jz .sattr
        inc di
        mov ah, [es:di]
.sattr: pop es
        inc di
        call serial_putc
        call vga_tty
        dec cx
        jmp .sloop
.sdone: pop dx
        test byte [F_AL], 1
        jnz .ret
        mov [BDA_VCURSOR], dx
        call vga_sync_cursor
        jmp .ret

; Mode 3 in the BIOS data area and the CRTC: 80x25, page 0 at offset 0, cursor at 0,0 with
; the shape 0607h (IBM PC/AT BIOS data area 40:49-40:85). DS = BDA.
vga_mode3:
        pusha
        mov byte [BDA_VMODE], 3
        mov word [BDA_VCOLS], 80
        mov word [BDA_VPAGESIZE], 80 * 25 * 2
        mov word [BDA_VPAGESTART], 0
        mov byte [BDA_VROWS], 24
        mov word [BDA_VCHARH], 16
        mov byte [BDA_VPAGE], 0
        mov word [BDA_VCRTC], VGA_CRTC
        push es
        push ds
        pop es
        mov di, BDA_VCURSOR
        xor ax, ax
        mov cx, 8
        rep stosw
        pop es
        mov word [BDA_VSHAPE], 0x0607
        call vga_regs_mode3
        call vga_sync_cursor
        popa
        ret

; The VGA's registers for mode 3, as a VGA BIOS programs them (IBM VGA Technical Reference,
; mode 3 parameter table; FreeVGA register pages): miscellaneous output (colour I/O at
; 3Dxh, RAM at B8000h), sequencer (odd/even, planes 0-1), CRTC (its write protection in
; register 11h cleared first), graphics controller (odd/even, memory map B8000h-BFFFFh) and
; attribute controller (address flip-flop reset by reading 3DAh; bit 5 of the last index
; written gives the screen back to the CRTC). No font is loaded into plane 2.
vga_regs_mode3:
        pusha
        mov dx, 0x3C2
        mov al, 0x67
        out dx, al
        mov dx, 0x3C4
        mov si, vga_mode3_seq
        mov cx, 5
        call .indexed
        mov ax, 0x0E11                  ; CRTC 11h without the protect bit
        call crtc_out
        mov dx, VGA_CRTC
        mov si, vga_mode3_crtc
        mov cx, 25
        call .indexed
        mov dx, 0x3CE
        mov si, vga_mode3_gc
        mov cx, 9
        call .indexed
        mov dx, 0x3DA
        in al, dx                       ; attribute flip-flop to "index"
        mov dx, 0x3C0
        xor bx, bx
.attr:  mov al, bl
        out dx, al
        mov al, [cs:vga_mode3_attr + bx]
        out dx, al
        inc bx
        cmp bx, 21
        jb .attr
        mov al, 0x20                    ; palette address source: display on
        out dx, al
        popa
        ret
; CX registers from index 0 at index port DX (data at DX+1), values at CS:SI.
.indexed:
        xor al, al
.next:  out dx, al
        inc dx
        mov ah, al
        mov al, [cs:si]
        out dx, al
        mov al, ah
        dec dx
        inc si
        inc al
        loop .next
        ret

vga_mode3_seq:  db 0x03, 0x00, 0x03, 0x00, 0x02
vga_mode3_crtc: db 0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E
                db 0x00, 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF
vga_mode3_gc:   db 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF
vga_mode3_attr: db 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B
                db 0x3C, 0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00

; AL = index, AH = value to CRTC register AL.
crtc_out:
        push dx
        mov dx, VGA_CRTC
        out dx, al
        inc dx
        xchg al, ah
        out dx, al
        xchg al, ah
        pop dx
        ret

; Cursor shape CH start, CL end (in 8-line units as on the CGA), kept in the BDA and, scaled
; to the 16-line character cell, written to CRTC 0Ah/0Bh. The scaling is the one SeaBIOS'
; VGA BIOS applies (vgabios.c get_cursor_shape): a CGA shape is emulated when both lines
; are below 8; bit 5 of CH (cursor off) passes through. DS = BDA.
vga_set_shape:
        pusha
        mov [BDA_VSHAPE], cx
        mov bh, ch
        and bh, 0x3F                    ; start (with the cursor-off bit 5)
        mov bl, cl
        and bl, 0x1F                    ; end
        cmp bh, 0x20
        jae .write
        cmp bl, 8
        jae .write
        mov al, bh
        inc al
        cmp al, bl
        je .adjacent
        shl al, 1                       ; start = (start + 1) * 16 / 8 - 1
        dec al
        jmp .startok
.adjacent:
        mov al, bl                      ; start = (end + 1) * 16 / 8 - 2
        inc al
        shl al, 1
        sub al, 2
.startok:
        mov bh, al
        inc bl                          ; end = (end + 1) * 16 / 8 - 1
        shl bl, 1
        dec bl
.write: mov al, 0x0A
        mov ah, bh
        call crtc_out
        mov al, 0x0B
        mov ah, bl
        call crtc_out
        popa
        ret

; DI = offset in the buffer of row DH, column DL. DS = BDA.
vga_cell:
        push ax
        mov al, dh
        mul byte [BDA_VCOLS]
        add al, dl
        adc ah, 0
        shl ax, 1
        mov di, ax
        pop ax
        ret

; CRTC 0Eh/0Fh from the page-0 cursor in the BDA. DS = BDA.
vga_sync_cursor:
        pusha
        mov dx, [BDA_VCURSOR]
        call vga_cell
        shr di, 1
        mov ax, di
        mov al, 0x0E
        call crtc_out
        mov ax, di
        mov ah, al
        mov al, 0x0F
        call crtc_out
        popa
        ret

; Teletype: AL at the cursor (with attribute AH when SI = 1, else the cell keeps its own),
; then the cursor moves on; BEL is ignored, BS, CR and LF move the cursor, the last line
; scrolls up with blanks of attribute 07h (as SeaBIOS' write_teletype). DS = BDA, ES = VGA.
vga_tty:
        pusha
        mov dx, [BDA_VCURSOR]
        cmp al, 0x07
        je .done
        cmp al, 0x08
        je .bs
        cmp al, 0x0A
        je .lf
        cmp al, 0x0D
        je .cr
        call vga_cell
        mov [es:di], al
        test si, si
        jz .next
        mov [es:di + 1], ah
.next:  inc dl
        cmp dl, [BDA_VCOLS]
        jb .store
        xor dl, dl
.lf:    inc dh
        jmp .store
.bs:    test dl, dl
        jz .store
        dec dl
        jmp .store
.cr:    xor dl, dl
.store: cmp dh, [BDA_VROWS]
        jbe .set
        mov dh, [BDA_VROWS]
        push dx
        mov al, 1
        mov bh, 0x07
        xor cx, cx
        mov dl, [BDA_VCOLS]
        dec dl
        xor si, si
        call vga_scroll
        pop dx
.set:   mov [BDA_VCURSOR], dx
        call vga_sync_cursor
.done:  popa
        ret

; Scrolls the window from row CH, column CL to row DH, column DL by AL lines (0 or more
; than its height: blanks it), up (SI = 0) or down (SI = 1); the lines brought in are
; blanks of attribute BH. DS = BDA, ES = VGA.
vga_scroll:
        pusha
        push bp
        mov bp, sp
        cmp dl, [BDA_VCOLS]
        jb .c1
        mov dl, [BDA_VCOLS]
        dec dl
.c1:    cmp dh, [BDA_VROWS]
        jbe .c2
        mov dh, [BDA_VROWS]
.c2:    cmp dh, ch
        jb .out
        cmp dl, cl
        jb .out
        mov ah, dh
        sub ah, ch
        inc ah                          ; height
        test al, al
        jz .all
        cmp al, ah
        jbe .nok
.all:   mov al, ah
.nok:   mov bl, ' '
        push bx                         ; [bp-2] blank cell
        xor ah, ah
        push ax                         ; [bp-4] lines
        mov al, dl
        sub al, cl
        inc al
        push ax                         ; [bp-6] width in cells
        push cx                         ; [bp-8] top row, left column
        push dx                         ; [bp-10] bottom row, right column
        test si, si
        jnz .down
        mov ah, ch                      ; AH = destination row, from the top down
.uprow: cmp ah, [bp-9]
        ja .done
        mov al, ah
        add al, [bp-4]                  ; source row
        jc .upfill
        cmp al, [bp-9]
        ja .upfill
        call .copy
        inc ah
        jmp .uprow
.upfill:
        call .fill
        inc ah
        jmp .uprow
.down:  mov ah, [bp-9]                  ; from the bottom up
.dnrow: cmp ah, [bp-7]
        jb .done
        cmp ah, 0xFF
        je .done
        mov al, ah
        sub al, [bp-4]
        jb .dnfill
        cmp al, [bp-7]
        jb .dnfill
        call .copy
        dec ah
        jmp .dnrow
.dnfill:
        call .fill
        dec ah
        jmp .dnrow
.done:  mov sp, bp
.out:   pop bp
        popa
        ret
; row AL -> row AH, columns [bp-8] for [bp-6] cells
.copy:  push ax
        push cx
        push dx
        push si
        mov dh, al
        mov dl, [bp-8]
        call vga_cell
        mov si, di
        mov dh, ah
        call vga_cell
        mov cx, [bp-6]
        push ds
        push es
        pop ds
        rep movsw
        pop ds
        pop si
        pop dx
        pop cx
        pop ax
        ret
; row AH blanked
.fill:  push ax
        push cx
        push dx
        mov dh, ah
        mov dl, [bp-8]
        call vga_cell
        mov cx, [bp-6]
        mov ax, [bp-2]
        rep stosw
        pop dx
        pop cx
        pop ax
        ret

int11:
        push ds
        push word BDA_SEG
        pop ds
        mov ax, [BDA_EQUIP]
        pop ds
        iret

int12:
        push ds
        push word BDA_SEG
        pop ds
        mov ax, [BDA_MEMKB]
        pop ds
        iret

; ---------------------------------------------------------------------------------------
; int 13h: disk
; ---------------------------------------------------------------------------------------
int13:
        ENTER_FRAME
        cmp dl, 0x80
        jne .nodrive
        push word EBDA_SEG
        pop ds
        cmp dword [E_DISK_SECTORS], 0
        je .nodrive
        mov al, ah
        cmp al, 0x00
        je .ok                          ; reset
        cmp al, 0x01
        je .status
        cmp al, 0x02
        je .chs_read
        cmp al, 0x03
        je .chs_write
        cmp al, 0x04
        je .ok                          ; verify: the data is always there
        cmp al, 0x08
        je .params
        cmp al, 0x0D
        je .ok                          ; alternate reset
        cmp al, 0x10
        je .ok                          ; test ready
        cmp al, 0x15
        je .type
        cmp al, 0x41
        je .ext_check
        cmp al, 0x42
        je .ext_read
        cmp al, 0x43
        je .ext_write
        cmp al, 0x44
        je .ok                          ; extended verify
        cmp al, 0x48
        je .ext_params
        mov ah, DS_BADCMD
        jmp .error
.nodrive:
        cmp ah, 0x15                    ; type of an absent drive: AH=0, CF clear
        jne .nodrive_err
        mov byte [F_AH], 0
        jmp .clc
.nodrive_err:
        mov ah, DS_TIMEOUT
        jmp .error

.status:
        push word BDA_SEG
        pop ds
        mov al, [BDA_DISK_STATUS]
        mov [F_AH], al
        jmp .clc

; CHS -> LBA: ((cyl * heads) + head) * spt + sector - 1.
.chs_lba:
        movzx eax, byte [F_CH]
        movzx ebx, byte [F_CL]
        and bl, 0xC0
        shl ebx, 2
        or eax, ebx                     ; cylinder
        movzx ebx, word [E_HEADS]
        mul ebx
        movzx ebx, byte [F_DH]
        add eax, ebx
        movzx ebx, word [E_SPT]
        mul ebx
        movzx ebx, byte [F_CL]
        and bl, 0x3F
        jz .chs_bad
        dec ebx
        add eax, ebx
        clc
        ret
.chs_bad:
        stc
        ret

.chs_read:
        xor bl, bl
        jmp .chs_rw
.chs_write:
        mov bl, 1
.chs_rw:
        push bx
        call .chs_lba
        pop bx
        jc .badsector
        movzx cx, byte [F_AL]
        mov es, [F_ES]
        mov di, [F_BX]
        call ata_rw
        mov [F_AL], al
        jc .error
        jmp .ok

.params:
        mov ax, [E_CYLS]
        dec ax                          ; highest cylinder
        mov [F_CH], al
        shl ah, 6
        mov cx, [E_SPT]
        or ah, cl
        mov [F_CL], ah
        mov ax, [E_HEADS]
        dec ax
        mov [F_DH], al
        mov byte [F_DL], 1              ; one fixed disk
        mov byte [F_BL], 0
        mov word [F_EDI], 0
        mov word [F_ES], 0
        jmp .ok

.type:
        mov byte [F_AH], 3              ; fixed disk
        mov eax, [E_DISK_SECTORS]
        mov [F_DX], ax
        shr eax, 16
        mov [F_CX], ax
        jmp .clc

.ext_check:
        cmp word [F_BX], 0x55AA
        jne .badcmd
        mov word [F_BX], 0xAA55
        mov byte [F_AH], 0x30           ; EDD 3.0
        mov word [F_CX], 0x0001         ; fixed-disk access subset (42h-44h, 47h, 48h)
        jmp .clc

; Disk address packet at DS:SI: size, 0, count word, buffer offset:segment, LBA qword.
.ext_read:
        xor bl, bl
        jmp .ext_rw
.ext_write:
        mov bl, 1
.ext_rw:
        mov ds, [F_DS]
        mov si, [F_ESI]
        cmp byte [si], 0x10
        jb .badcmd
        cmp dword [si + 12], 0          ; LBA above 2^32 sectors: beyond any LBA28 disk
        jne .badsector
        mov eax, [si + 8]
        mov cx, [si + 2]
        mov di, [si + 4]
        mov es, [si + 6]
        call ata_rw
        mov ds, [F_DS]                  ; (moves keep CF from ata_rw)
        mov si, [F_ESI]
        mov [si + 2], al                ; blocks transferred
        mov byte [si + 3], 0
        jc .rw_err
        jmp .ok
.rw_err:
        mov ah, DS_NOSECTOR
        jmp .error

; EDD result buffer at DS:SI (EDD 3.0, table 8): size, flags, geometry, sectors, 512.
.ext_params:
        mov es, [F_DS]
        mov di, [F_ESI]
        cmp word [es:di], 0x1A
        jb .badcmd
        mov word [es:di], 0x1A
        mov word [es:di + 2], 0x0002    ; CHS information valid
        movzx eax, word [E_CYLS]
        mov [es:di + 4], eax
        movzx eax, word [E_HEADS]
        mov [es:di + 8], eax
        movzx eax, word [E_SPT]
        mov [es:di + 12], eax
        mov eax, [E_DISK_SECTORS]
        mov [es:di + 16], eax
        mov dword [es:di + 20], 0
        mov word [es:di + 24], 512
        jmp .ok

.badsector:
        mov ah, DS_NOSECTOR
        jmp .error
.badcmd:
        mov ah, DS_BADCMD
.error:
        mov [F_AH], ah
        push word BDA_SEG
        pop ds
        mov [BDA_DISK_STATUS], ah
        or byte [F_FLAGS], 1
        LEAVE_FRAME
.ok:    mov byte [F_AH], DS_OK
        push word BDA_SEG
        pop ds
        mov byte [BDA_DISK_STATUS], DS_OK
.clc:   and byte [F_FLAGS], 0xFE
        LEAVE_FRAME

; ---------------------------------------------------------------------------------------
; int 15h: system services
; ---------------------------------------------------------------------------------------
int15:
        ENTER_FRAME
        cmp eax, 0xE820
        je .e820
        cmp ax, 0xE801
        je .e801
        cmp ah, 0x88
        je .ext88
        cmp ax, 0x2400
        je .a20_off
        cmp ax, 0x2401
        je .a20_on
        cmp ax, 0x2402
        je .a20_status
        cmp ax, 0x2403
        je .a20_support
        cmp ah, 0xC0
        je .config
        cmp ah, 0x86
        je .ok                          ; wait: time is virtual, return at once
        mov byte [F_AH], 0x86           ; function not supported
        jmp .fail

; E820 (ACPI 3.0, 14.1): EBX continuation, ES:DI a 20-byte entry, EDX = 'SMAP'.
.e820:
        cmp edx, 0x534D4150
        jne .e820_bad
        mov ebx, [F_EBX]
        cmp ebx, e820_count
        jae .e820_bad
        mov es, [F_ES]
        mov di, [F_EDI]
        imul si, bx, 20
        add si, e820_map
        mov cx, 20
        push ds
        push cs
        pop ds
        push di
        rep movsb
        pop di
        pop ds
        cmp ebx, e820_last_ram
        jne .e820_fixed
        push word EBDA_SEG
        pop ds
        mov eax, [E_RAM_TOP]
        sub eax, 0x100000
        mov [es:di + 8], eax            ; length of RAM above 1 MiB
.e820_fixed:
        inc ebx
        cmp ebx, e820_count
        jb .e820_more
        xor ebx, ebx
.e820_more:
        mov [F_EBX], ebx
        mov dword [F_EAX], 0x534D4150
        mov dword [F_ECX], 20
        jmp .ok
.e820_bad:
        mov byte [F_AH], 0x86
        jmp .fail

; E801: AX=CX KiB between 1 and 16 MiB, BX=DX 64 KiB blocks above 16 MiB.
.e801:
        push word EBDA_SEG
        pop ds
        mov eax, [E_RAM_TOP]
        cmp eax, 0x1000000
        jbe .e801_small
        sub eax, 0x1000000
        shr eax, 16
        mov [F_BX], ax
        mov [F_DX], ax
        mov ax, 0x3C00
        jmp .e801_low
.e801_small:
        sub eax, 0x100000
        shr eax, 10
        mov word [F_BX], 0
        mov word [F_DX], 0
.e801_low:
        mov [F_AX], ax
        mov [F_CX], ax
        jmp .ok

.ext88:
        push word EBDA_SEG
        pop ds
        mov eax, [E_RAM_TOP]
        sub eax, 0x100000
        shr eax, 10
        cmp eax, 0xFC00                 ; at most 63 MiB through this call
        jbe .ext88_store
        mov eax, 0xFC00
.ext88_store:
        mov [F_AX], ax
        jmp .ok_noah

; A20 through the PS/2 system control port A (port 92h, bit 1).
.a20_off:
        in al, 0x92
        and al, 0xFD
        out 0x92, al
        jmp .ok
.a20_on:
        in al, 0x92
        or al, 0x02
        and al, 0xFE                    ; never write bit 0 (fast reset)
        out 0x92, al
        jmp .ok
.a20_status:
        in al, 0x92
        shr al, 1
        and al, 1
        mov [F_AL], al
        jmp .ok
.a20_support:
        mov word [F_BX], 0x0003         ; keyboard controller and port 92h
        jmp .ok

.config:
        mov word [F_ES], ROM_SEG
        mov word [F_BX], config_table
        jmp .ok

.ok:    mov byte [F_AH], 0
.ok_noah:
        and byte [F_FLAGS], 0xFE
        LEAVE_FRAME
.fail:  or byte [F_FLAGS], 1
        LEAVE_FRAME

; ---------------------------------------------------------------------------------------
; int 16h: keyboard
; ---------------------------------------------------------------------------------------
int16:
        cmp ah, 0x00
        je .read
        cmp ah, 0x10
        je .read
        cmp ah, 0x01
        je .peek
        cmp ah, 0x11
        je .peek
        cmp ah, 0x02
        je .shift
        iret
.read:  sti
.wait:  call kbd_fetch
        jz .wait
        push ds
        push bx
        push word BDA_SEG
        pop ds
        mov bx, [BDA_KBD_HEAD]
        mov ax, [bx]
        add bx, 2
        cmp bx, [BDA_KBD_END]
        jb .nowrap
        mov bx, [BDA_KBD_START]
.nowrap:
        mov [BDA_KBD_HEAD], bx
        pop bx
        pop ds
        iret
; ZF clear and AX = key if one is waiting; ZF set otherwise (returned in FLAGS).
.peek:  push bp
        mov bp, sp
        call kbd_fetch
        jz .empty
        push ds
        push bx
        push word BDA_SEG
        pop ds
        mov bx, [BDA_KBD_HEAD]
        mov ax, [bx]
        pop bx
        pop ds
        and byte [bp + 6], 0xBF         ; ZF clear in the saved FLAGS
        pop bp
        iret
.empty: or byte [bp + 6], 0x40
        pop bp
        iret
.shift: push ds
        push word BDA_SEG
        pop ds
        mov al, [BDA_KBD_FLAGS]
        pop ds
        iret

; Moves a byte received on COM1 into the keyboard ring, then ZF set if the ring is empty.
kbd_fetch:
        push ax
        push dx
        push ds
        mov dx, COM1 + UART_LSR
        in al, dx
        test al, LSR_DR
        jz .check
        mov dx, COM1
        in al, dx
        xor ah, ah
        call kbd_push
.check: push word BDA_SEG
        pop ds
        mov ax, [BDA_KBD_HEAD]
        cmp ax, [BDA_KBD_TAIL]
        pop ds
        pop dx
        pop ax
        ret

; ---------------------------------------------------------------------------------------
; int 18h, int 19h: boot
; ---------------------------------------------------------------------------------------
int18:
        mov si, msg_noboot
        call serial_puts
        mov al, 0x01
        out 0xF4, al                    ; isa-debug-exit, where the platform has it
.halt:  cli
        hlt
        jmp .halt

int19:
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, STACK_TOP
        push word EBDA_SEG
        pop ds
        cmp dword [E_DISK_SECTORS], 0
        je .fail
        xor eax, eax
        mov cx, 1
        xor di, di
        push word 0x07C0
        pop es
        xor bl, bl
        call ata_rw
        jc .fail
        xor ax, ax
        mov ds, ax
        mov es, ax
        cmp word [0x7DFE], 0xAA55
        jne .fail
        mov dl, 0x80
        sti
        jmp 0x0000:0x7C00
.fail:  int 0x18

; ---------------------------------------------------------------------------------------
; int 1Ah: time
; ---------------------------------------------------------------------------------------
int1a:
        push ds
        push word BDA_SEG
        pop ds
        cmp ah, 0x00
        je .get_ticks
        cmp ah, 0x01
        je .set_ticks
        cmp ah, 0x02
        je .rtc_time
        cmp ah, 0x04
        je .rtc_date
        pop ds
        iret
.get_ticks:
        cli
        mov dx, [BDA_TICKS]
        mov cx, [BDA_TICKS + 2]
        mov al, [BDA_MIDNIGHT]
        mov byte [BDA_MIDNIGHT], 0
        sti
        pop ds
        iret
.set_ticks:
        cli
        mov [BDA_TICKS], dx
        mov [BDA_TICKS + 2], cx
        mov byte [BDA_MIDNIGHT], 0
        sti
        pop ds
        iret
; MC146818A: wait while the update is in progress (register A bit 7), then read.
.rtc_time:
        call rtc_wait
        mov al, 0x04
        call cmos_read
        mov ch, al
        mov al, 0x02
        call cmos_read
        mov cl, al
        mov al, 0x00
        call cmos_read
        mov dh, al
        mov al, 0x0B
        call cmos_read
        and al, 0x01                    ; daylight saving enable
        mov dl, al
        jmp .rtc_ok
.rtc_date:
        call rtc_wait
        mov al, 0x32
        call cmos_read
        mov ch, al
        mov al, 0x09
        call cmos_read
        mov cl, al
        mov al, 0x08
        call cmos_read
        mov dh, al
        mov al, 0x07
        call cmos_read
        mov dl, al
.rtc_ok:
        pop ds
        push bp
        mov bp, sp
        and byte [bp + 6], 0xFE         ; CF clear
        pop bp
        iret

rtc_wait:
        push cx
        mov cx, 0xFFFF
.poll:  mov al, 0x0A
        call cmos_read
        test al, 0x80
        jz .done
        loop .poll
.done:  pop cx
        ret

; ---------------------------------------------------------------------------------------
; Data
; ---------------------------------------------------------------------------------------
banner:     db "wasmvisor BIOS", 13, 10, 0
msg_noboot: db "No bootable disk.", 13, 10, 0

; The E820 map: base, length, type (1 usable, 2 reserved). The length of the RAM above
; 1 MiB is filled in from the CMOS at the call.
e820_map:
        dq 0x00000000, BASE_MEM_KB * 1024
        dd 1
        dq BASE_MEM_KB * 1024, (640 - BASE_MEM_KB) * 1024
        dd 2
        dq 0x000F0000, 0x00010000
        dd 2
e820_ram:
        dq 0x00100000, 0
        dd 1
        dq 0xFFFF0000, 0x00010000
        dd 2
e820_count     equ ($ - e820_map) / 20
e820_last_ram  equ (e820_ram - e820_map) / 20

; int 15h AH=C0h system configuration table: length, model FCh (AT), submodel, revision,
; feature bytes (bit 6 of byte 1: second 8259 present; bit 5: RTC present).
config_table:
        dw 8
        db 0xFC, 0x01, 0x00, 0x70, 0x00, 0x00, 0x00, 0x00

; Scan code set 1 make codes -> ASCII (US layout), unshifted.
scancode_table:
        db 0, 27, '1234567890-=', 8, 9
        db 'qwertyuiop[]', 13, 0
        db "asdfghjkl;'`", 0, '\'
        db 'zxcvbnm,./', 0, '*', 0, ' '
scancode_table_end:

; ---------------------------------------------------------------------------------------
; Reset vector at F000:FFF0, the BIOS date at F000:FFF5 and the model byte at F000:FFFE.
; ---------------------------------------------------------------------------------------
        times 0xFFF0 - ($ - $$) db 0xFF
reset:
        jmp ROM_SEG:post
        db "11/21/26"
        db 0
        db 0xFC
        db 0
