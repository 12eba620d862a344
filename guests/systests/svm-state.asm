; The state a #VMEXIT writes and loads, and VMSAVE/VMLOAD (AMD APM vol. 2: "#VMEXIT",
; "VMSAVE and VMLOAD Instructions"; the VMCB state-save area of appendix B, table B-2,
; with segment attributes in the VMCB's 12-bit format: descriptor bits 47:40 in 7:0 and
; 55:52 in 11:8). The L2 guest sets EAX, ESP and EFLAGS.CF, then runs an intercepted
; CPUID right after STI (inside its interrupt shadow) and a second one outside it; after
; each exit the L1 prints the guest state the exit saved: ES, CS, SS, DS (selector,
; attributes, limit, base), GDTR and IDTR (limit, base), CR0, CR2, CR3, CR4, DR6, DR7,
; EFER, RFLAGS, RIP, RSP, RAX, CPL and the interrupt shadow (control offset 68h), and its
; own state as the exit reloaded it (CR0, CR3, CR4, EFER, DR7 = 0x400, EFLAGS). Then
; VMSAVE to a second VMCB (FS, GS, TR, LDTR, SYSENTER_CS/ESP/EIP as the L1 has them) and
; VMLOAD from a third (an FS base and SYSENTER_CS the L1 then reads back). RDTSC in the
; L2 guest adds TSC_OFFSET.
; Not printed: the interrupt shadow bit (control offset 68h) of the exit inside STI's
; shadow, which the APM sets ("guest is in an interrupt shadow") and both references
; write as 0. References: Bochs 2.7 (phenom_8650_toliman) and QEMU 7.2 (-cpu phenom); see
; test/system/references.test.ts for the lines they differ on.
%include "lib.inc"
%define SVM_AFTER vm_save_load
%include "svm.inc"

; SEG "name", offset: "  name: sel=SSSS attr=AAAA limit=LLLLLLLL base=BBBBBBBBBBBBBBBB"
%macro SEG 2
    PUTS "  "
    PUTS %1
    PUTS ": sel="
    PHEX16 [ebx + %2]
    PUTS " attr="
    PHEX16 [ebx + %2 + 2]
    PUTS " limit="
    PHEX [ebx + %2 + 4]
    PUTS " base="
    PHEX [ebx + %2 + 12]
    PHEX [ebx + %2 + 8]
    NL
%endmacro
; Q "name", offset: "  name=QQQQQQQQQQQQQQQQ" (a 64-bit field of the VMCB at EBX)
%macro Q 2
    PUTS "  "
    PUTS %1
    PUTS "="
    PHEX [ebx + %2 + 4]
    PHEX [ebx + %2]
%endmacro

svm_setup:
    mov dword [vmcb + V_MISC1], I_CPUID
    mov dword [vmcb + V_TSC_OFF + 4], 0x70000000 ; TSC_OFFSET (APM "TSC Offset")
    ret

; svm_fix: after each CPUID exit, the saved guest state and the reloaded host state
svm_fix:
    pushad
    mov ebx, vmcb
    PUTSN "guest state saved by the exit:"
    SEG "es", V_ES
    SEG "cs", V_CS
    SEG "ss", V_SS
    SEG "ds", V_DS
    PUTS "  gdtr: limit="
    PHEX16 [ebx + V_GDTR + 4]
    PUTS " base="
    PHEX [ebx + V_GDTR + 12]
    PHEX [ebx + V_GDTR + 8]
    PUTS " idtr: limit="
    PHEX16 [ebx + V_IDTR + 4]
    PUTS " base="
    PHEX [ebx + V_IDTR + 12]
    PHEX [ebx + V_IDTR + 8]
    NL
    Q "cr0", V_CR0
    Q " cr2", V_CR2
    Q " cr3", V_CR3
    NL
    Q "cr4", V_CR4
    Q " dr6", V_DR6
    Q " dr7", V_DR7
    NL
    Q "efer", V_EFER
    Q " rflags", V_RFLAGS
    Q " rip", V_RIP
    NL
    Q "rsp", V_RSP
    Q " rax", V_RAX
    PUTS " cpl="
    PHEX8 [ebx + V_CPL]
    NL
    PUTS "host state loaded by the exit: cr0="
    mov eax, cr0
    PHEX eax
    PUTS " cr3="
    mov eax, cr3
    PHEX eax
    PUTS " cr4="
    mov eax, cr4
    PHEX eax
    PUTS " efer="
    mov ecx, MSR_EFER
    rdmsr
    PHEX eax
    NL
    PUTS "  dr7="
    mov eax, dr7
    PHEX eax
    PUTS " eflags="
    pushfd
    pop eax
    PHEX eax
    NL
    popad
    ret
