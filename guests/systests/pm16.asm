; 16-bit protected mode (SDM vol. 3A, 6.12.1 and 21.1): code in a 16-bit code segment
; (D=0) with a 16-bit stack segment (B=0: SP only), operand-size prefixes there, an
; interrupt through a 16-bit interrupt gate (type 6: IP, CS, FLAGS pushed as words) and
; a 16-bit IRET, and a fault in 16-bit code delivered through a 32-bit gate (EIP = IP).
; The 16-bit code is copied below 64 KiB (to BLOB) and runs there.
%include "lib.inc"

BLOB equ 0x7000
%define B(x) ((x) - blob + BLOB)    ; blob label address where the blob runs

main:
    mov esi, blob
    mov edi, BLOB
    mov ecx, blob_end - blob
    rep movsb
    ; IDT 0x50: 16-bit interrupt gate -> SEL_CODE16:B(int50)
    mov eax, 0x50
    mov ebx, B(int50)
    mov ecx, SEL_CODE0
    mov edx, 0x86                    ; present, DPL 0, 16-bit interrupt gate
    call set_gate
    mov word [idt + 0x50*8 + 2], SEL_CODE16
    mov [saved_esp], esp
    TRY
    jmp SEL_CODE16:B(blob)
back32:
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, [saved_esp]
    PUTSN "back in 32-bit code"
    ENDTRY
    PUTS "after the fault in 16-bit code: "
    TRY
    jmp SEL_CODE16:B(blob_fault)
    ENDTRY
    ret
saved_esp: dd 0

bits 16
blob:
    mov ax, SEL_DATA16
    mov ds, ax
    mov ss, ax
    mov esp, 0xdead6000             ; B=0: only SP (0x6000) addresses the stack
    mov si, B(s_in16)
    call puts16
    push word 0x1234                ; 16-bit push: SP - 2
    push dword 0x56789abc           ; 0x66 prefix: SP - 4
    mov ax, sp
    call hex16
    call nl16
    pop eax
    pop bx
    call hex16_eax_hi_16
    mov ax, bx
    call hex16
    call nl16
    push word 0x0002
    popf
    mov ax, 0x5050
    int 0x50
    mov si, B(s_iret)
    call puts16
    call hex16
    call nl16
    jmp dword SEL_CODE0:back32

blob_fault:
    mov ax, SEL_DATA16
    mov ds, ax
    ud2

int50:                              ; 16-bit frame: [bp+2]=IP [bp+4]=CS [bp+6]=FLAGS
    push bp
    mov bp, sp
    mov si, B(s_int)
    call puts16
    mov ax, [bp+2]
    call hex16
    mov si, B(s_cs)
    call puts16
    mov ax, [bp+4]
    call hex16
    mov si, B(s_fl)
    call puts16
    mov ax, [bp+6]
    call hex16
    mov si, B(s_sp)
    call puts16
    mov ax, sp
    call hex16
    call nl16
    pop bp
    mov ax, 0x1616
    iret                            ; 16-bit IRET

hex16_eax_hi_16:
    push eax
    shr eax, 16
    call hex16
    pop eax
    ret
%include "print16.inc"
s_in16: db "in 16-bit protected mode, sp after push word + push dword=", 0
s_int:  db "int 0x50 via 16-bit gate: ip=", 0
s_cs:   db " cs=", 0
s_fl:   db " flags=", 0
s_sp:   db " sp=", 0
s_iret: db "after 16-bit iret ax=", 0
blob_end:
bits 32
%include "end.inc"
