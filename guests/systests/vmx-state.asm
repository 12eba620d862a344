; Guest state saved on VM exits and the MSR areas (Intel SDM vol. 3C, 27.3.4 saving
; non-register state, 27.4 saving MSRs, 27.6 loading MSRs, 25.3 TSC offsetting): the
; interruptibility state after STI and MOV SS (blocking by STI / by MOV SS) and with none,
; the activity state of an L2 halted by HLT (no HLT exiting) when the preemption timer
; ends it (HLT, RIP after the HLT), RDTSC under a TSC offset of 2^62 (only the top bits of
; EDX printed), and on each exit the VM-exit MSR-store area (IA32_SYSENTER_CS as L2 set it)
; and MSR-load area (IA32_SYSENTER_ESP given to L1), with the guest's own SYSENTER_ESP
; saved in the guest-state area.
; Reference: Bochs 2.7 with VMX (cpu model corei7_sandy_bridge_2600k).
%include "lib.inc"
%include "vmx.inc"

main:
    mov dword [want_proc], (1 << 3) | (1 << 28) ; use TSC offsetting, use MSR bitmaps
    call vmx_setup
    ; the VM-exit MSR-store area: IA32_SYSENTER_CS; the MSR-load area: IA32_SYSENTER_ESP
    mov dword [msr_store], 0x174
    mov dword [msr_load], 0x175
    mov dword [msr_load + 8], 0x5678
    VMWR 0x2006, msr_store          ; VM-exit MSR-store address
    VMWR 0x2007, 0
    VMWR 0x400e, 1                  ; count
    VMWR 0x2008, msr_load           ; VM-exit MSR-load address
    VMWR 0x2009, 0
    VMWR 0x4010, 1
    VMWR 0x2010, 0                  ; TSC offset 0x4000000000000000
    VMWR 0x2011, 0x40000000
    mov ecx, 0x481                  ; preemption timer offered? (appendix A.3.1)
    rdmsr
    shr edx, 6
    and edx, 1
    mov [has_timer], edx
    call vmx_run
    PUTSN "back in l1"
    vmxoff
    ret

; show_msrs: the stored SYSENTER_CS, L1's SYSENTER_ESP (loaded on exit), L2's saved one
show_msrs:
    PUTS "  exit msr-store sysenter_cs="
    PHEX [msr_store + 8]
    PUTS " l1 sysenter_esp="
    mov ecx, 0x175
    rdmsr
    PHEX eax
    PUTS " guest-state sysenter_esp="
    VMRD eax, 0x6824
    PHEX eax
    NL
    ret

l2_main:
    ; interruptibility state (table 24-3): saved as it was before the exiting instruction
    mov dword [extra_fields], F_STATE
    BSTEP "sti; vmcall"
    sti
    vmcall
    ESTEP
    cli
    mov dword [extra_fields], F_STATE
    mov dx, ss
    BSTEP "mov ss, dx; vmcall"
    mov ss, dx
    vmcall
    ESTEP
    mov dword [extra_fields], F_STATE
    STEP "vmcall (no blocking)", vmcall
    ; activity state: HLT without HLT exiting halts L2; the timer ends it
    cmp dword [has_timer], 0
    jne .timer
    L2NOTE "preemption timer not offered"
    jmp .notimer
.timer:
    CFG CMD_WRITE, GUEST_TIMER, 500
    CFG CMD_OR, PIN_CTLS, 1 << 6
    mov dword [extra_fields], F_STATE
    STEP "hlt, then the preemption timer", hlt
.notimer:
    ; TSC offsetting: RDTSC adds the offset (25.3)
    rdtsc
    shr edx, 28
    L2PRINT "rdtsc with offset 2^62: edx>>28", edx
    ; the MSR areas on exits
    mov ecx, 0x174
    mov eax, 0x1234
    xor edx, edx
    wrmsr
    mov ecx, 0x175
    mov eax, 0xabcd
    wrmsr
    L2NOTE "l2 wrote sysenter_cs=1234 sysenter_esp=abcd"
    CFG CMD_CALL, show_msrs, 0
    L2DONE

align 4
has_timer:  dd 0

section .bss
alignb 16
msr_store:  resb 16
msr_load:   resb 16
section .text
%include "end.inc"
