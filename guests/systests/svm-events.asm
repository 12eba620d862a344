; AMD-V event injection, virtual interrupts and the shutdown intercept (AMD APM vol. 2,
; 15.20 "Event Injection", 15.21 "Virtual Interrupts", "Miscellaneous Intercepts":
; SHUTDOWN). The L1 (svm.inc) asks for events through EVENTINJ and the L2 guest's own IDT
; handlers print what they receive ("  l2: vector NN err=... eip=..."): a #GP with an
; error code, a software interrupt, an external interrupt, an NMI, #UD, a #PF whose CR2
; the VMM set (VMRUN loads CR2 from the VMCB, 15.5.1); V_IRQ with the VINTR intercept,
; then taken through the guest's IDT, V_TPR masking; and last an L2 triple fault,
; intercepted as #VMEXIT(SHUTDOWN). References: QEMU 7.2 (-cpu phenom) and Bochs 2.7
; (phenom_8650_toliman); this guest's fixture is QEMU's (Bochs 2.7 does not load CR2 on
; VMRUN, has no shutdown intercept and does not take a pending V_IRQ at the first
; instruction after VMRUN): test/system/references.test.ts.
%include "lib.inc"
%include "svm.inc"

svm_setup:
    mov dword [vmcb + V_MISC1], I_SHUTDOWN
    ret

; exits without a record: the VINTR window (V_IRQ as the exit wrote it back, APM 15.21:
; still pending; then the intercept off and V_IRQ set again so the guest takes it); a
; shutdown ends the guest (its EXITINTINFO, the #UD whose delivery failed, is QEMU's
; choice: the APM does not say which event of a triple fault it names)
svm_noinfo:
    cmp eax, EXIT_VINTR
    jne .other
    mov eax, [vmcb + V_VINTR]
    shr eax, 8
    and eax, 1
    PUTS "  v_irq after the exit="
    PHEX8 eax
    NL
    and dword [vmcb + V_MISC1], ~I_VINTR
    or dword [vmcb + V_VINTR], 1 << 8
    xor eax, eax
    ret
.other:
    mov eax, 1
    ret
svm_fix:
svm_call:
    ret

l2_code:
l2_main:
    ; event injection (15.20): EVENTINJ = vector 7:0, type 10:8 (0 INTR, 2 NMI,
    ; 3 exception, 4 software interrupt), EV (error code valid) 11, V 31; error code 63:32
    VMW V_EVENTINJ + 4, 0x1234
    VMW V_EVENTINJ, 0x80000000 | (1 << 11) | (3 << 8) | 13
    L2PUTS "after #gp(0x1234) injected"
    VMW V_EVENTINJ, 0x80000000 | (4 << 8) | 0x31
    L2PUTS "after int 0x31 injected"
    VMW V_EVENTINJ, 0x80000000 | (0 << 8) | 0x40
    L2PUTS "after interrupt 0x40 injected"
    VMW V_EVENTINJ, 0x80000000 | (3 << 8) | 6
    L2PUTS "after #ud injected"
    VMW V_EVENTINJ, 0x80000000 | (2 << 8) | 2
    L2PUTS "after nmi injected"
    ; #PF: the VMM writes CR2 itself (injection does not)
    VMW V_CR2, 0x00dead00
    VMW V_EVENTINJ + 4, 0x2
    VMW V_EVENTINJ, 0x80000000 | (1 << 11) | (3 << 8) | 14
    mov eax, cr2
    PUTS "  l2: after #pf injected, cr2="
    PHEX eax
    NL
    ; virtual interrupts (15.21): V_IRQ with vector 0x41, priority 15, V_IGN_TPR; the
    ; VINTR intercept exits when the guest could take it (IF=1, no STI shadow), then
    ; with the intercept off the guest takes it through its IDT
    cli
    VMOR V_MISC1, I_VINTR
    VMW V_VINTR_VEC, 0x41
    VMW V_VINTR, (1 << 24) | (1 << 20) | (15 << 16) | (1 << 8)
    L2PUTS "v_irq set, if=0"
    sti
    nop
    nop
    nop
    nop
    nop
    cli
    L2PUTS "after the virtual interrupt"
    VMW V_VINTR, (1 << 24) | (1 << 20) | (15 << 16) | (1 << 8)
    L2PUTS "v_irq set again, not intercepted, if=0"
    sti
    nop
    nop
    nop
    cli
    L2PUTS "after the second virtual interrupt"
    ; V_TPR (15.21): priority 3 under V_TPR 5 is not taken, under V_TPR 0 it is
    VMW V_VINTR, (1 << 24) | (3 << 16) | (1 << 8) | 5
    sti
    nop
    nop
    cli
    L2PUTS "priority 3, v_tpr 5: not taken"
    VMW V_VINTR, (1 << 24) | (3 << 16) | (1 << 8) | 0
    sti
    nop
    nop
    cli
    L2PUTS "after v_tpr 0"
    ; shutdown (APM "Miscellaneous Intercepts"): an exception the guest cannot deliver
    ; (IDT limit 0), no exception intercepted: a triple fault, #VMEXIT(SHUTDOWN) 0x7f
    lidt [l2_null_idt]
    ud2
    L2PUTS "still running after the triple fault"
    L2_END
l2_null_idt: dw 0
    dd 0
l2_code_end:

%include "end.inc"
