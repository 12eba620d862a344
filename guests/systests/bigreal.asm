; Real mode (Intel SDM vol. 3A, 20.1 real-address mode: base = selector * 16, the IVT, 20.1.4
; interrupt delivery; 9.9.2 switching back from protected mode, where segment caches keep their
; protected-mode limits: "big real mode"). The 16-bit part is copied to 8000h and runs with CS = 0.
%include "frame.inc"

main:
    mov [pm_esp], esp
    sidt [pm_idtr]
    mov esi, section.rm16.start
    mov edi, 0x8000
    mov ecx, rm16_end - rm16_begin
    rep movsb
    mov eax, [gdtr]                         ; the copy at 8000h needs the GDTR for the way back
    mov [gdtr16], eax
    mov ax, [gdtr + 4]
    mov [gdtr16 + 4], ax
    mov ax, SEL_DATA0
    mov fs, ax                              ; FS keeps a 4 GiB limit in real mode
    jmp SEL_CODE16:pm16_entry
back32:
    FLAT_SEGS
    mov esp, [pm_esp]
    lidt [pm_idtr]
    PRINT "back in protected mode", 10
    ret

pm_esp: dd 0
pm_idtr: dw 0
         dd 0

section rm16 vstart=0x8000 align=16
bits 16
rm16_begin:

%macro TRY16 1
    mov word [cs:resume16], %1
%endmacro

%include "print16.inc"

resume16: dw 0

; IVT handlers: print vector and the pushed IP, CS, FLAGS; resume at resume16 when set
%macro RSTUB 1
rstub_%1:
    push word %1
    jmp rcommon
%endmacro
RSTUB 0
RSTUB 3
RSTUB 4
RSTUB 5
RSTUB 6
RSTUB 13
RSTUB 0x21

rcommon:
    push bp
    mov bp, sp
    PRINT16 "INT "
    HEX16 [bp+2], 2
    movzx eax, word [bp+4]
    PRINT16 " ip="
    HEX16 eax, 4
    movzx eax, word [bp+6]
    PRINT16 " cs="
    HEX16 eax, 4
    movzx eax, word [bp+8]
    PRINT16 " flags="
    HEX16 eax, 4
    pushf
    pop ax
    movzx eax, ax
    PRINT16 " in-handler flags="
    HEX16 eax, 4
    PRINT16 10
    mov ax, [cs:resume16]
    test ax, ax
    jz .ret
    mov [bp+4], ax
    mov word [cs:resume16], 0
.ret:
    pop bp
    add sp, 2
    iret

handler21b:
    PRINT16 "moved IVT handler", 10
    iret

far_target:
    push bp
    mov bp, sp
    movzx eax, word [bp+2]
    SHOW16 "far call ip", eax
    movzx eax, word [bp+4]
    SHOW16 "far call cs", eax
    mov ax, cs
    movzx eax, ax
    SHOW16 "cs in callee", eax
    pop bp
    retf

pm16_entry:
    mov ax, SEL_DATA16
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov gs, ax
    mov eax, cr0
    and al, 0xfe
    mov cr0, eax
    jmp 0:rm_entry
rm_entry:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov gs, ax
    mov sp, 0x7000
    lidt [cs:ivt_idtr]
    ; IVT at 0: vector -> 0000:handler
%macro SETIVT 2
    mov word [(%1)*4], %2
    mov word [(%1)*4 + 2], 0
%endmacro
    SETIVT 0, rstub_0
    SETIVT 3, rstub_3
    SETIVT 4, rstub_4
    SETIVT 5, rstub_5
    SETIVT 6, rstub_6
    SETIVT 13, rstub_13
    SETIVT 0x21, rstub_0x21
    PRINT16 "real mode", 10
    mov eax, cr0
    SHOW16 "cr0", eax

    ; software interrupts and exceptions through the IVT
    push word 0x0cd7                        ; flags: OF DF SF ZF AF PF CF set, IF and TF clear
    popf
    XTRY16 "int 21", {int 0x21}
    XTRY16 "int3", {int3}
    XTRY16 "into", {mov al, 0x7f}, {add al, 1}, {into}
    XTRY16 "div 0", {xor cx, cx}, {div cx}
    XTRY16 "ud2", {ud2}
    XTRY16 "bound", {mov ax, 9}, {bound ax, [bounds16]}
    push word 0x0002
    popf

    ; segment arithmetic: base = selector * 16
    mov ax, 0x1234
    mov es, ax
    mov byte [es:0x10], 0xa5
    mov eax, [fs:dword 0x12350]
    SHOW16 "linear 12350", eax
    mov ax, 0xffff
    mov es, ax
    mov eax, [es:0x10]                      ; FFFF:0010 = 100000 (A20 on)
    SHOW16 "ffff:0010", eax
    ; big real mode: FS kept its 4 GiB limit from protected mode
    mov eax, [fs:dword 0x100000]
    SHOW16 "fs:100000", eax
    ; the 64 KiB limit of a real-mode segment loaded in real mode
    XTRY16 "word at ds:ffff", {mov ax, [0xffff]}
    XTRY16 "byte at ds:10000 (32-bit address)", {mov al, [dword 0x10000]}
    XTRY16 "byte at ds:ffff", {mov al, [0xffff]}

    ; LIDT moves the interrupt vector table in real mode too
    mov si, 0
    mov di, 0x6000
    mov cx, 0x200
    rep movsw
    mov word [0x6000 + 0x21*4], handler21b
    lidt [cs:moved_idtr]
    XTRY16 "int 21 moved IVT", {int 0x21}
    lidt [cs:ivt_idtr]

    ; far call and return
    call 0x0000:far_target
    ; FLAGS in real mode: IOPL and NT writable, bit 15 clear, bit 1 set
    push word 0xf0ff
    popf
    pushf
    pop ax
    movzx eax, ax
    SHOW16 "flags after popf f0ff", eax
    push word 0x0002
    popf
    smsw ax
    movzx eax, ax
    SHOW16 "smsw", eax

    ; back to protected mode
    cli
    o32 lgdt [cs:gdtr16]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword SEL_CODE0:back32

bounds16: dw 1, 4
ivt_idtr: dw 0x3ff
          dd 0
moved_idtr: dw 0x3ff
            dd 0x6000
gdtr16: dw 0
        dd 0
rm16_end:

section .text
bits 32
%include "frame-end.inc"