svm_call:
    ret
svm_noinfo:
    mov eax, 1
    ret

l2_code:
l2_main:
    mov esp, l2_stack_top - 16
    mov eax, 0x11112222
    stc
    sti
    X "cpuid after sti", cpuid, A_SHOW
    cli
    mov eax, 0x33334444
    clc
    X "cpuid", cpuid, A_SHOW
    ; RDTSC not intercepted: the TSC plus TSC_OFFSET (only whether the offset shows is
    ; printed, never a TSC value)
    rdtsc
    xor eax, eax
    cmp edx, 0x70000000
    setae al
    PUTS "  l2: rdtsc with tsc_offset 0x7000000000000000: edx >= 0x70000000: "
    PHEX8 eax
    NL
    L2_END
l2_code_end:

; after the L2 guest: VMSAVE and VMLOAD in the L1
vm_save_load:
    rdtsc                           ; the host's TSC has no offset
    xor eax, eax
    cmp edx, 0x70000000
    setae al
    PUTS "host rdtsc: edx >= 0x70000000: "
    PHEX8 eax
    NL
    mov ecx, 0x174                  ; SYSENTER_CS, _ESP, _EIP
    mov eax, 0x1234
    xor edx, edx
    wrmsr
    inc ecx
    mov eax, 0x5678
    wrmsr
    inc ecx
    mov eax, 0x9abc
    wrmsr
    mov eax, vmcb2
    db 0x0f, 0x01, 0xdb             ; VMSAVE rAX
    mov ebx, vmcb2
    PUTSN "vmsave:"
    SEG "fs", V_FS
    SEG "gs", V_GS
    SEG "tr", V_TR
    SEG "ldtr", V_LDTR
    Q "sysenter_cs", 0x628
    Q " sysenter_esp", 0x630
    Q " sysenter_eip", 0x638
    NL
    ; VMLOAD: FS with base fs_target (a flat data segment), SYSENTER_CS 0x4321
    mov ebx, vmcb3
    mov word [ebx + V_FS], SEL_DATA0
    mov word [ebx + V_FS + 2], SEG_DATA
    mov dword [ebx + V_FS + 4], 0xffffffff
    mov dword [ebx + V_FS + 8], fs_target
    mov word [ebx + V_GS], SEL_DATA0
    mov word [ebx + V_GS + 2], SEG_DATA
    mov dword [ebx + V_GS + 4], 0xffffffff
    mov ax, [vmcb2 + V_TR]          ; TR and LDTR as VMSAVE found them
    mov [ebx + V_TR], ax
    mov eax, [vmcb2 + V_TR + 2]
    mov [ebx + V_TR + 2], eax
    mov eax, [vmcb2 + V_TR + 6]
    mov [ebx + V_TR + 6], eax
    mov eax, [vmcb2 + V_TR + 10]
    mov [ebx + V_TR + 10], eax
    mov dword [ebx + 0x628], 0x4321
    mov eax, ebx
    db 0x0f, 0x01, 0xda             ; VMLOAD rAX
    mov eax, [fs:0]
    PUTS "vmload: [fs:0]="
    PHEX eax
    mov ecx, 0x174
    rdmsr
    PUTS " sysenter_cs="
    PHEX eax
    NL
    mov ax, SEL_DATA0
    mov fs, ax
    ret

fs_target: dd 0xfeedbeef

section .bss
alignb 4096
vmcb2:      resb 4096
vmcb3:      resb 4096
section .text
%include "end.inc"
