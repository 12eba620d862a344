; VM exits due to instructions (Intel SDM vol. 3C, 25.1.2-25.1.3 which instructions exit,
; 27.2.1 the exit qualification, 27.2.4 the instruction information, 27.2.5 the
; instruction length; appendix C the basic exit reasons): an L1 hypervisor (vmx.inc) runs
; an L2 guest in 32-bit protected mode through CPUID, HLT, INVLPG, RDTSC, RDPMC, INVD,
; WBINVD, PAUSE, MONITOR, MWAIT, VMCALL, VMX instructions in VMX non-root operation, MOV
; from/to CR3 (CR3-store/load exiting, CR3-target values), MOV to CR0/CR4 against their
; guest/host masks and read shadows, CLTS, LMSW (register and memory), MOV DR, I/O
; (unconditional, then I/O bitmaps: IN/OUT with an immediate and DX, INS/OUTS with REP,
; sizes, a range crossing into a set bit, a wrap past 0xFFFF), RDMSR/WRMSR with and without
; MSR bitmaps, descriptor-table exiting, and exceptions through the exception bitmap (#UD,
; #BP, #DE, #GP with its error code, #PF with the error-code mask/match, one delivered to
; L2's own IDT). One line per exit (vmx.inc describes it).
; Reference: Bochs 2.7 with VMX (cpu model corei7_sandy_bridge_2600k).
%include "lib.inc"
%include "vmx.inc"

PROC_WANT equ (1 << 7) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 15) | \
    (1 << 16) | (1 << 23) | (1 << 24) | (1 << 29) | (1 << 30) ; HLT INVLPG MWAIT RDPMC
    ; RDTSC CR3-load CR3-store MOV-DR unconditional-I/O MONITOR PAUSE exiting (24.6.2)
PROC2_WANT equ (1 << 2) | (1 << 6)  ; descriptor-table exiting, WBINVD exiting

