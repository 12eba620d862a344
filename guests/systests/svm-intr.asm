; AMD-V physical interrupt intercept (AMD APM vol. 2, "Interrupt Intercepts": INTR, exit
; code 0x60; "Virtual Interrupts": with V_INTR_MASKING the host's EFLAGS.IF, saved by
; VMRUN, masks physical interrupts). The L1 remaps the PIC to 0x20 with IRQ0 alone
; unmasked and runs the L2 guest with its own IF set (svm.inc l1_sti: CLGI, STI, VMRUN);
; the L2 guest starts the PIT (channel 0, mode 0, a 55 ms count) and halts; IRQ0 raises
; INTR, which the L1 intercepts: #VMEXIT(INTR) with the guest's RIP after its HLT and
; the interrupt still pending in the PIC (an intercepted INTR is not acknowledged). The
; L1 masks IRQ0 and, as a VMM does, injects vector 0x20 into the guest (EVENTINJ type 0),
; which the L2 guest's handler prints. The wasmvisor harness raises the vector at the L2
; guest's HLT (test/system/guests.ts), as the PIT does under the references.
; References: Bochs 2.7 (phenom_8650_toliman) and QEMU 7.2 (-cpu phenom).
%include "lib.inc"
%include "svm.inc"

svm_setup:
    mov dword [l1_sti], 1
    mov dword [vmcb + V_MISC1], I_INTR | I_SHUTDOWN
    ; PIT channel 0 in mode 0 with the longest count: a periodic timer left by firmware
    ; stops (its next edge is 55 ms away; the L2 guest starts it again), then the PIC
    ; (its initialisation forgets requests seen before; 8259A datasheet, ICW1)
    mov al, 0x30
    out 0x43, al
    mov al, 0xff
    out 0x40, al
    out 0x40, al
    PIC_INIT
    ret

; exits without a record: INTR (IRQ0 masked at the PIC, vector 0x20 injected, the
; intercept off); anything else ends the guest
svm_noinfo:
    cmp eax, 0x60
    jne .other
    mov al, 0xff
    out 0x21, al
    and dword [vmcb + V_MISC1], ~I_INTR
    mov dword [vmcb + V_EVENTINJ], 0x80000000 | (0 << 8) | 0x20
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
    mov al, 0x30                    ; PIT channel 0, lobyte/hibyte, mode 0
    out 0x43, al
    mov al, 0xff
    out 0x40, al
    out 0x40, al
    ; the guest's IF does not mask INTR here (V_INTR_MASKING), but with it clear Bochs 2.7
    ; never leaves the HLT (the APM has the intercepted INTR end it): IF set
    sti
    hlt
    cli
    L2PUTS "after hlt"
    L2_END
l2_code_end:

%include "end.inc"
