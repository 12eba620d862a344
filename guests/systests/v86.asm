; Virtual-8086 mode (Intel SDM vol. 3A, ch. 20: 20.2 entering by IRET with EFLAGS.VM, real-mode
; addressing at CPL 3, 20.2.7 IOPL-sensitive instructions, 20.3.1.1 interrupts and exceptions
; to a ring-0 handler with the V86 frame of figure 20-4, the TSS I/O bitmap for IN/OUT).
; The V86 code is copied to 8000h and runs as 0800:0000; it prints through COM1 (opened to it
; by the I/O bitmap) and leaves with INT3 (not IOPL-sensitive) or INT 82h.
%include "frame.inc"

V86_SEG equ 0x0800

main:
    mov esi, section.v86code.start
    mov edi, 0x8000
    mov ecx, v86_end - v86_begin
    rep movsb
    ; int 30h: DPL-3 interrupt gate that prints the V86 frame; int3: DPL 3, leaves V86 mode
    mov eax, 0x30
    mov ebx, show_v86_frame
    mov ecx, SEL_CODE0
    mov edx, 0xEE
    call set_gate
    mov eax, 3
    mov ebx, ring3_exit
    mov edx, 0xEE
    call set_gate

    PRINT "v86 with iopl 0", 10
    mov eax, 0x00020002                     ; VM, IOPL 0
    call run_v86
    PRINT "v86 with iopl 3", 10
    mov eax, 0x00023202                     ; VM, IOPL 3, IF
    call run_v86
    PRINT "back in protected mode", 10
    ret

; run_v86: enters V86 mode at 0800:entry (SS 0800, SP fffe, DS ES FS GS 0800/1234/...) with
; EFLAGS = EAX, until the V86 code leaves through int3 or int 82h (ring3_exit)
run_v86:
    pushad
    mov [saved_esp0], esp
    mov [tss + 4], esp
    push dword 0x0000                       ; GS
    push dword 0x1234                       ; FS
    push dword V86_SEG                      ; DS
    push dword 0x0000                       ; ES
    push dword V86_SEG                      ; SS
    push dword 0xfffe                       ; ESP
    push eax                                ; EFLAGS
    push dword V86_SEG                      ; CS
    push dword v86_entry - v86_begin        ; EIP
    iret

; int 30h from V86 mode: EIP CS EFLAGS ESP SS ES DS FS GS on the ring-0 stack
show_v86_frame:
    push ebp
    mov ebp, esp
    push eax
    mov ax, SEL_DATA0
    mov ds, ax
    PRINT "int 30 frame: eip="
    HEX [ebp+4], 8
    PRINT " cs="
    HEX [ebp+8], 4
    PRINT " eflags="
    HEX [ebp+12], 8
    PRINT " esp="
    HEX [ebp+16], 8
    PRINT " ss="
    HEX [ebp+20], 4
    PRINT " es="
    HEX [ebp+24], 4
    PRINT " ds="
    HEX [ebp+28], 4
    PRINT " fs="
    HEX [ebp+32], 4
    PRINT " gs="
    HEX [ebp+36], 4
    NL
    mov eax, ds
    SHOW "  handler ds", eax
    mov eax, es
    SHOW "  handler es", eax
    mov eax, fs
    SHOW "  handler fs", eax
    mov eax, esp
    SHOW "  handler esp", eax
    pop eax
    pop ebp
    iret

section v86code vstart=0 align=16
bits 16
v86_begin:

; TRY16 label: the next exception resumes at V86 offset `label` (lib's `resume` is at a
; linear address above 1 MiB: reached through FFFF:xxxx with A20 on)
%macro TRY16 1
    push es
    push word 0xffff
    pop es
    mov dword [es:resume - 0xffff0], %1 - v86_begin
    pop es
%endmacro

%include "print16.inc"

v86_entry:
    PRINT16 "in v86", 10
    mov ax, cs
    movzx eax, ax
    SHOW16 "cs", eax
    mov ax, fs
    movzx eax, ax
    SHOW16 "fs", eax
    mov eax, esp
    SHOW16 "esp", eax
    mov eax, [fs:0]                         ; linear 12340 + 0
    mov ax, 0x1234
    mov es, ax
    mov dword [es:4], 0x5a5a1234
    mov eax, [dword 0x12344 - 0x8000]       ; the same byte through DS = 0800
    SHOW16 "through ds", eax
    XTRY16 "pushf", {pushf}, {pop ax}
    XTRY16 "cli", {cli}
    XTRY16 "int 21", {int 0x21}
    XTRY16 "popf", {push word 0x0002}, {popf}
    XTRY16 "in 80", {in al, 0x80}
    XTRY16 "in 3fa", {mov dx, 0x3fa}, {in al, dx}
    XTRY16 "mov eax, cr0", {mov eax, cr0}
    XTRY16 "hlt", {hlt}
    XTRY16 "lgdt", {lgdt [0]}
    XTRY16 "word at ffff", {mov ax, [0xffff]}
    XTRY16 "arpl", {arpl ax, bx}
    XTRY16 "lar", {lar ax, bx}
    XTRY16 "int 30", {mov eax, 0x3030}, {int 0x30}
    TRY16 .noflags
    pushf
    pop ax
    movzx eax, ax
    SHOW16 "flags", eax
.noflags:
    int3

v86_end:

section .text
bits 32
%include "frame-end.inc"
