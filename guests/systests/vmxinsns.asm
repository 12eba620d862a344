; The VMX instructions that manage VMCSs, in VMX root operation (Intel SDM vol. 3C, chapter
; 31, and 24.7-24.8, 25.11): CPUID.1:ECX.VMX, IA32_FEATURE_CONTROL, IA32_VMX_BASIC and the
; CR0/CR4 fixed bits; VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE with their
; #UD and #GP(0) cases and every VMfailInvalid / VMfailValid(n) of their pseudocode (RFLAGS
; OF SF ZF AF PF CF printed as "fl=", then the VM-instruction error field); VMREAD/VMWRITE
; widths (a 16-bit field keeps 16 bits; the FULL encoding of a 64-bit field written in
; 32-bit mode clears its high half, 25.11.2 / VMWRITE); register and memory operands; the
; VMCS data kept across VMCLEAR and VMPTRLD; VMRESUME of a clear VMCS (error 5), VMLAUNCH
; with all-zero controls (error 7) and VMCALL in VMX root operation without a current VMCS
; (VMfailInvalid). With a current VMCS the SDM's VMCALL fails with VMfailValid(1); Bochs 2.7
; stops there ("VMCALL: not implemented yet"), so test/core/vmx.test.ts checks that case.
; Reference: Bochs 2.7 with VMX (cpu model corei7_sandy_bridge_2600k). VMX operation needs
; CR0.PE, NE and PG (IA32_VMX_CR0_FIXED0 = 0x80000021): paging is on, identity-mapped with
; 4 MiB pages. Not printed: the revision identifier and IA32_VMX_VMCS_ENUM (implementation
; specific), the fixed-1 masks (they list the CR bits each CPU has).
%include "lib.inc"

FL_MASK     equ 0x8d5               ; OF SF ZF AF PF CF
VMCS_ERR    equ 0x4400              ; VM-instruction error (SDM vol. 3C, table B-9)

; RES: prints "fl=XXXXXXXX" of the instruction just run, and a newline (EAX kept)
%macro RES 0
    pushfd
    push eax
    mov eax, [esp + 4]
    and eax, FL_MASK
    PUTS "fl="
    PHEX eax
    NL
    pop eax
    add esp, 4
%endmacro
; ERR: prints "  error=N" (VMREAD of the VM-instruction error field)
%macro ERR 0
    mov eax, VMCS_ERR
    vmread ebx, eax
    PUTS "  error="
    PHEX ebx
    NL
%endmacro
; VMX "text", insn...: prints "text: ", runs the instruction in TRY, prints RES
%macro VMX 2+
    PUTS %1
    PUTS ": "
    TRY
    %2
    RES
    jmp %$catch
    ENDTRY
%endmacro

main:
    ; identity map 0-8 MiB with 4 MiB pages (user-accessible for the ring-3 case)
    mov dword [page_dir + 0], 0x000000 | 0x87
    mov dword [page_dir + 4], 0x400000 | 0x87
    mov eax, cr4
    or eax, 1 << 4                  ; PSE
    mov cr4, eax
    mov eax, page_dir
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000020              ; PG, NE
    mov cr0, eax

    mov eax, 1
    cpuid
    shr ecx, 5
    and ecx, 1
    PUTS "cpuid.1:ecx.vmx="
    PHEX8 ecx
    NL
    mov ecx, 0x3a
    rdmsr
    test eax, 1
    jnz .locked
    mov eax, 5                      ; lock, VMX outside SMX (what firmware does)
    xor edx, edx
    wrmsr
