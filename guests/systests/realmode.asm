; Real mode from the Multiboot state (SDM vol. 3A, 9.9.2 "Switching back to real-address
; mode"): through a 16-bit protected-mode segment, CR0.PE cleared, a far jump, then the
; real-mode IVT (20.1.4): INT n pushes FLAGS, CS, IP and clears IF/TF; #DE pushes the IP
; of the faulting DIV; segment:offset addressing (segment * 16 + offset), 16-bit offsets
; wrapping at 64 KiB, an IVT moved by LIDT; and back to protected mode. The 16-bit code
; is copied below 64 KiB (to RM_BASE) and runs there.
%include "lib.inc"

RM_BASE equ 0x7000
; RM(x): the address of blob label x where the blob runs (for absolute uses only;
; relative CALL/JMP inside the blob need no translation)
%define RM(x) ((x) - rm_start + RM_BASE)

main:
    mov esi, rm_start
    mov edi, RM_BASE
    mov ecx, rm_end - rm_start
    rep movsb
    mov [pm_esp], esp
    PUTSN "to real mode"
    jmp SEL_CODE16:RM(rm_start)
pm_back:
    FLAT_SEGS
    mov esp, [pm_esp]
    lidt [idt_ptr]
    mov ax, SEL_TSS
    ; the TSS descriptor is busy since LTR; make it available again to reload TR
    and byte [gdt + SEL_TSS + 5], ~2
    ltr ax
    PUTSN "back in protected mode"
    mov eax, cr0
    and eax, 1
    PUTS "cr0.pe="
    PHEX8 eax
    NL
    ret
pm_esp: dd 0

bits 16
rm_start:
    TO_REAL_MODE
    mov si, RM(s_real)
    call puts16
    ; IVT entries: 0x60 -> 0000:int60, 0x61 -> 0700:int60 (same code, other CS), 0 -> de
    mov word [0x60*4], RM(int60)
    mov word [0x60*4+2], 0
    mov word [0x61*4], RM(int60) - 0x7000
    mov word [0x61*4+2], 0x0700
    mov word [0x00*4], RM(de_handler)
    mov word [0x00*4+2], 0
    push word 0x0002                ; a known FLAGS image for the frames below
    popf
    mov ax, 0x6060
    int 0x60
    mov si, RM(s_back)
    call puts16
    call hex16
    call nl16
    int 0x61
    ; #DE in real mode: the pushed IP is the DIV's own
    xor cl, cl
    mov ax, 0x100
    div cl
    mov si, RM(s_afterde)
    call puts16
    ; segment * 16 + offset
    mov ax, 0x1234
    mov es, ax
    mov dword [es:0x10], 0xcafef00d
    mov ax, 0x1235
    mov fs, ax
    mov eax, [fs:0]
    mov si, RM(s_seg)
    call puts16
    call hex32
    call nl16
    ; 16-bit effective addresses wrap at 64 KiB: bx + si = 0x1fff0 addresses ds:0xfff0
    xor ax, ax
    mov ds, ax
    mov dword [0xfff0], 0x5ca1ab1e
    mov bx, 0xfff8
    mov si, 0xfff8
    mov eax, [bx+si]
    mov si, RM(s_wrap)
    call puts16
    call hex32
    call nl16
    ; the real-mode IDTR base is honoured (386+): IVT moved to 0x8000
    mov word [0x8000 + 0x62*4], RM(int60)
    mov word [0x8000 + 0x62*4 + 2], 0
    lidt [RM(rm_idt2)]
    int 0x62
    lidt [RM(rm_idt)]
    ; FLAGS bits 12-15 in real mode (pushf after popf of 0xffff)
    push word 0xfcff                ; every bit but TF and IF (no interrupt may come in)
    popf
    pushf
    pop ax
    push word 0x0002
    popf
    mov si, RM(s_flags)
    call puts16
    call hex16
    call nl16
    ; back to protected mode
    cli
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp dword SEL_CODE0:pm_back

int60:                              ; prints IP, CS, FLAGS from the frame, CS and FLAGS now
    push bp
    mov bp, sp
    push ax
    mov si, RM(s_int)
    call puts16
    mov ax, [bp+2]
    call hex16
    mov si, RM(s_cs)
    call puts16
    mov ax, [bp+4]
    call hex16
    mov si, RM(s_fl)
    call puts16
    mov ax, [bp+6]
    call hex16
    mov si, RM(s_now)
    call puts16
    mov ax, cs
    call hex16
    mov al, ' '
    call putc16
    pushf
    pop ax
    call hex16
    call nl16
    pop ax
    pop bp
    mov ax, 0x1234
    iret

de_handler:
    push bp
    mov bp, sp
    mov si, RM(s_de)
    call puts16
    mov ax, [bp+2]
    call hex16
    call nl16
    add word [bp+2], 2              ; skip the 2-byte DIV
    pop bp
    iret

%include "print16.inc"

rm_idt: dw 0x3ff
        dd 0
rm_idt2: dw 0x3ff
        dd 0x8000
s_real: db "in real mode", 10, 0
s_int:  db "int frame ip=", 0
s_cs:   db " cs=", 0
s_fl:   db " flags=", 0
s_now:  db " now cs/flags=", 0
s_back: db "iret ax=", 0
s_de:   db "#DE ip=", 0
s_afterde: db "after #DE", 10, 0
s_seg:  db "1235:0000=", 0
s_wrap: db "[bx+si] with bx+si=0x1fff0 reads 0000:fff0=", 0
s_flags: db "flags after popf 0xfcff=", 0
rm_end:
bits 32
%include "end.inc"