main:
    ; MONITOR and MWAIT exit only where they exist (#UD first otherwise, 25.1.1)
    mov eax, 1
    cpuid
    shr ecx, 3
    and ecx, 1
    PUTS "cpuid.1:ecx.monitor="
    PHEX8 ecx
    NL
    mov dword [want_proc], PROC_WANT
    mov dword [want_proc2], PROC2_WANT
    call vmx_setup
    ; I/O bitmap A: port 0x70; B: port 0x8004 (24.6.4)
    or byte [io_bitmap_a + 0x70 / 8], 1 << (0x70 & 7)
    or byte [io_bitmap_b + 0x0004 / 8], 1 << (0x0004 & 7)
    ; MSR bitmaps (24.6.9): read-low 0x174, write-low 0x175, read-high 0xc0000080
    or byte [msr_bitmap + 0x174 / 8], 1 << (0x174 & 7)
    or byte [msr_bitmap + 0x800 + 0x175 / 8], 1 << (0x175 & 7)
    or byte [msr_bitmap + 0x400 + 0x80 / 8], 1 << (0x80 & 7)
    call vmx_run
    PUTSN "back in l1"
    vmxoff
    ret

l2_main:
    STEP "cpuid", cpuid
    STEP "hlt", hlt
    STEP "invlpg [0x200000]", invlpg [0x200000]
    STEP "rdtsc", rdtsc
    xor ecx, ecx
    STEP "rdpmc", rdpmc
    STEP "invd", invd
    STEP "wbinvd", wbinvd
    STEP "pause", pause
    mov eax, l2_buf
    xor ecx, ecx
    xor edx, edx
    STEP "monitor", monitor
    xor eax, eax
    STEP "mwait (monitor not armed)", mwait
    xor eax, eax
    STEP "vmcall", vmcall
    ; VMX instructions (25.1.2: they exit unconditionally)
    mov dword [info_mask], 0xf0000478 ; reg1, mem/reg, reg2 (table 27-14)
    mov eax, 0x681e
    STEP "vmread ebx, eax", vmread ebx, eax
    mov dword [info_mask], 0xf0000478
    STEP "vmwrite ecx, edx", vmwrite ecx, edx
    mov ebx, l2_buf
    mov esi, 1
    mov dword [info_mask], 0x0fff8783 ; table 27-13: its defined bits
    STEP "vmptrld [ebx+esi*4+0x10]", vmptrld [ebx + esi*4 + 0x10]
    mov dword [info_mask], 0x0fc38780 ; no index: scaling and IndexReg undefined
    STEP "vmclear [es:ebx-8]", vmclear [es:ebx - 8]
    STEP "vmlaunch", vmlaunch
    STEP "vmresume", vmresume
    STEP "vmxoff", vmxoff

    ; CR3 (25.1.3: CR3-load exiting and the CR3-target values; CR3-store exiting)
    STEP "mov eax, cr3", mov eax, cr3
    mov eax, l2_pd
    STEP "mov cr3, eax (no cr3-target values)", mov cr3, eax
    CFG CMD_WRITE, CR3_TARGET0, l2_pd
    CFG CMD_WRITE, CR3_COUNT, 1
    STEP "mov cr3, eax (cr3-target value 0)", mov cr3, eax
    L2NOTE "mov cr3 to cr3-target value 0: no exit"
    mov ebx, page_dir
    STEP "mov cr3, ebx (not a cr3-target value)", mov cr3, ebx

    ; CR0: mask TS and NE, shadow NE=1 TS=0; the real TS set (24.6.6, 25.3)
    CFG CMD_WRITE, CR0_MASK, 0x28
    CFG CMD_WRITE, CR0_SHADOW, 0x20
    CFG CMD_OR, GUEST_CR0, 0x08
    mov eax, cr0
    L2PRINT "cr0 read (real ts=1, shadow ts=0)", eax
    xor ebx, ebx
    smsw bx                         ; (bits 31:16 of a 32-bit destination are undefined)
    L2PRINT "smsw (real ts=1, shadow ts=0)", ebx
    STEP "mov cr0, eax (masked bits equal the shadow)", mov cr0, eax
    L2NOTE "mov cr0 with the shadow's masked bits: no exit"
    mov ebx, eax
    or ebx, 8
    STEP "mov cr0, ebx (ts=1 against the shadow's 0)", mov cr0, ebx
    mov ecx, eax
    and ecx, ~0x20
    STEP "mov cr0, ecx (ne=0 against the shadow's 1)", mov cr0, ecx
    STEP "clts (mask ts=1, shadow ts=0)", clts
    L2NOTE "clts with shadow ts=0: no exit"
    CFG CMD_WRITE, CR0_SHADOW, 0x28
    STEP "clts (mask ts=1, shadow ts=1)", clts
    mov eax, 0x0011
    STEP "lmsw ax (ts=0 against the shadow's 1)", lmsw ax
    mov word [l2_buf], 0x0019
    STEP "lmsw [l2_buf] (ts=1, as the shadow)", lmsw [l2_buf]
    L2NOTE "lmsw with the shadow's ts: no exit"
    mov word [l2_buf], 0x0001
    mov dword [extra_fields], F_GLA ; the guest-linear address of the operand (27.2.1)
    STEP "lmsw [l2_buf] (ts=0 against the shadow's 1)", lmsw [l2_buf]
    CFG CMD_WRITE, CR0_MASK, 0
    ; CR4: mask VMXE and PCE, shadow 0
    CFG CMD_WRITE, CR4_MASK, 0x2100
    CFG CMD_WRITE, CR4_SHADOW, 0
    mov eax, cr4
    L2PRINT "cr4 read (real vmxe=1, shadow 0)", eax
    STEP "mov cr4, eax (masked bits equal the shadow)", mov cr4, eax
    L2NOTE "mov cr4 with the shadow's masked bits: no exit"
    mov edx, eax
    or edx, 0x100
    STEP "mov cr4, edx (pce=1 against the shadow's 0)", mov cr4, edx
    mov esi, eax
    or esi, 0x2000
    STEP "mov cr4, esi (vmxe=1 against the shadow's 0)", mov cr4, esi
    CFG CMD_WRITE, CR4_MASK, 0

    ; MOV DR (25.1.3, table 27-4)
    STEP "mov eax, dr7", mov eax, dr7
    STEP "mov dr1, ecx", mov dr1, ecx
    STEP "mov edi, dr6", mov edi, dr6

    ; I/O, unconditional (table 27-5)
    STEP "in al, 0x80", in al, 0x80
    STEP "out 0x71, ax", out 0x71, ax
    mov dx, 0x1234
    STEP "in eax, dx (0x1234)", in eax, dx
    STEP "out dx, al (0x1234)", out dx, al
    mov esi, l2_buf
    mov edi, l2_buf + 16
    mov ecx, 3
    mov dx, 0x5678
    mov dword [extra_fields], F_INFO | F_GLA
    mov dword [info_mask], 0x00038380 ; address size, segment (table 27-8)
    STEP "rep outsb (dx=0x5678, ecx=3)", rep outsb
    mov dword [extra_fields], F_INFO | F_GLA
    mov dword [info_mask], 0x00000380 ; address size (INS: ES, segment undefined)
    STEP "rep insw (dx=0x5678, ecx=3)", rep insw
    mov dword [extra_fields], F_INFO | F_GLA
    mov dword [info_mask], 0x00038380
    STEP "outsd (fs:, dx=0x5678)", fs outsd
    ; I/O bitmaps instead (25.1.3)
    CFG CMD_AND, PROC_CTLS, ~(1 << 24)
    CFG CMD_OR, PROC_CTLS, 1 << 25
    STEP "out 0x80, al (bitmap bit clear)", out 0x80, al
    L2NOTE "out 0x80 with its bitmap bit clear: no exit"
    STEP "in al, 0x70 (bitmap bit set)", in al, 0x70
    mov dx, 0x6f
    STEP "in ax, dx (0x6f-0x70, 0x70 set)", in ax, dx
    mov dx, 0x8004
    STEP "out dx, al (0x8004, bitmap b)", out dx, al
    mov dx, 0xfffe
    STEP "in eax, dx (0xfffe: wraps past 0xffff)", in eax, dx

    ; RDMSR/WRMSR (25.1.3, 24.6.9)
    mov ecx, 0x174
    STEP "rdmsr 0x174 (no msr bitmaps)", rdmsr
    mov ecx, 0x175
    STEP "wrmsr 0x175 (no msr bitmaps)", wrmsr
    CFG CMD_OR, PROC_CTLS, 1 << 28
    mov ecx, 0x174
    STEP "rdmsr 0x174 (read bit set)", rdmsr
    mov ecx, 0x175
    STEP "rdmsr 0x175 (read bit clear)", rdmsr
    L2PRINT "rdmsr 0x175 without exit: eax", eax
    mov ecx, 0x175
    STEP "wrmsr 0x175 (write bit set)", wrmsr
    mov ecx, 0xc0000080
    STEP "rdmsr 0xc0000080 (high read bit set)", rdmsr
    mov ecx, 0x40000000
    STEP "rdmsr 0x40000000 (outside both ranges)", rdmsr
    mov ecx, 0xc0002000
    STEP "wrmsr 0xc0002000 (outside both ranges)", wrmsr

    ; descriptor-table exiting (25.1.3; tables 27-10 and 27-11)
    mov ebx, l2_buf
    mov esi, 1
    mov dword [info_mask], 0x3fff8b83
    STEP "sgdt [ebx+esi*2+8]", sgdt [ebx + esi*2 + 8]
    mov dword [info_mask], 0x3fff8b83
    STEP "lidt [ss:ebx+esi*8-4]", lidt [ss:ebx + esi*8 - 4]
    mov dword [info_mask], 0x3fff87fb
    mov dword [extra_fields], F_QUAL
    STEP "sldt [ebx+esi*1+0x20]", sldt [ebx + esi*1 + 0x20]
    mov dword [info_mask], 0x30000478 ; register form: reg1, mem/reg, identity
    STEP "str edx", str edx
    mov dword [info_mask], 0x30000478
    STEP "lldt ax", lldt ax
    mov dword [info_mask], 0x30000478
    STEP "ltr si", ltr si

    ; exceptions through the exception bitmap (25.2, 27.2.2): #DE #BP #UD #GP #PF
    CFG CMD_WRITE, EXC_BITMAP, (1 << 0) | (1 << 3) | (1 << 6) | (1 << 13) | (1 << 14)
    STEP "ud2", ud2
    STEP "int3", int3
    mov eax, 1
    xor edx, edx
    xor ecx, ecx
    STEP "div ecx (0)", div ecx
    mov ax, 0x1230
    STEP "mov fs, ax (0x1230, beyond the gdt)", mov fs, ax
    STEP "mov eax, [L2_HOLE] (not present)", mov eax, [L2_HOLE]
    STEP "mov [L2_HOLE], eax (not present)", mov [L2_HOLE], eax
    ; #PF error-code mask and match (25.2): bit 14 set, exit iff (PFEC & mask) == match
    CFG CMD_WRITE, PF_MASK, 2
    CFG CMD_WRITE, PF_MATCH, 2
    STEP "mov [L2_HOLE], eax (pfec 2: matches)", mov [L2_HOLE], eax
    STEP "mov eax, [L2_HOLE] (pfec 0: to l2's idt)", mov eax, [L2_HOLE]
    L2NOTE "read fault not matching: delivered in l2"
    ; bit 14 clear: exit iff (PFEC & mask) != match
    CFG CMD_AND, EXC_BITMAP, ~(1 << 14)
    STEP "mov eax, [L2_HOLE] (bit 14 clear, pfec 0)", mov eax, [L2_HOLE]
    STEP "mov [L2_HOLE], eax (bit 14 clear, pfec 2: to l2's idt)", mov [L2_HOLE], eax
    L2NOTE "write fault matching with bit 14 clear: delivered in l2"
    CFG CMD_WRITE, EXC_BITMAP, 0
    STEP "ud2 (bitmap clear: to l2's idt)", ud2
    L2DONE

%include "end.inc"
