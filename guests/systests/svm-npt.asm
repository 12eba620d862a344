; AMD-V nested paging (AMD APM vol. 2, 15.25) with the legacy 2-level format: the L1 runs
; 32-bit paging without PAE (CR4.PAE = 0, no long mode), so the nested tables at N_CR3
; have the legacy format (15.25: the nested walk uses the host's paging mode), and every
; nested access is a user access (15.25: U must be set at each level). The nested
; tables map guest-physical 0-8 MiB onto host-physical 0-8 MiB with 4 KiB pages except:
;   0x600000 not present        0x601000 read-only
;   0x602000 later remapped     0x604000 not present (it holds a RET)
;   0x605000 not present (it holds the L2 guest's page directory)
;   0x606000 read-only (written through the L2 guest's mapping of linear 0xe06000)
; Each #NPF (exit code 0x400) prints EXITINFO1 (the error code: P 0, RW 1, US 2, RSV 3,
; ID 4; bit 32 set when the fault is on the final guest-physical address, bit 33 when it
; is on a guest page-table access) and EXITINFO2 (the guest-physical address); the L1
; then makes that page present and writable and runs the L2 guest again at the same
; instruction. Then ASIDs and TLB_CONTROL (APM "TLB Control"): a guest-physical page is
; remapped, and the L2 guest sees the new mapping after TLB_CONTROL = 1 (flush all) and,
; after remapping it back, under a new ASID. What a stale entry would give without a
; flush is implementation-specific and not printed.
; References: Bochs 2.7 (phenom_8650_toliman) and QEMU 7.2 (-cpu phenom); see
; test/system/references.test.ts for the lines they differ on.
%include "lib.inc"
%include "svm.inc"

svm_setup:
    ; the nested page directory and two page tables, identity, P W U
    mov dword [npt_pd + 0], npt_pt0 + 7
    mov dword [npt_pd + 4], npt_pt1 + 7
    xor ecx, ecx
.fill:
    mov eax, ecx
    shl eax, 12
    or eax, 7
    mov [npt_pt0 + ecx*4], eax
    inc ecx
    cmp ecx, 2048                   ; npt_pt1 follows npt_pt0
    jb .fill
    mov dword [npt_pt1 + 0x200*4], 0            ; 0x600000 not present
    mov dword [npt_pt1 + 0x201*4], 0x601000 + 5 ; 0x601000 read-only
    mov dword [npt_pt1 + 0x204*4], 0            ; 0x604000 not present
    mov dword [npt_pt1 + 0x205*4], 0            ; 0x605000 not present
    mov dword [npt_pt1 + 0x206*4], 0x606000 + 5 ; 0x606000 read-only
    ; host-physical contents
    mov dword [0x600000], 0x11111111
    mov dword [0x601000], 0x22222222
    mov dword [0x602000], 0xaaaaaaaa
    mov dword [0x603000], 0xbbbbbbbb
    mov byte [0x604000], 0xc3       ; RET
    mov edi, 0x605000               ; the L2 page directory: 0-8 MiB, 4 MiB pages
    mov dword [edi + 0], 0x000000 | 0x83
    mov dword [edi + 4], 0x400000 | 0x83
    mov dword [edi + 12], 0x400000 | 0x83 ; and linear 0xc00000 onto 0x400000 too
    mov dword [vmcb + V_NP_ENABLE], 1
    mov dword [vmcb + V_NCR3], npt_pd
    mov dword [vmcb + V_MISC1], I_SHUTDOWN
    ret

; svm_fix: the page at EXITINFO2 present and writable; the next VMRUN flushes the TLB
; (TLB_CONTROL 1) as the entry may have been cached read-only
svm_fix:
    mov eax, [vmcb + V_EXITINFO2]
    cmp dword [vmcb + V_EXITINFO2 + 4], 0
    jne .out
    cmp eax, 0x800000
    jae .out
    shr eax, 12
    mov edx, eax
    shl edx, 12
    or edx, 7
    mov [npt_pt0 + eax*4], edx
    mov dword [vmcb + V_TLB_CTL], 1
.out:
    ret

; svm_call: remaps guest-physical page EBX to host-physical ECX (no flush)
svm_call:
    cmp ebx, 0x800000
    jae .out
    shr ebx, 12
    and ecx, ~0xfff
    or ecx, 7
    mov [npt_pt0 + ebx*4], ecx
.out:
    ret

; exits without a record: a #NPF (the page fixed, the same instruction again); anything
; else ends the guest
svm_noinfo:
    cmp eax, EXIT_NPF
    jne .other
    call svm_fix
    xor eax, eax
    ret
.other:
    mov eax, 1
    ret

%macro SHOWMEM 1
    PUTS "  l2: ["
    PUTS %1
    PUTS "]="
    PHEX eax
    NL
%endmacro

l2_code:
l2_main:
    X "read, not present", {mov eax, [0x600000]}, A_RETRY
    SHOWMEM "0x600000"
    mov eax, 0x33333333
    X "write, read-only", {mov [0x601000], eax}, A_RETRY
    mov eax, [0x601000]
    SHOWMEM "0x601000"
    mov eax, 0x604000
    X "call, fetch not present", {call eax}, A_RETRY
    L2PUTS "returned from 0x604000"
    ; guest paging with its page directory on a page the nested tables do not map: the
    ; first access after paging is on faults on the guest walk (EXITINFO1 bit 33)
    VMW V_TLB_CTL, 0
    mov eax, cr4
    or eax, 1 << 4                  ; PSE
    mov cr4, eax
    mov eax, 0x605000
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    L2PUTS "paging on"
    mov eax, [0x602000]
    SHOWMEM "0x602000"
    ; through the guest's own mapping: EXITINFO2 is the guest-physical address 0x606000,
    ; not the linear 0xe06000
    mov eax, 0x55555555
    X "write, read-only, at linear 0xe06000", {mov [0xe06000], eax}, A_RETRY
    mov eax, [0x606000]
    SHOWMEM "0x606000"
    ; ASID and TLB_CONTROL
    VMW V_TLB_CTL, 0
    mov ebx, 0x602000
    mov ecx, 0x603000
    X "", {db 0x0f, 0x01, 0xd9}, A_CALL
    VMW V_TLB_CTL, 1
    mov eax, [0x602000]
    SHOWMEM "0x602000 after the remap and tlb_control 1"
    VMW V_TLB_CTL, 0
    mov eax, [0x602000]
    mov ebx, 0x602000
    mov ecx, 0x602000
    X "", {db 0x0f, 0x01, 0xd9}, A_CALL
    VMW V_ASID, 2
    mov eax, [0x602000]
    SHOWMEM "0x602000 after the remap back and asid 2"
    L2_END
l2_code_end:

section .bss
alignb 4096
npt_pd:     resb 4096
npt_pt0:    resb 4096
npt_pt1:    resb 4096
section .text
%include "end.inc"
