; Unrestricted guest (Intel SDM vol. 3C, 24.6.2, 26.2.1.1, 26.3.1, 25.3): L2 in real mode
; (CR0.PE = PG = 0) under an identity EPT. VM entry checks first: unrestricted guest
; without EPT (VMfailValid 7), CR0.PG without PE (exit reason 33), injecting a hardware
; exception with an error code into real mode (7: no error code when CR0.PE = 0). Then
; L2 runs 16-bit code at CS = 0xffff (base 0xffff0; the data segments are 4 GiB "unreal"
; segments for its bookkeeping): CPUID, IN with unconditional I/O exiting, HLT, a #UD
; through the exception bitmap, MOV from CR0 (PE and PG clear, no exit), and a #GP
; injected without an error code, delivered through the real-mode IVT (the handler sees
; IP relative to the step), each exit printed as in vmx.inc (RIP = IP).
; Reference: Bochs 2.7 with VMX (cpu model corei7_sandy_bridge_2600k).
%include "lib.inc"
%include "vmx.inc"

EPT_RWX     equ 7
EPT_WB      equ 6 << 3
REAL_CS     equ 0xffff
REAL_BASE   equ 0xffff0
REAL_SP     equ 0x7c00

; ECASE_R "text", field, value: one VMLAUNCH with the field changed, then restored
%macro ECASE_R 3
    PUTS %1
    PUTS ": "
    mov eax, %2
    vmread [saved], eax
    mov edx, %3
    call vmwr
    call vmx_run
    mov eax, %2
    mov edx, [saved]
    call vmwr
    vmclear [p_vmcs]
    vmptrld [p_vmcs]
%endmacro

main:
    ; an identity EPT of 2 MiB pages for 0-8 MiB (28.2.2)
    mov dword [ept_pml4], ept_pdpt + EPT_RWX
    mov dword [ept_pdpt], ept_pd + EPT_RWX
    xor ecx, ecx
.pd:
    mov eax, ecx
    shl eax, 21
    or eax, EPT_WB + EPT_RWX + 0x80
    mov [ept_pd + ecx*8], eax
    inc ecx
    cmp ecx, 4
    jb .pd
    ; IVT[13] -> the real-mode #GP handler
    mov word [13*4], real_gp - REAL_BASE
    mov word [13*4 + 2], REAL_CS

    mov dword [want_proc], (1 << 7) | (1 << 24) ; HLT exiting, unconditional I/O exiting
    mov dword [want_proc2], (1 << 1) | (1 << 7) ; enable EPT, unrestricted guest
    call vmx_setup
    VMWR EPT_POINTER, ept_pml4 + 6 + (3 << 3)
    VMWR EPT_POINTER + 1, 0
    VMWR EXC_BITMAP, 1 << 6
    ; real-mode guest state (26.3.1.1-26.3.1.2 with "unrestricted guest" 1)
    VMWR GUEST_CR0, 0x30            ; NE, ET
    VMWR GUEST_CR4, 1 << 13         ; VMXE (IA32_VMX_CR4_FIXED0)
    VMWR 0x0802, REAL_CS            ; CS
    VMWR 0x6808, REAL_BASE
    VMWR 0x4802, 0xffff
    ; CS: type 3, DPL 0, as after reset. (Type 11 would pass the SDM's checks too, 26.3.1.2:
    ; CS.DPL = SS.DPL; Bochs 2.7 checks CS.DPL against the selector's RPL, 3 here, instead.)
    VMWR 0x4816, 0x93
    VMWR 0x0804, 0                  ; SS
    VMWR 0x680a, 0
    VMWR 0x4804, 0xffff
    VMWR 0x4818, 0x93
    mov ebx, 0x0800                 ; ES, DS, FS, GS: base 0, 4 GiB
.data:
    cmp ebx, 0x0802
    je .skip
    cmp ebx, 0x0804
    je .skip
    mov eax, ebx
    xor edx, edx
    call vmwr
    lea eax, [ebx - 0x0800 + 0x6806]
    call vmwr
    lea eax, [ebx - 0x0800 + 0x4800]
    mov edx, 0xffffffff
    call vmwr
    lea eax, [ebx - 0x0800 + 0x4814]
    mov edx, 0x8093
    call vmwr
.skip:
    add ebx, 2
    cmp ebx, 0x080c
    jb .data
    VMWR 0x6818, 0                  ; IDTR: the IVT
    VMWR 0x4812, 0x3ff
    VMWR GUEST_RSP, REAL_SP
    VMWR GUEST_RIP, l2_real - REAL_BASE

    ; VM-entry checks
    mov ecx, PROC2_CTLS
    vmread ebx, ecx
    and ebx, ~(1 << 1)
    mov [proc2_noept], ebx
    ECASE_R "unrestricted guest without ept", PROC2_CTLS, [proc2_noept]
    ECASE_R "guest cr0.pg=1 with pe=0", GUEST_CR0, 0x80000030
    VMWR ENTRY_ERR, 0
    ECASE_R "inject #gp with an error code into real mode", ENTRY_INTR, 0x80000b0d
    PUTSN "l2 in real mode:"
    call vmx_run
    PUTSN "back in l1"
    vmxoff
    ret


bits 16
%define STEP_BASE REAL_BASE
l2_real:
l2_main      equ l2_real     ; (vmx_setup's protected-mode RIP, replaced below)
    STEP "cpuid (real mode)", cpuid
    mov dx, 0x1234
    STEP "in al, dx (real mode)", in al, dx
    STEP "hlt (real mode)", hlt
    STEP "ud2 (real mode)", ud2
    mov eax, cr0
    L2PRINT "cr0 read in real mode", eax
    BSTEP "#gp injected without an error code"
    mov eax, CMD_WRITE
    mov ebx, ENTRY_INTR
    mov ecx, 0x8000030d
    vmcall
    nop
    ESTEP
    L2DONE

; the real-mode #GP handler (IVT[13]): prints the saved IP relative to the step, returns
; to the step's end
real_gp:
    mov bp, sp
    movzx eax, word [bp]
    sub eax, [dword step_insn]
    L2PRINT "real-mode #gp handler, saved ip-step", eax
    mov eax, [dword step_next]
    mov [bp], ax
    iret
%define STEP_BASE 0
bits 32

align 4
saved:       dd 0
proc2_noept: dd 0

section .bss
alignb 4096
ept_pml4:   resb 4096
ept_pdpt:   resb 4096
ept_pd:     resb 4096
section .text
%include "end.inc"
