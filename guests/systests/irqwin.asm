; Interrupt windows one instruction wide (SDM vol. 2B, STI: the interrupt shadow covers the
; instruction after STI; AMD APM vol. 2, 15.20/15.21.4 under SVM). IRQ0 of the 8254 PIT is
; made pending at the 8259A PIC with IF=0 (seen in the IRR), then:
;   STI; CLI       the shadow covers CLI: no interrupt, IRQ0 stays pending;
;   STI; NOP; CLI  the shadow covers NOP: the interrupt is taken after it, before CLI
;                  (the handler sees the EIP of the CLI);
; each case a few times; then STI as the last byte of a page and the NOP on the next page
; (the fetch crosses a page inside the shadow); then the same window with IRQ0 raised while the CPU spins with
; IF=0 and no port access between the interrupt and the STI (under a VMM the interrupt
; then arrives while the guest runs, not at an exit). Run on a whole PC (the PIT and the
; PIC fire the interrupt).
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
    mov esi, 3
.round:
    call pend_irq0
    mov dword [irq_count], 0
    sti
    cli                             ; in STI's shadow: nothing taken
    PUTS "sti;cli: irq count="
    PHEX [irq_count]
    NL
    sti
    nop                             ; in STI's shadow
at_cli:
    cli
    PUTS "sti;nop;cli: irq count="
    PHEX [irq_count]
    PUTS " taken at cli="
    PHEX8 [at_cli_seen]
    NL
    mov dword [at_cli_seen], 0
    dec esi
    jnz main.round

    mov esi, 3
spin_round:
    mov dword [irq_count], 0
    mov al, 0x30                    ; PIT channel 0, mode 0, count 50 (about 42 us)
    out 0x43, al
    mov al, 50
    out 0x40, al
    xor al, al
    out 0x40, al
    ; spin with IF=0 and no port access while IRQ0 comes (10 million instructions: long
    ; enough for QEMU's timer, which runs on host time, on a loaded host)
    mov ecx, 5000000
.spin:
    dec ecx
    jnz .spin
    sti
    nop                             ; in STI's shadow
at_cli2:
    cli
    PUTS "spin; sti;nop;cli: irq count="
    PHEX [irq_count]
    PUTS " taken at cli="
    PHEX8 [at_cli_seen]
    NL
    mov dword [at_cli_seen], 0
    dec esi
    jnz spin_round

    call pend_irq0
    mov dword [irq_count], 0
    jmp page_sti
page_back:
    PUTS "page edge sti|nop;cli: irq count="
    PHEX [irq_count]
    PUTS " taken at cli="
    PHEX8 [at_cli_seen]
    NL
    ret

; PIT channel 0 in mode 0 with a short count; waits with IF=0 until IRR shows IRQ0.
pend_irq0:
    mov al, 0x30
    out 0x43, al
    mov al, 50
    out 0x40, al
    xor al, al
    out 0x40, al
.poll:
    mov al, 0x0a                    ; OCW3: read IRR
    out 0x20, al
    in al, 0x20
    test al, 1
    jz .poll
    ret

irq0:
    push ebp
    mov ebp, esp
    push eax
    inc dword [irq_count]
    mov eax, [ebp+4]
    cmp eax, at_cli
    je .at
    cmp eax, at_cli2
    je .at
    cmp eax, at_cli3
    jne .eoi
.at:
    mov dword [at_cli_seen], 1
.eoi:
    mov al, 0x20                    ; OCW2: non-specific EOI
    out 0x20, al
    pop eax
    pop ebp
    iretd

irq_count: dd 0
at_cli_seen: dd 0

    times (4096 - (($ - $$) % 4096)) + 4096 - 1 db 0x90  ; to the last byte of a page
page_sti:
    sti                             ; the page's last byte
    nop                             ; the next page's first byte, in STI's shadow
at_cli3:
    cli
    jmp page_back
    times 8192 db 0                 ; nothing else (the stacks after it) on the NOP's page
%include "end.inc"
