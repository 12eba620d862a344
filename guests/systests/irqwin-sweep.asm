; The one-instruction window of irqwin at every timing: the 8254 PIT in mode 2 (rate
; generator) interrupts every few hundred instructions while the CPU runs a loop whose
; only open boundary is the one after STI; NOP (the shadow covers the NOP: SDM vol. 2B,
; STI). The handler counts the interrupts, checks each returns to the CLI after the NOP and
; sums the loop counter at each one: a window missed delays the interrupt by an iteration
; and changes the sum. Not for a reference (the sum depends on when the timer fires):
; wasmvisor runs it natively, under vtx and under svm, whose virtual time is the same.
%include "lib.inc"
main:
    mov eax, 0x20
    mov ebx, irq0
    mov ecx, SEL_CODE0
    mov edx, 0x8e
    call set_gate
    PIC_INIT                        ; only IRQ0 unmasked
    mov al, 0xff
    out 0xa1, al
    mov al, 0x34                    ; PIT channel 0, mode 2, binary
    out 0x43, al
    mov al, 7                       ; about every 5.9 us
    out 0x40, al
    xor al, al
    out 0x40, al
    mov esi, 20000
loop_top:
    add eax, 1                      ; IF=0: the interrupt waits
    add eax, 1
    add eax, 1
    sti
    nop                             ; in STI's shadow
at_cli:
    cli
    dec esi
    jnz loop_top
    mov al, 0x30                    ; stop the periodic timer (mode 0, no new count)
    out 0x43, al
    PUTS "irqs="
    PHEX [irq_count]
    PUTS " elsewhere="
    PHEX [bad]
    PUTS " sum="
    PHEX [sum]
    NL
    ret

irq0:
    push eax
    inc dword [irq_count]
    add [sum], esi
    mov eax, [esp+4]
    cmp eax, at_cli
    je .ok
    inc dword [bad]
.ok:
    mov al, 0x20                    ; OCW2: non-specific EOI
    out 0x20, al
    pop eax
    iretd

irq_count: dd 0
bad: dd 0
sum: dd 0
%include "end.inc"
