; External-interrupt exiting with "acknowledge interrupt on exit" (Intel SDM vol. 3C,
; 24.6.1, 24.7.1, 25.2, 27.2.2): the PIC remapped to 0x20 with IRQ0 alone unmasked, the
; PIT's channel 0 in mode 0 raises IRQ0 once per arming while L2 waits in `jmp $`. The
; interrupt causes a VM exit (reason 1) whatever L2's RFLAGS.IF (first with IF=0, then with
; IF=1); the processor acknowledges it on exit, so the VM-exit interruption information
; holds its vector (0x80000020) and L1 sends the PIC its EOI. Then without acknowledge on
; exit: the information is invalid and the interrupt, still pending, reaches L1's own IDT
; when L1 sets IF. (The last case runs with L2's IF=1: Bochs 2.7 exits on an interrupt
; that arrives while L2 has IF=0 after VMLAUNCH, as the first case shows, but not after a
; VMRESUME that follows a CLI in L2; the SDM (25.2) ignores RFLAGS.IF for both.)
; Reference: Bochs 2.7 with VMX (cpu model corei7_sandy_bridge_2600k). wasmvisor's test
; harness has no PIT: it delivers vector 0x20 when the core asks for an interrupt window
; (test/system/guests.ts guestBootOptions).
%include "lib.inc"
%include "vmx.inc"

main:
    PIC_INIT
    mov dword [want_pin], 1         ; external-interrupt exiting
    mov dword [want_exit], 1 << 15  ; acknowledge interrupt on exit
    call vmx_setup
    mov dword [exit_hook], eoi_hook
    mov eax, 0x20
    mov ebx, l1_irq
    mov ecx, SEL_CODE0
    mov edx, 0x8e
    call set_gate
    call pit_arm
    call vmx_run
    PUTSN "back in l1"
    vmxoff
    ret

; pit_arm: channel 0, mode 0 (interrupt on terminal count), count 0x2000 (8254 datasheet)
pit_arm:
    mov al, 0x30                    ; channel 0, lobyte/hibyte, mode 0, binary
    out 0x43, al
    xor al, al
    out 0x40, al
    mov al, 0x20
    out 0x40, al
    ret

; eoi_hook (before each VMRESUME), after an external-interrupt exit: the PIC's EOI when
; the exit acknowledged the interrupt; else the interrupt is still pending (27.2.2) and L1
; takes it through its own IDT as soon as it sets IF
eoi_hook:
    cmp dword [exit_reason], 1
    jne .ret
    VMRD eax, EXIT_INTR
    test eax, eax
    jns .pending
    mov al, 0x20                    ; OCW2: non-specific EOI
    out 0x20, al
.ret:
    ret
.pending:
    sti
    nop
    cli
    ret

; L1's handler of vector 0x20
l1_irq:
    push eax
    PUTSN "  l1 took vector 0x20 (left pending by the exit)"
    mov al, 0x20
    out 0x20, al
    pop eax
    iretd

l2_main:
    cli
    STEP "jmp $ with if=0 (pit irq0)", jmp $
    CFG CMD_CALL, pit_arm, 0
    sti
    STEP "jmp $ with if=1 (pit irq0)", jmp $
    cli
    ; without "acknowledge interrupt on exit" the interrupt stays pending (27.2.2)
    CFG CMD_AND, EXIT_CTLS, ~(1 << 15)
    CFG CMD_CALL, pit_arm, 0
    sti                             ; (with IF=0 here Bochs 2.7 never exits: see above)
    STEP "jmp $ without acknowledge on exit (pit irq0)", jmp $
    cli
    L2DONE

%include "end.inc"
