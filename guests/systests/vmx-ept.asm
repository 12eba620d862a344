; EPT and VPID (Intel SDM vol. 3C, 28.2 EPT, 28.1 VPID, 28.3.3 INVEPT/INVVPID, 27.2.1
; the qualification of EPT violations, table 27-7): L1 prints the EPT/VPID capabilities it
; relies on, builds an identity EPT (4 levels; 4 KiB pages for the first 2 MiB, 2 MiB pages
; above), checks the EPTP and VPID at VM entry (VMfailValid 7), runs INVEPT and INVVPID of
; each type in VMX root operation (VMfailValid 28 for the invalid ones), then L2 runs
; with EPT and VPID 1: INVEPT and INVVPID exit (reasons 50, 53: displacement and
; instruction information); EPT violations (reason 48) for a read of a page EPT does not
; map, a write to a read-only page, a fetch from a page without execute access, a guest
; paging-structure read (bit 8 clear), a stack write during delivery of INT n (IDT-vectoring
; information); the page mapped by L1 afterwards (INVEPT) reads back; an EPT misconfiguration (reason 49: write without read). Guest-physical and
; guest-linear addresses printed with each.
; Reference: Bochs 2.7 with VMX (cpu model corei7_sandy_bridge_2600k).
%include "lib.inc"
%include "vmx.inc"

EPT_RWX     equ 7
EPT_WB      equ 6 << 3              ; memory type of a leaf (28.2.6)
L2_PT2_LIN  equ 0x400000            ; L2 maps 4-8 MiB through l2_pt2

; EPTE label: EAX = the index of the label's page in ept_pt
%macro EPTE 1
    mov eax, %1
    shr eax, 12
%endmacro
; INVX "text", instruction, type, descriptor: INVEPT/INVVPID in root operation, prints the result
%macro INVX 4
    PUTS %1
    PUTS ": "
    mov eax, %3
    %2 eax, [%4]
    pushfd
    pop eax
    test eax, 0x41
    jnz %%fail
    PUTSN "ok"
    jmp %%end
%%fail:
    push eax
    call print_vmfail
%%end:
%endmacro

main:
    ; what this CPU offers (IA32_VMX_EPT_VPID_CAP, appendix A.10)
    mov ecx, 0x48c
    rdmsr
    PUTS "ept_vpid_cap: execute-only="
    mov ebx, eax
    and ebx, 1
    PHEX8 ebx
    PUTS " 4-level="
    mov ebx, eax
    shr ebx, 6
    and ebx, 1
    PHEX8 ebx
    PUTS " wb="
    mov ebx, eax
    shr ebx, 14
    and ebx, 1
    PHEX8 ebx
    PUTS " 2m="
    mov ebx, eax
    shr ebx, 16
    and ebx, 1
    PHEX8 ebx
    PUTS " a/d="
    mov ebx, eax
    shr ebx, 21
    and ebx, 1
    PHEX8 ebx
    PUTS " invept single,all="
    mov ebx, eax
    shr ebx, 25
    and ebx, 3
    PHEX8 ebx
    PUTS " invvpid="
    mov ebx, edx
    and ebx, 1
    PHEX8 ebx
    PUTS " types="
    mov ebx, edx
    shr ebx, 8
    and ebx, 0xf
    PHEX8 ebx
    NL

    ; the identity EPT (28.2.2): PML4[0] -> PDPT, PDPT[0] -> PD, PD[0] -> PT (4 KiB pages
    ; for 0-2 MiB), PD[1..3] 2 MiB pages
    mov dword [ept_pml4], ept_pdpt + EPT_RWX
    mov dword [ept_pdpt], ept_pd + EPT_RWX
    mov dword [ept_pd], ept_pt + EPT_RWX
    mov dword [ept_pd + 8], 0x200000 + EPT_WB + EPT_RWX + 0x80
    mov dword [ept_pd + 16], 0x400000 + EPT_WB + EPT_RWX + 0x80
    mov dword [ept_pd + 24], 0x600000 + EPT_WB + EPT_RWX + 0x80
    mov edi, ept_pt
    mov eax, EPT_WB + EPT_RWX
    mov ecx, 512
.pt:
    stosd
    add edi, 4
    add eax, 0x1000
    loop .pt
    ; the test pages: not mapped, read/execute, read/write, write-only (misconfigured)
    EPTE page_np
    mov dword [ept_pt + eax*8], 0
    EPTE page_ro
    and dword [ept_pt + eax*8], ~2
    EPTE page_nx
    and dword [ept_pt + eax*8], ~4
    EPTE page_wo
    and dword [ept_pt + eax*8], ~5
    EPTE page_stack
    mov dword [ept_pt + eax*8], 0
    mov dword [page_np], 0x600d600d
    mov byte [page_nx], 0xc3
    ; L2 maps 4-8 MiB through l2_pt2, a page table EPT does not map
    mov edi, l2_pt2
    mov eax, L2_PT2_LIN + 7
    mov ecx, 1024
