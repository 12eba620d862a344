; VMRUN's consistency checks (AMD APM vol. 2, 15.5.1 "Basic Operation": the illegal guest
; states, for which VMRUN does not enter the guest and ends in #VMEXIT with EXITCODE
; VMEXIT_INVALID, -1; 15.20: an event injection of a reserved type or an exception vector
; that cannot be one). Each case starts from the VMCB of svm.inc's vmcb_defaults (a valid
; 32-bit guest whose first instruction is an intercepted VMMCALL, exit code 0x81), breaks
; one thing, runs VMRUN once and prints the exit. Then the VMRUN instruction's own
; faults (15.5: #UD with EFER.SVME clear, #GP for a VMCB address not 4 KiB aligned).
; Not here: EFER.LME with CR0.PG and CR0.PE = 0, which Bochs 2.7 does not reject (it
; stops with a panic, "EFER.LMA is set when CR0.PE=0").
; References: Bochs 2.7 (phenom_8650_toliman) and QEMU 7.2 (-cpu phenom); see
; test/system/references.test.ts for the lines they differ on.
%include "lib.inc"
%include "svm.inc"

; VCASE "text", {change}[, {change}...]: a fresh VMCB, the change, VMRUN, the exit printed
%macro VCASE 2-5
    call vmcb_defaults
    %2
    %3
    %4
    %5
    call vmrun_l2
    PUTS %1
    PUTS ": "
    call print_exit
%endmacro

svm_setup:
    VCASE "valid", {}
    VCASE "efer.svme=0", {and dword [vmcb + V_EFER], ~EFER_SVME}
    VCASE "cr0.cd=0 cr0.nw=1", {or dword [vmcb + V_CR0], 1 << 29}
    VCASE "cr0.cd=1 cr0.nw=1 (legal)", {or dword [vmcb + V_CR0], 3 << 29}
    VCASE "cr0[63:32]", {mov dword [vmcb + V_CR0 + 4], 1}
    VCASE "cr3[63:32]", {mov dword [vmcb + V_CR3 + 4], 1}
    VCASE "cr4[63:32]", {mov dword [vmcb + V_CR4 + 4], 1}
    VCASE "cr4 bit 31 (reserved)", {mov dword [vmcb + V_CR4], 1 << 31}
    VCASE "dr6[63:32]", {mov dword [vmcb + V_DR6 + 4], 1}
    VCASE "dr7[63:32]", {mov dword [vmcb + V_DR7 + 4], 1}
    VCASE "efer[63:32]", {mov dword [vmcb + V_EFER + 4], 1}
    VCASE "efer bit 31 (reserved)", {or dword [vmcb + V_EFER], 1 << 31}
    VCASE "efer.lme=1 cr0.pg=1 cr4.pae=0", \
        {or dword [vmcb + V_EFER], 1 << 8}, {mov dword [vmcb + V_CR0], 0x80000011}
    VCASE "efer.lme=1 cr0.pg=1 cr4.pae=1 cs.l=1 cs.d=1", \
        {or dword [vmcb + V_EFER], 1 << 8}, {mov dword [vmcb + V_CR0], 0x80000011}, \
        {mov dword [vmcb + V_CR4], 1 << 5}, {or word [vmcb + V_CS + 2], 1 << 9}
    VCASE "vmrun intercept clear", {and dword [vmcb + V_MISC2], ~I2_VMRUN}
    VCASE "asid 0", {mov dword [vmcb + V_ASID], 0}
    VCASE "msrpm_base_pa beyond physical memory", \
        {mov dword [vmcb + V_MSRPM + 4], 0xfffff}, {mov dword [vmcb + V_MSRPM], 0xfffff000}
    VCASE "iopm_base_pa beyond physical memory", \
        {mov dword [vmcb + V_IOPM + 4], 0xfffff}, {mov dword [vmcb + V_IOPM], 0xfffff000}
    VCASE "eventinj type 1 (reserved)", {mov dword [vmcb + V_EVENTINJ], 0x80000100 | 0x20}
    VCASE "eventinj exception vector 2", {mov dword [vmcb + V_EVENTINJ], 0x80000300 | 2}
    VCASE "eventinj exception vector 32", {mov dword [vmcb + V_EVENTINJ], 0x80000300 | 32}
    ; the instruction's own checks (15.5): #GP(0) for an address not 4 KiB aligned,
    ; #UD with EFER.SVME clear
    call vmcb_defaults
    CASE "vmrun, vmcb not 4 KiB aligned"
    mov eax, vmcb + 8
    db 0x0f, 0x01, 0xd8
    ENDTRY
    mov ecx, MSR_EFER
    rdmsr
    and eax, ~EFER_SVME
    wrmsr
    CASE "vmrun with efer.svme=0"
    mov eax, vmcb
    db 0x0f, 0x01, 0xd8
    ENDTRY
    CASE "vmmcall with efer.svme=0 (not in a guest)"
    db 0x0f, 0x01, 0xd9
    ENDTRY
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_SVME
    wrmsr
    CASE "vmmcall in the host"
    db 0x0f, 0x01, 0xd9
    ENDTRY
    call vmcb_defaults
    ret

svm_fix:
svm_call:
    ret
svm_noinfo:
    mov eax, 1
    ret

l2_code:
l2_main:
    L2_END
l2_code_end:

%include "end.inc"
