; Segment-register loads and their faults (SDM vol. 3A, 5.5-5.10 and the MOV/POP Sreg
; pages of vol. 2): error codes carry the selector (index, TI) for descriptor faults and
; 0 for null-selector faults. Also LAR/LSL/VERR/VERW results.
%include "lib.inc"


; LOADTEST "name", sreg, selector: the data segment registers are restored inside the
; TRY, before anything is printed (a null or code-segment DS would fault on the print).
%macro LOADTEST 3
    PUTS %1
    PUTS ": "
    TRY
    mov ax, %3
    mov %2, ax
    call restore_segs
    ENDTRY
    call restore_segs
%endmacro

main:
    ; copy the test descriptors into the GDT at 0x40
    mov esi, descs
    mov edi, gdt_test
    mov ecx, descs_end - descs
    rep movsb

    LOADTEST "ds<-null", ds, 0
    LOADTEST "ss<-null", ss, 0
    LOADTEST "ds<-not-present", ds, 0x40
    LOADTEST "ss<-not-present", ss, 0x68
    LOADTEST "ds<-exec-only code", ds, 0x50
    LOADTEST "ds<-readable code", ds, 0x58
    LOADTEST "ss<-readable code", ss, 0x58
    LOADTEST "ss<-read-only data", ss, 0x60
    LOADTEST "ss<-dpl3 data", ss, 0x70
    LOADTEST "ds<-dpl3 data", ds, 0x70
    LOADTEST "ds<-rpl3 dpl0 data", ds, 0x13
    LOADTEST "ss<-rpl3 selector", ss, 0x13
    LOADTEST "ds<-ldt descriptor", ds, 0x80
    LOADTEST "ds<-beyond gdt limit", ds, 0x100
    LOADTEST "ds<-ldt selector, no ldt", ds, 0x44
    LOADTEST "fs<-tss", fs, SEL_TSS
    LOADTEST "gs<-dpl0 data", gs, 0x48

    ; the CPU set the accessed bit of the descriptors it loaded
    PUTS "access 0x48="
    PHEX8 [gdt + 0x48 + 5]
    PUTS " 0x58="
    PHEX8 [gdt + 0x58 + 5]
    PUTS " 0x40="
    PHEX8 [gdt + 0x40 + 5]
    NL

    ; Not tested here: data accesses through a null selector, beyond a segment limit or
    ; writes through a code segment. QEMU TCG does not check them, so it cannot be the
    ; reference for them.

    PUTS "far jmp to data selector: "
    TRY
    jmp 0x48:0
    ENDTRY

    PUTS "far jmp to not-present code: "
    TRY
    jmp 0x88:0
    ENDTRY

    PUTS "lss not-present: "
    TRY
    lss esp, [lss_ptr]
    ENDTRY

    ; LAR / LSL / VERR / VERW: ZF and the result for several selectors
    mov esi, probe_sels
.probe:
    movzx ebx, word [esi]
    cmp ebx, 0xffff
    je .probed
    PUTS "sel "
    PHEX16 ebx
    mov eax, 0xdeadbeef
    lar eax, ebx
    setz cl
    and eax, 0xfff0ffff             ; bits 19:16 (limit 19:16) are undefined (SDM vol. 2A, LAR)
    PUTS " lar zf="
    PHEX8 ecx
    PUTS " "
    PHEX eax
    mov eax, 0xdeadbeef
    lsl eax, ebx
    setz cl
    PUTS " lsl zf="
    PHEX8 ecx
    PUTS " "
    PHEX eax
    verr bx
    setz cl
    PUTS " verr="
    PHEX8 ecx
    verw bx
    setz cl
    PUTS " verw="
    PHEX8 ecx
    NL
    add esi, 2
    jmp .probe
.probed:
    ret

restore_segs:
    push eax
    FLAT_SEGS
    pop eax
    ret

probe_sels: dw 0, 0x08, 0x10, 0x1b, 0x23, 0x28, 0x40, 0x48, 0x50, 0x58, 0x60, 0x70, 0x73, 0x80, 0x100, 0xffff
lss_ptr: dd 0
         dw 0x68
scratch: dd 0
align 8
descs:
    DESC 0, 0xfffff, 0x12, 0xc     ; 0x40 data r/w, NOT present
    DESC 0, 0xfffff, 0x92, 0xc     ; 0x48 data r/w, DPL 0
    DESC 0, 0xfffff, 0x98, 0xc     ; 0x50 code execute-only
    DESC 0, 0xfffff, 0x9a, 0xc     ; 0x58 code execute/read
    DESC 0, 0xfffff, 0x90, 0xc     ; 0x60 data read-only
    DESC 0, 0xfffff, 0x12, 0xc     ; 0x68 data r/w, NOT present
    DESC 0, 0xfffff, 0xf2, 0xc     ; 0x70 data r/w, DPL 3
    DESC 0, 0x0fff,  0x92, 0x0     ; 0x78 data r/w, limit 0xfff bytes
    DESC 0x200000, 0xff, 0x82, 0x0 ; 0x80 LDT descriptor
    DESC 0, 0xfffff, 0x1a, 0xc     ; 0x88 code, NOT present
descs_end:
%include "end.inc"
