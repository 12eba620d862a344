; An external interrupt in real mode (SDM vol. 3A, 20.1.4): the PIC remapped to vector
; 0x20 and the PIT's IRQ0 unmasked, STI; HLT in real mode: the IVT entry 0x20 runs with
; FLAGS, CS, IP pushed (IP after the HLT) and IF cleared. (wasmvisor's test harness has
; no PIC or PIT: the test injects vector 0x20 at the HLT.)
%include "lib.inc"

RM_BASE equ 0x7000
; RM(x): a blob label's address where the blob runs (for absolute uses only)
%define RM(x) ((x) - rm_start + RM_BASE)

main:
    mov esi, rm_start
    mov edi, RM_BASE
    mov ecx, rm_end - rm_start
    rep movsb
    mov [pm_esp], esp
    jmp SEL_CODE16:RM(rm_start)
pm_back:
    FLAT_SEGS
    mov esp, [pm_esp]
    lidt [idt_ptr]
    PUTSN "back in protected mode"
    ret
pm_esp: dd 0

bits 16
rm_start:
    TO_REAL_MODE
    mov word [0x20*4], RM(irq0)
    mov word [0x20*4+2], 0
    ; PIC: ICW1-ICW4, base 0x20/0x28; only IRQ0 unmasked
    PIC_INIT                        ; only IRQ0 unmasked
    mov al, 0xff
    out 0xa1, al
    ; PIT channel 0, mode 0, count 100
    mov al, 0x30
    out 0x43, al
    mov al, 100
    out 0x40, al
    xor al, al
    out 0x40, al
    push word 0x0002
    popf
    sti
    hlt
after_hlt:
    cli
    mov si, RM(s_back)
    call puts16
    cli
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp dword SEL_CODE0:pm_back

irq0:                               ; [bp+2]=IP [bp+4]=CS [bp+6]=FLAGS
    push bp
    mov bp, sp
    push ax
    mov si, RM(s_irq)
    call puts16
    mov ax, [bp+2]
    cmp ax, RM(after_hlt)
    sete al
    add al, '0'
    call putc16
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
    pushf
    pop ax
    call hex16
    mov al, 10
    call putc16
    mov al, 0x20                    ; EOI
    out 0x20, al
    and word [bp+6], ~0x200         ; return with IF=0
    pop ax
    pop bp
    iret

%include "print16.inc"

rm_idt: dw 0x3ff
        dd 0
s_irq:  db "real-mode irq 0x20: ip after hlt=", 0
s_cs:   db " cs=", 0
s_fl:   db " flags=", 0
s_now:  db " flags in handler=", 0
s_back: db "after the interrupt", 10, 0
rm_end:
bits 32
%include "end.inc"