.locked:
    mov ecx, 0x3a
    rdmsr
    and eax, 7
    PUTS "ia32_feature_control[2:0]="
    PHEX8 eax
    NL
    CASE "wrmsr ia32_feature_control once locked"
    mov ecx, 0x3a
    mov eax, 5
    xor edx, edx
    wrmsr
    ENDTRY
    mov ecx, 0x480
    rdmsr
    mov [revision], eax
    mov ebx, edx
    and ebx, 0x1fff
    PUTS "vmx_basic: region bytes="
    PHEX ebx
    shr edx, 18
    and edx, 0xf
    PUTS " memory type="
    PHEX8 edx
    PUTS " rev bit 31="
    shr eax, 31
    PHEX8 eax
    NL
    mov ecx, 0x486
    rdmsr
    PUTS "cr0_fixed0="
    PHEX eax
    mov ecx, 0x488
    rdmsr
    PUTS " cr4_fixed0="
    PHEX eax
    NL
    CASE "wrmsr ia32_vmx_basic"
    mov ecx, 0x480
    xor eax, eax
    xor edx, edx
    wrmsr
    ENDTRY

    ; the regions: VMXON, VMCS A, VMCS B (revision), C (revision + shadow bit), D (wrong)
    mov eax, [revision]
    mov [vmxon_region], eax
    mov [vmcs_a], eax
    mov [vmcs_b], eax
    or eax, 0x80000000
    mov [vmcs_c], eax
    mov eax, [revision]
    inc eax
    mov [vmcs_d], eax

    ; ---- outside VMX operation ----
    CASE "vmxon with cr4.vmxe=0"
    vmxon [p_vmxon]
    ENDTRY
    mov eax, cr4
    or eax, 1 << 13
    mov cr4, eax
    CASE "vmclear outside vmx operation"
    vmclear [p_a]
    ENDTRY
    CASE "vmptrld outside vmx operation"
    vmptrld [p_a]
    ENDTRY
    CASE "vmptrst outside vmx operation"
    vmptrst [scratch]
    ENDTRY
    CASE "vmread outside vmx operation"
    vmread ebx, eax
    ENDTRY
    CASE "vmwrite outside vmx operation"
    vmwrite eax, ebx
    ENDTRY
    CASE "vmxoff outside vmx operation"
    vmxoff
    ENDTRY
    CASE "vmcall outside vmx operation"
    vmcall
    ENDTRY
    ; VMXON's #GP(0) cases: CR0.NE clear, then CPL 3
    mov eax, cr0
    and eax, ~0x20
    mov cr0, eax
    CASE "vmxon with cr0.ne=0"
    vmxon [p_vmxon]
    ENDTRY
    mov eax, cr0
    or eax, 0x20
    mov cr0, eax
    CASE "vmxon at cpl 3"
    mov eax, r3_vmxon
    xor ecx, ecx
    call to_ring3
    ENDTRY
    VMX "vmxon, region not 4 KiB aligned", vmxon [p_vmxon_odd]
    VMX "vmxon, address above 4 GiB", vmxon [p_high]
    VMX "vmxon, wrong revision", vmxon [p_d]
    VMX "vmxon, revision with bit 31", vmxon [p_c]

    ; ---- VMX root operation, no current VMCS ----
    VMX "vmxon", vmxon [p_vmxon]
    VMX "vmxon in vmx root operation, no current vmcs", vmxon [p_vmxon]
    mov dword [scratch], 0x12345678
    mov dword [scratch + 4], 0x12345678
    VMX "vmptrst, no current vmcs", vmptrst [scratch]
    PUTS "  stored "
    PHEX [scratch + 4]
    PHEX [scratch]
    NL
    mov eax, 0x681e
    VMX "vmread, no current vmcs", vmread ebx, eax
    VMX "vmwrite, no current vmcs", vmwrite eax, ebx
    VMX "vmclear, vmxon pointer, no current vmcs", vmclear [p_vmxon]
    VMX "vmclear, address not aligned, no current vmcs", vmclear [p_vmxon_odd]
    VMX "vmptrld, wrong revision, no current vmcs", vmptrld [p_d]
    VMX "vmresume, no current vmcs", vmresume
    VMX "vmcall, no current vmcs", vmcall
    CASE "mov cr4 clearing vmxe in vmx operation"
    mov eax, cr4
    and eax, ~(1 << 13)
    mov cr4, eax
    ENDTRY
    CASE "mov cr0 clearing ne in vmx operation"
    mov eax, cr0
    and eax, ~0x20
    mov cr0, eax
    ENDTRY
    CASE "vmclear at cpl 3"
    mov eax, r3_vmclear
    xor ecx, ecx
    call to_ring3
    ENDTRY
    CASE "vmclear with a register operand"
    db 0x66, 0x0f, 0xc7, 0xf0       ; 66 0F C7 /6, mod = 11
    ENDTRY

    ; ---- a current VMCS ----
    VMX "vmclear a", vmclear [p_a]
    VMX "vmptrld a", vmptrld [p_a]
    VMX "vmptrst", vmptrst [scratch]
    PUTS "  stored "
    PHEX [scratch + 4]
    PHEX [scratch]
    PUTS " (a is "
    PHEX p_a_val
    PUTSN ")"
    VMX "vmptrld, address not aligned", vmptrld [p_vmxon_odd]
    ERR
    VMX "vmptrld, address above 4 GiB", vmptrld [p_high]
    ERR
    VMX "vmptrld, vmxon pointer", vmptrld [p_vmxon]
    ERR
    VMX "vmptrld, wrong revision", vmptrld [p_d]
    ERR
    VMX "vmptrld, revision with bit 31 (no vmcs shadowing)", vmptrld [p_c]
    ERR
    VMX "vmclear, address not aligned", vmclear [p_vmxon_odd]
    ERR
    VMX "vmclear, vmxon pointer", vmclear [p_vmxon]
    ERR
    VMX "vmxon in vmx root operation", vmxon [p_vmxon]
    ERR
    mov eax, 0x6001                 ; HIGH access of a natural-width field: none
    VMX "vmread 0x6001 (no such field)", vmread ebx, eax
    ERR
    mov eax, 0x00010800             ; reserved bits 31:15
    VMX "vmwrite 0x00010800 (reserved bits)", vmwrite eax, ebx
    ERR
    mov eax, 0x4402                 ; exit reason: a VM-exit information field
    mov ebx, 1
    VMX "vmwrite 0x4402 (read-only)", vmwrite eax, ebx
    ERR
    VMX "vmresume, vmcs clear", vmresume
    ERR
    CASE "vmread at cpl 3"
    mov eax, r3_vmread
    xor ecx, ecx
    call to_ring3
    ENDTRY

    ; widths (the field table of SDM vol. 3C, appendix B)
    mov eax, 0x0800                 ; GUEST_ES_SELECTOR, 16 bits
    mov ebx, 0xfedc1234
    VMX "vmwrite guest_es_selector", vmwrite eax, ebx
    mov ebx, 0xffffffff
    vmread ebx, eax
    PUTS "  reads "
    PHEX ebx
    NL
    mov eax, 0x4800                 ; GUEST_ES_LIMIT, 32 bits
    mov ebx, 0x89abcdef
    vmwrite eax, ebx
    vmread ecx, eax
    PUTS "guest_es_limit reads "
    PHEX ecx
    NL
    mov eax, 0x2011                 ; TSC_OFFSET_HIGH
    mov ebx, 0x55667788
    vmwrite eax, ebx
    mov eax, 0x2010                 ; TSC_OFFSET (FULL): clears the high half in 32-bit mode
    mov ebx, 0x11223344
    vmwrite eax, ebx
    vmread ecx, eax
    mov eax, 0x2011
    vmread edx, eax
    PUTS "tsc_offset after high then full: "
    PHEX edx
    PHEX ecx
    NL
    mov eax, 0x2011
    mov ebx, 0x55667788
    vmwrite eax, ebx
    mov eax, 0x2010
    vmread ecx, eax
    mov eax, 0x2011
    vmread edx, eax
    PUTS "tsc_offset after full then high: "
    PHEX edx
    PHEX ecx
    NL
    ; memory operands: VMWRITE from memory, VMREAD to memory
    mov dword [scratch], 0xcafef00d
    mov eax, 0x681e                 ; GUEST_RIP, natural width
    VMX "vmwrite guest_rip from memory", vmwrite eax, [scratch]
    mov dword [scratch + 4], 0
    VMX "vmread guest_rip to memory", vmread [scratch + 4], eax
    PUTS "  reads "
    PHEX [scratch + 4]
    NL
    mov eax, 0x4402
    mov dword [scratch], 0x12345678
    VMX "vmread exit reason to memory", vmread [scratch], eax
    PUTS "  reads "
    PHEX [scratch]
    NL

    ; the data survives VMCLEAR and VMPTRLD; B is another VMCS
    VMX "vmptrld b", vmptrld [p_b]
    VMX "vmclear b (current)", vmclear [p_b]
    VMX "vmptrst after vmclear of the current vmcs", vmptrst [scratch]
    PUTS "  stored "
    PHEX [scratch + 4]
    PHEX [scratch]
    NL
    VMX "vmclear a (not current)", vmclear [p_a]
    VMX "vmptrld a again", vmptrld [p_a]
    mov eax, 0x681e
    vmread ebx, eax
    mov eax, 0x0800
    vmread ecx, eax
    PUTS "  guest_rip="
    PHEX ebx
    PUTS " guest_es_selector="
    PHEX ecx
    NL
    VMX "vmlaunch, all-zero controls", vmlaunch
    ERR
    VMX "vmclear a", vmclear [p_a]
    mov eax, 0x681e
    VMX "vmread after vmclear", vmread ebx, eax

    ; ---- leaving VMX operation ----
    VMX "vmxoff", vmxoff
    CASE "vmread after vmxoff"
    vmread ebx, eax
    ENDTRY
    CASE "vmxoff after vmxoff"
    vmxoff
    ENDTRY
    CASE "mov cr4 clearing vmxe after vmxoff"
    mov eax, cr4
    and eax, ~(1 << 13)
    mov cr4, eax
    ENDTRY
    VMX "vmxon once more with cr4.vmxe=0", vmxon [p_vmxon]
    ret

r3_vmxon:
    vmxon [p_vmxon]
    int 0x30
r3_vmclear:
    vmclear [p_a]
    int 0x30
r3_vmread:
    mov eax, 0x681e
    vmread ebx, eax
    int 0x30

align 8
p_vmxon:     dd vmxon_region, 0
p_vmxon_odd: dd vmxon_region + 8, 0
p_high:      dd vmcs_a, 0x80000000
p_a:         dd vmcs_a, 0
p_a_val      equ vmcs_a
p_b:         dd vmcs_b, 0
p_c:         dd vmcs_c, 0
p_d:         dd vmcs_d, 0
scratch:     dd 0, 0
revision:    dd 0

section .bss
alignb 4096
vmxon_region: resb 4096
vmcs_a:       resb 4096
vmcs_b:       resb 4096
vmcs_c:       resb 4096
vmcs_d:       resb 4096
section .text
%include "end.inc"
