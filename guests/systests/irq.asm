; An external interrupt: the 8259A PIC remapped to vector 0x20 (ICW1-ICW4, 8259A
; datasheet), only IRQ0 unmasked, the 8254 PIT channel 0 in mode 0 with a short count,
; then STI; HLT. The interrupt arrives through the IDT as vector 0x20: the frame holds
; the EIP after the HLT and EFLAGS with IF=1; the interrupt gate clears IF in the handler.
; Then the STI shadow (SDM vol. 2B, STI): with IRQ0 already pending (seen in the PIC's
; IRR), STI; MOV; MOV takes the interrupt after the first MOV, not before it.
; (wasmvisor's test harness has no PIC or PIT: the test injects vector 0x20 at the HLT,
; then as soon as the core opens its interrupt window.)
%include "lib.inc"
main:
    mov eax, 0x20
    mov ebx, irq0
    mov ecx, SEL_CODE0
    mov edx, 0x8e
    call set_gate
    ; PIC: ICW1 (edge, cascade, ICW4), ICW2 (vector base), ICW3, ICW4 (8086 mode)
    PIC_INIT                        ; only IRQ0 unmasked
    mov al, 0xff
    out 0xa1, al
    ; PIT channel 0, mode 0 (interrupt on terminal count), binary, count 100
    mov al, 0x30
    out 0x43, al
    mov al, 100
    out 0x40, al
    xor al, al
    out 0x40, al
    mov dword [irq_count], 0
    sti
    hlt
after_hlt:
    PUTS "irq count="
    PHEX [irq_count]
    NL

    ; the STI shadow: make IRQ0 pending with IF=0, then STI
    mov al, 0x30
    out 0x43, al
    mov al, 100
    out 0x40, al
    xor al, al
    out 0x40, al
.poll:
    mov al, 0x0a                    ; OCW3: read IRR
    out 0x20, al
    in al, 0x20
    test al, 1
    jz .poll
    mov dword [shadow_case], 1
    xor ebx, ebx
    sti
    mov ebx, 1                      ; still in the STI shadow
shadow_next:
    mov ebx, 2
    cli
    PUTS "irq count="
    PHEX [irq_count]
    NL
    ret

irq0:
    push ebp
    mov ebp, esp
    push eax
    inc dword [irq_count]
    cmp dword [shadow_case], 0
    jne .shadow
    PUTS "irq vector 0x20: eip is after hlt="
    mov eax, [ebp+4]
    cmp eax, after_hlt
    sete al
    movzx eax, al
    PHEX8 eax
    PUTS " cs="
    PHEX16 [ebp+8]
    PUTS " saved efl.if="
    mov eax, [ebp+12]
    shr eax, 9
    and eax, 1
    PHEX8 eax
    pushfd
    pop eax
    shr eax, 9
    and eax, 1
    PUTS " if in handler="
    PHEX8 eax
    NL
    and dword [ebp+12], ~0x200      ; return with IF=0: nothing more until the next STI
    jmp .eoi
.shadow:
    PUTS "irq after sti: ebx="
    PHEX ebx
    PUTS " eip is the instruction after the shadow="
    mov eax, [ebp+4]
    cmp eax, shadow_next
    sete al
    movzx eax, al
    PHEX8 eax
    NL
.eoi:
    mov al, 0x20                    ; OCW2: non-specific EOI
    out 0x20, al
    pop eax
    pop ebp
    iretd

irq_count: dd 0
shadow_case: dd 0
%include "end.inc"
