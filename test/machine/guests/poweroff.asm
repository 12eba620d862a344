; A guest that powers the machine off as an ACPI OS does on QEMU's pc machine: it echoes the
; PIIX4 power-management function's registers (00:01.3) to the 0xE9 debug console as the
; loader left them, programs the PM I/O base PMBA = 600h and PMIOSE itself (Intel 82371AB
; datasheet, 3.4: PMBA at 40h, PMREGMISC at 80h), echoes PM1a_CNT, then writes SLP_EN with
; SLP_TYP 0 (S5, soft off: ACPI 4.8.3.2.1) to PM1a_CNT at 604h and halts with interrupts
; off. Only a poweroff ends it: a machine that did not power off halts for good.
;   nasm -f bin -DMULTIBOOT -o poweroff.elf poweroff.asm   (a Multiboot kernel, a.out kludge)
;   nasm -f bin -o poweroff.mbr poweroff.asm               (a boot sector, after a BIOS)
%ifdef MULTIBOOT
bits 32
org 0x100000
header:
    dd 0x1BADB002                         ; Multiboot 0.6.96, 3.1.1: magic
    dd 0x00010000                         ; flags: bit 16, the address fields are valid
    dd -(0x1BADB002 + 0x00010000)         ; checksum
    dd header, header, 0, 0, start        ; header, load, load end (file), bss end, entry
%else
bits 16
org 0x7c00
%endif

PM_FUNCTION equ 0x80000000 | (1 << 11) | (3 << 8)    ; bus 0, device 1, function 3
PM_BASE     equ 0x600

start:
    cli
%ifdef MULTIBOOT
    mov esp, 0x90000                      ; Multiboot leaves ESP undefined (3.2)
%endif
    mov eax, 0x00                         ; device and vendor ID
    call echo_config
    mov eax, 0x08                         ; class code and revision
    call echo_config
    mov eax, 0x3c                         ; interrupt line and pin
    call echo_config
    mov eax, 0x40                         ; PMBA
    call echo_config
    mov eax, 0x80                         ; PMREGMISC
    call echo_config
    mov eax, PM_FUNCTION | 0x40
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    mov eax, PM_BASE | 1
    out dx, eax
    mov eax, PM_FUNCTION | 0x80
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    mov al, 1                             ; PMIOSE
    out dx, al
    mov dx, PM_BASE + 4                   ; PM1a_CNT
    in ax, dx
    out 0xe9, al
    mov al, ah
    out 0xe9, al
    mov ax, 0x2000                        ; SLP_EN | SLP_TYP 0
    out dx, ax
.off:
    hlt
    jmp .off

; Echoes the PM function's configuration dword at offset EAX, low byte first.
echo_config:
    or eax, PM_FUNCTION
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
%rep 4
    out 0xe9, al
    shr eax, 8
%endrep
    ret

%ifndef MULTIBOOT
times 510 - ($ - $$) db 0
dw 0xaa55
%endif