.pt2:
    stosd
    add eax, 0x1000
    loop .pt2
    EPTE l2_pt2
    mov dword [ept_pt + eax*8], 0

    mov dword [want_proc2], (1 << 1) | (1 << 5) ; enable EPT, enable VPID (24.6.2)
    call vmx_setup
    mov dword [l2_pd + 4], l2_pt2 + 7
    mov dword [eptp], ept_pml4 + 6 + (3 << 3) ; WB, 4-level walk (24.6.11)
    VMWR EPT_POINTER, [eptp]
    VMWR EPT_POINTER + 1, 0

    ; VM entry checks on EPTP and VPID (26.2.1.1)
    VMWR EPT_POINTER, ept_pml4 + 6 + (1 << 3)
    PUTS "eptp with a 2-level walk: "
    call vmx_run
    VMWR EPT_POINTER, ept_pml4 + 5 + (3 << 3)
    PUTS "eptp with memory type 5: "
    call vmx_run
    VMWR EPT_POINTER, [eptp]
    VMWR VPID, 0
    PUTS "enable vpid with vpid 0: "
    call vmx_run
    VMWR VPID, 1

    ; INVEPT/INVVPID in VMX root operation (28.3.3.1; VMfailValid(28) for a type not
    ; supported or an invalid VPID)
    mov eax, [eptp]
    mov [invept_desc], eax
    INVX "invept single-context", invept, 1, invept_desc
    INVX "invept all-context", invept, 2, invept_desc
    INVX "invept type 0", invept, 0, invept_desc
    INVX "invept type 3", invept, 3, invept_desc
    mov dword [invvpid_desc], 1
    mov dword [invvpid_desc + 8], 0x1000
    INVX "invvpid individual-address, vpid 1", invvpid, 0, invvpid_desc
    INVX "invvpid single-context, vpid 1", invvpid, 1, invvpid_desc
    INVX "invvpid all-context", invvpid, 2, invvpid_desc
    INVX "invvpid single-context retaining globals, vpid 1", invvpid, 3, invvpid_desc
    INVX "invvpid type 4", invvpid, 4, invvpid_desc
    mov dword [invvpid_desc], 0
    INVX "invvpid single-context, vpid 0", invvpid, 1, invvpid_desc
    mov dword [invvpid_desc], 0x10001
    INVX "invvpid single-context, descriptor bits 63:16 set", invvpid, 1, invvpid_desc
    mov dword [invvpid_desc], 1

    PUTSN "l2 with ept and vpid 1:"
    call vmx_run
    PUTSN "back in l1"
    vmxoff
    ret

; ept_map: EAX = a guest-physical page of the first 2 MiB; maps it read/write/execute
; (identity) and invalidates the EPT-derived translations (INVEPT single-context)
ept_map:
    mov edx, eax
    shr edx, 12
    or eax, EPT_WB + EPT_RWX
    mov [ept_pt + edx*8], eax
    mov eax, 1
    invept eax, [invept_desc]
    ret

l2_main:
    ; INVEPT and INVVPID exit unconditionally in VMX non-root operation (25.1.2)
    mov ebx, l2_buf
    mov esi, 2
    mov eax, 1
    mov dword [info_mask], 0xffff8783 ; table 27-9: its defined bits
    STEP "invept eax, [ebx+esi*2+8]", invept eax, [ebx + esi*2 + 8]
    mov ecx, 2
    mov dword [info_mask], 0xffff8783
    STEP "invvpid ecx, [ebx+esi*8-0x10]", invvpid ecx, [ebx + esi*8 - 0x10]
    ; EPT violations (28.2.3.2, table 27-7)
    mov dword [extra_fields], F_GLA
    STEP "read of a page ept does not map", mov eax, [page_np + 0x10]
    CFG CMD_CALL, ept_map, page_np
    STEP "the same read once l1 mapped it", mov eax, [page_np]
    L2PRINT "read", eax
    mov dword [extra_fields], F_GLA
    STEP "write to a read-only page", mov dword [page_ro + 0x24], 1
    mov dword [extra_fields], F_GLA
    STEP "read of a read-only page", mov eax, [page_ro + 0x24]
    L2NOTE "read of the read-only page: no exit"
    mov eax, page_nx
    mov dword [extra_fields], F_GLA
    STEP "fetch from a page without execute access", jmp eax
    mov dword [extra_fields], F_GLA
    STEP "read of a page whose guest pte ept does not map", mov eax, [L2_PT2_LIN + 0x3008]
    ; an EPT violation during delivery of INT 0x20: its stack is in a page EPT does not
    ; map (27.2.3: IDT-vectoring information and the length of INT n)
    mov [saved_esp], esp
    mov esp, page_stack + 4         ; EFLAGS, pushed first, is the only write in that page
    mov dword [extra_fields], F_GLA
    STEP "int 0x20 with its stack in a page ept does not map", int 0x20
    mov esp, [saved_esp]
    ; EPT misconfiguration (28.2.3.1): write access without read access
    STEP "read of a page mapped write-only (misconfigured)", mov eax, [page_wo + 8]
    L2DONE

align 16
saved_esp:    dd 0
eptp:         dd 0, 0
invept_desc:  dd 0, 0, 0, 0
invvpid_desc: dd 1, 0, 0, 0

section .bss
alignb 4096
ept_pml4:   resb 4096
ept_pdpt:   resb 4096
ept_pd:     resb 4096
ept_pt:     resb 4096
l2_pt2:     resb 4096
page_np:    resb 4096
page_ro:    resb 4096
page_nx:    resb 4096
page_wo:    resb 4096
page_stack: resb 4096
section .text
%include "end.inc"
