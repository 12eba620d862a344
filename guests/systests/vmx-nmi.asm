; NMIs in VMX non-root operation (Intel SDM vol. 3C, 24.6.1 NMI exiting, 25.2, 27.2.2): L2
; sends itself an NMI through the local APIC's ICR (SDM vol. 3A, 10.6.1: delivery mode NMI,
; physical destination 0, the APIC's own ID) and waits in `jmp $`. With "NMI exiting" the
; NMI causes a VM exit (reason 0, interruption information 0x80000202: vector 2, type NMI);
; L1 ends the NMI blocking the exit left in L1 with an IRET; without NMI exiting the next
; NMI goes through L2's own IDT (vector 2).
; Reference: Bochs 2.7 with VMX (cpu model corei7_sandy_bridge_2600k).
%include "lib.inc"
%include "vmx.inc"

APIC        equ 0xfee00000

main:
    mov dword [want_pin], 1 << 3    ; NMI exiting
    call vmx_setup
    mov dword [exit_hook], nmi_hook
    ; L1 and L2 map the local APIC's page (a 4 MiB page, cache disabled, 0xfec00000)
    mov dword [page_dir + 0x3fb * 4], 0xfec00000 | 0x9b
    mov dword [l2_pd + 0x3fb * 4], 0xfec00000 | 0x9b
    mov eax, cr3
    mov cr3, eax
    or dword [APIC + 0xf0], 0x100   ; spurious-interrupt vector register: APIC enabled
    call vmx_run
    PUTSN "back in l1"
    vmxoff
    ret

; nmi_hook (before each VMRESUME): an NMI exit leaves NMIs blocked in L1 (SDM vol. 3C,
; 27.5.5); L1 ends the blocking with an IRET to itself, as a VMM does after handling it,
; and resumes L2 without blocking by NMI (L2 never saw this NMI; Bochs 2.7 saves the
; blocking it set for the exit into L2's interruptibility state)
nmi_hook:
    cmp dword [exit_reason], 0
    jne .ret
    VMRD eax, EXIT_INTR
    and eax, 0x7ff
    cmp eax, 0x202                  ; type NMI, vector 2
    jne .ret
    VMRD edx, GUEST_INTERRUPTIBILITY
    and edx, ~8
    mov eax, GUEST_INTERRUPTIBILITY
    call vmwr
    pushfd
    push cs
    push .ret
    iretd
.ret:
    ret

l2_main:
    BSTEP "self nmi through the icr (nmi exiting)"
    mov dword [APIC + 0x310], 0     ; destination APIC ID 0
    mov dword [APIC + 0x300], 0x4400 ; delivery mode NMI, level assert, no shorthand
    jmp $
    ESTEP
    CFG CMD_AND, PIN_CTLS, ~(1 << 3)
    BSTEP "self nmi through the icr (no nmi exiting)"
    mov dword [APIC + 0x310], 0
    mov dword [APIC + 0x300], 0x4400
    jmp $
    ESTEP
    L2DONE

%include "end.inc"
