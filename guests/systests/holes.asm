; The x86 "holes" (Robin and Irvine, 2000): sensitive instructions that do not trap in
; ring 3 (SDM vol. 3A, 2.8 and the instruction pages): SGDT, SIDT, SLDT, STR and SMSW
; reveal the kernel's tables, PUSHF shows IOPL, POPF silently drops IF, LAR/LSL/VERR/VERW
; probe descriptors, and MOV from CS/SS shows the RPL (CPL). CR4.UMIP is off. Then ring 1,
; where a deprivileged kernel runs (Xen's PV guests, VMware's BT): with IOPL 0, POPF
; drops an IF change without a fault while CLI faults; with IOPL 1 both work.
%include "lib.inc"
SEL_CODE1 equ 0x40
SEL_DATA1 equ 0x48

main:
    ALLOW_COM1                      ; ring 3 may print
    TRY
    mov eax, ring3
    mov ecx, 0x1000                 ; IOPL 1
    call to_ring3
    ENDTRY
    mov al, 0xff                    ; mask every PIC input: ring 1 will set IF (QEMU's
    out 0x21, al                    ; firmware left the timer running)
    out 0xa1, al
    mov dword [gdt + SEL_CODE1], 0x0000ffff
    mov dword [gdt + SEL_CODE1 + 4], 0x00cfbb00  ; code, DPL 1, accessed
    mov dword [gdt + SEL_DATA1], 0x0000ffff
    mov dword [gdt + SEL_DATA1 + 4], 0x00cfb300  ; data, DPL 1, accessed
    PUTS "ring 1, iopl 0: "
    TRY
    mov eax, ring1_iopl0
    xor ecx, ecx
    call to_ring1
    ENDTRY
    PUTS "ring 1, iopl 1: "
    TRY
    mov eax, ring1_iopl1
    mov ecx, 0x1000
    call to_ring1
    ENDTRY
    ret

to_ring1:                           ; as to_ring3, to ring 1 (EFLAGS = 2 | IOPL from ECX)
    push dword SEL_DATA1 | 1
    push dword stack3_top
    and ecx, 0x3000
    or ecx, 2
    push ecx
    push dword SEL_CODE1 | 1
    push eax
    mov dx, SEL_DATA1 | 1
    mov ds, dx
    mov es, dx
    iretd

ring1_iopl0:
    mov eax, cs
    PUTS "cs="
    PHEX16 eax
    pushfd
    pop eax
    or eax, 0x200
    push eax
    popfd                           ; IF=1 asked: dropped (CPL 1 > IOPL 0), no fault
    pushfd
    pop eax
    shr eax, 9
    and eax, 1
    PUTS " if after popfd="
    PHEX8 eax
    PUTS " cli: "
    cli                             ; faults: CPL 1 > IOPL 0
    PUTSN "no fault"
    int 0x30

ring1_iopl1:
    mov eax, cs
    PUTS "cs="
    PHEX16 eax
    cli                             ; allowed: CPL 1 = IOPL 1
    pushfd
    pop eax
    or eax, 0x200
    push eax
    popfd                           ; IF=1 now taken
    pushfd
    pop eax
    cli
    shr eax, 9
    and eax, 1
    PUTS " if after popfd="
    PHEX8 eax
    NL
    int 0x30

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
