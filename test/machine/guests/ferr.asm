; The PC/AT's x87 error path with CR0.NE = 0 (SDM vol. 1, 8.7 "Handling x87 FPU Exceptions
; in Software"; D.2.1 "MS-DOS Compatibility Sub-mode"): an unmasked exception makes the next
; waiting instruction (FWAIT here) assert FERR#, which the board routes to IRQ 13 through
; the slave 8259 (IR5); the handler writes port 0F0H (the latch clears, IRQ 13 drops,
; IGNNE# asserts) and clears the exception with FNCLEX. Printed to COM1:
;   1. with IF = 0 and IR5 masked: the slave's IRR after FWAIT (IR5 set), after a write
;      to 0F0H (clear);
;   2. with IF = 1: IRQ 13 taken as vector 0x2D, the status word the handler sees;
;   3. again after the handler's FNCLEX: a second IRQ 13;
;   4. a handler that writes 0F0H but leaves the exception: FWAIT again raises nothing
;      (FERR# never went away, IGNNE# is asserted); FNCLEX, then a new exception does;
;   5. CR0.NE = 1: #MF (vector 16) instead, no IRQ 13.
; Then it leaves through isa-debug-exit (QEMU) or the shutdown port 0x8900 (Bochs). Multiboot kernel (a.out kludge) at 1 MiB:
;   nasm -f bin -o ferr.elf ferr.asm
bits 32
org 0x100000
header:
    dd 0x1BADB002
    dd 0x00010000
    dd -(0x1BADB002 + 0x00010000)
    dd header, header, 0, 0, start

start:
    cli
    mov esp, 0x90000
    ; IDT: every vector to `unexpected`, then #MF (16) and IRQ 13 (0x2D)
    mov edi, idt
    mov eax, stubs
    mov ecx, 256
.fill:
    push eax
    call gate
    pop eax
    add eax, 7
    loop .fill
    mov edi, idt + 16 * 8
    mov eax, mf_handler
    call gate
    mov edi, idt + 0x2d * 8
    mov eax, irq13_handler
    call gate
    lidt [idtr]
    ; COM1: 115200 baud (divisor 1), 8N1, no FIFO, no interrupts
    mov dx, 0x3fb
    mov al, 0x80
    out dx, al
    mov dx, 0x3f8
    mov al, 1
    out dx, al
    inc dx
    xor al, al
    out dx, al
    mov dx, 0x3fb
    mov al, 3
    out dx, al
    ; 8259A pair: ICW1 edge + ICW4, ICW2 bases 0x20 / 0x28, ICW3 cascade on IR2, ICW4 8086
    mov al, 0x11
    out 0x20, al
    out 0xa0, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x28
    out 0xa1, al
    mov al, 4
    out 0x21, al
    mov al, 2
    out 0xa1, al
    mov al, 1
    out 0x21, al
    out 0xa1, al
    mov al, 0xfb                     ; master: only the cascade (IR2)
    out 0x21, al
    mov al, 0xdf                     ; slave: only IR5 (IRQ 13)
    out 0xa1, al
    ; CR0: NE = 0, EM = 0, TS = 0, MP = 1
    mov eax, cr0
    and eax, ~((1 << 5) | (1 << 2) | (1 << 3))
    or eax, 2
    mov cr0, eax
    fninit
    fldcw [cw_zm]                    ; #Z unmasked

    ; 1. IF = 0, IR5 masked at the slave (its IRR still latches the request; the master
    ;    never sees it, so no request is left behind there when the line drops again)
    mov al, 0xff
    out 0xa1, al
    mov esi, s_case1
    call puts
    call divzero
    fwait
    mov al, 0x0a                     ; OCW3: read IRR
    out 0xa0, al
    in al, 0xa0
    call hex8
    out 0xf0, al                     ; clear the latch
    in al, 0xa0
    call hex8
    call nl
    fnclex
    mov al, 0xdf
    out 0xa1, al

    ; 2. IF = 1
    mov esi, s_case2
    call puts
    sti
    mov ebx, [count]
    call divzero
    fwait
    call wait_irq
    call nl

    ; 3. again
    mov esi, s_case3
    call puts
    mov ebx, [count]
    call divzero
    fwait
    call wait_irq
    call nl

    ; 4. the handler leaves the exception pending
    mov esi, s_case4
    call puts
    mov byte [keep], 1
    mov ebx, [count]
    call divzero
    fwait
    call wait_irq
    mov byte [keep], 0
    fwait                            ; FERR# still asserted, IGNNE#: nothing new
    mov ecx, 2000
.spin:
    loop .spin
    mov eax, [count]
    call hex8
    fnclex
    mov ebx, [count]
    call divzero
    fwait
    call wait_irq
    call nl

    ; 5. CR0.NE = 1: #MF
    mov esi, s_case5
    call puts
    mov eax, cr0
    or eax, 1 << 5
    mov cr0, eax
    call divzero
    fwait
    mov eax, [count]
    call hex8
    mov eax, [mf_count]
    call hex8
    call nl

    call exit
.halt:
    cli
    hlt
    jmp .halt

; ST0 = 1 / 0 with #Z unmasked: ZE and ES set, nothing raised until the next waiting
; instruction (the caller's FWAIT). FNINIT first: an empty stack, no exception pending.
divzero:
    fninit
    fldcw [cw_zm]
    fld1
    fldz
    fdivp st1, st0
    ret

; Waits (HLT) until the IRQ 13 count is no longer EBX (the count taken before the
; exception: the interrupt may come at once), then prints the count and the status word.
wait_irq:
.w:
    cmp [count], ebx
    jne .done
    hlt
    jmp .w
.done:
    mov eax, [count]
    call hex8
    mov ax, [seen_sw]
    call hex16
    ret

irq13_handler:
    push eax
    inc dword [count]
    fnstsw [seen_sw]
    out 0xf0, al                     ; clear the latch, IGNNE#
    cmp byte [keep], 0
    jne .keep
    fnclex
.keep:
    mov al, 0x20                     ; EOI: slave, then master
    out 0xa0, al
    out 0x20, al
    pop eax
    iret

mf_handler:
    inc dword [mf_count]
    fnclex
    iret

; One stub per vector (PUSH imm8; JMP near: 7 bytes each) for the unexpected ones.
stubs:
%assign v 0
%rep 256
    db 0x6a, v
    jmp near unexpected
%assign v v + 1
%endrep
unexpected:
    mov esi, s_unexpected
    call puts
    pop eax
    call hex8
    call nl
    call exit
    jmp $

; QEMU's isa-debug-exit, then Bochs' shutdown port (its BIOS's "Shutdown" string)
exit:
    mov al, 0
    out 0xf4, al
    mov dx, 0x8900
    mov esi, s_shutdown
.s:
    lodsb
    test al, al
    jz .d
    out dx, al
    jmp .s
.d:
    ret

; EDI = gate, EAX = handler: a 32-bit interrupt gate, selector 0x08 (Multiboot's CS)
gate:
    mov [edi], ax
    mov word [edi + 2], 0x08
    mov word [edi + 4], 0x8e00
    shr eax, 16
    mov [edi + 6], ax
    add edi, 8
    ret

; COM1's transmitter, once its holding register is empty (LSR bit 5, THRE).
putc:
    push edx
    push eax
    mov dx, 0x3fd
.t:
    in al, dx
    test al, 0x20
    jz .t
    pop eax
    mov dx, 0x3f8
    out dx, al
    pop edx
    ret

puts:
    lodsb
    test al, al
    jz .e
    call putc
    jmp puts
.e:
    ret
nl:
    mov al, 10
    call putc
    ret
hex16:
    push eax
    shr eax, 8
    call hex8
    pop eax
hex8:
    push eax
    push eax
    shr al, 4
    call .nib
    pop eax
    call .nib
    mov al, ' '
    call putc
    pop eax
    ret
.nib:
    and al, 15
    add al, '0'
    cmp al, '9'
    jbe .o
    add al, 7
.o:
    call putc
    ret

s_case1: db "if0 irr: ", 0
s_case2: db "irq13: ", 0
s_case3: db "again: ", 0
s_case4: db "ignne: ", 0
s_case5: db "ne1 irq13/mf: ", 0
s_unexpected: db "unexpected vector ", 0
s_shutdown: db "Shutdown", 0
cw_zm: dw 0x037b
idtr: dw 256 * 8 - 1
      dd idt
align 4
count: dd 0
mf_count: dd 0
seen_sw: dw 0
keep: db 0
align 8
idt: times 256 * 8 db 0
