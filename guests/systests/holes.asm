; The x86 "holes" (Robin and Irvine, 2000): sensitive instructions that do not trap in
; ring 3 (SDM vol. 3A, 2.8 and the instruction pages): SGDT, SIDT, SLDT, STR and SMSW
; reveal the kernel's tables, PUSHF shows IOPL, POPF silently drops IF, LAR/LSL/VERR/VERW
; probe descriptors, and MOV from CS/SS shows the RPL (CPL). CR4.UMIP is off.
%include "lib.inc"
main:
    ALLOW_COM1                      ; ring 3 may print
    TRY
    mov eax, ring3
    mov ecx, 0x1000                 ; IOPL 1
    call to_ring3
    ENDTRY
    ret

ring3:
    sgdt [scratch]
    PUTS "ring 3 sgdt limit="
    PHEX16 [scratch]
    PUTS " base="
    PHEX [scratch + 2]
    NL
    sidt [scratch]
    PUTS "ring 3 sidt limit="
    PHEX16 [scratch]
    PUTS " base="
    PHEX [scratch + 2]
    NL
    mov eax, 0xffffffff
    sldt ax
    PUTS "ring 3 sldt="
    PHEX eax
    mov eax, 0xffffffff
    str ax
    PUTS " str="
    PHEX eax
    NL
    smsw eax                        ; 32-bit register form: low 16 bits are MSW (CR0)
    and eax, 0xffff
    PUTS "ring 3 smsw="
    PHEX16 eax
    NL
    pushfd
    pop eax
    PUTS "ring 3 pushfd="
    PHEX eax
    NL
    or eax, 0x200                   ; IF=1: ignored (CPL 3 > IOPL 1), no fault
    push eax
    popfd
    pushfd
    pop eax
    PUTS "ring 3 after popfd with IF set="
    PHEX eax
    NL
    mov eax, cs
    mov ebx, ss
    PUTS "ring 3 cs="
    PHEX16 eax
    PUTS " ss="
    PHEX16 ebx
    NL
    mov ebx, SEL_CODE0
    lar eax, ebx
    setz cl
    and eax, 0xfff0ffff
    PUTS "ring 3 lar 0x08 zf="
    PHEX8 ecx
    PUTS " (dpl 0 < cpl 3: not visible) "
    mov ebx, SEL_CODE3 | 3
    lar eax, ebx
    setz cl
    and eax, 0xfff0ffff
    PUTS "lar 0x1b zf="
    PHEX8 ecx
    PUTS " "
    PHEX eax
    NL
    mov bx, SEL_DATA0
    verr bx
    setz cl
    mov bx, SEL_DATA3 | 3
    verw bx
    setz dl
    PUTS "ring 3 verr 0x10="
    PHEX8 ecx
    PUTS " verw 0x23="
    PHEX8 edx
    NL
    int 0x30

scratch: times 8 db 0
%include "end.inc"
