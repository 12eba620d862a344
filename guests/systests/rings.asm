; Privilege transitions (SDM vol. 3A, 5.8 and 6.12): ring 0 -> 3 by IRET (data segment
; registers with DPL < CPL become null), 3 -> 0 through an interrupt gate with the
; stack switch to TSS.ESP0 and back by IRET, through a call gate with parameter copy and
; back by RET n; gate DPL checks; the TSS I/O permission bitmap (19.5.2) and IOPL for
; IN/OUT/CLI; PUSHF/POPF with IOPL (POPF in ring 3 silently keeps IF and IOPL).
%include "lib.inc"

%macro RING3 2                      ; RING3 code, iopl
    mov eax, %1
    mov ecx, (%2) << 12
    call to_ring3
%endmacro

main:
    ; descriptors: 0x40 call gate DPL 3 -> 0x08:gate_target, 2 dwords copied
    ;              0x48 call gate DPL 0 -> 0x08:gate_target
    mov eax, gate_target
    mov [gdt + 0x40], ax
    mov word [gdt + 0x42], SEL_CODE0
    mov byte [gdt + 0x44], 2
    mov byte [gdt + 0x45], 0xec     ; present, DPL 3, 32-bit call gate
    shr eax, 16
    mov [gdt + 0x46], ax
    mov eax, [gdt + 0x40]
    mov [gdt + 0x48], eax
    mov eax, [gdt + 0x44]
    mov [gdt + 0x4c], eax
    mov byte [gdt + 0x4d], 0x8c     ; DPL 0
    ; IDT: 0x80 DPL 3 interrupt gate, 0x31 DPL 0 interrupt gate
    mov eax, 0x80
    mov ebx, int80
    mov ecx, SEL_CODE0
    mov edx, 0xee
    call set_gate
    mov eax, 0x31
    mov ebx, int80
    mov ecx, SEL_CODE0
    mov edx, 0x8e
    call set_gate

    CASE "ring 3 print to COM1 (in 0x3fd, out 0x3f8), iopl 0, ports denied"
    RING3 r3_print, 0
    ENDTRY
    ALLOW_COM1                      ; ring 3 may print
    CASE "ring 3 print to COM1, iopl 0, ports allowed"
    RING3 r3_print, 0
    ENDTRY
    CASE "ring 3 16-bit out across an allowed and a denied port"
    RING3 r3_out16, 0
    ENDTRY
    CASE "ring 3 in from a denied port"
    RING3 r3_in_denied, 0
    ENDTRY
    CASE "ring 3 in from a denied port, iopl 3"
    RING3 r3_in_denied, 3
    ENDTRY
    CASE "ring 3 cli, iopl 0"
    RING3 r3_cli, 0
    ENDTRY
    CASE "ring 3 cli, iopl 3"
    RING3 r3_cli, 3
    ENDTRY
    CASE "ring 3 segment registers after iret"
    RING3 r3_segs, 0
    ENDTRY
    mov dword [keep_dsegs], 1
    mov ax, SEL_DATA3 | 3
    mov fs, ax                      ; FS keeps a DPL 3 selector, DS/ES/GS hold DPL 0 ones
    CASE "ring 3 segment registers after iret with dpl 0 ds/es/gs"
    RING3 r3_segs2, 0
    ENDTRY
    mov dword [keep_dsegs], 0
    CASE "ring 3 popf"
    RING3 r3_popf, 0
    ENDTRY
    CASE "ring 3 int 0x80 (dpl 3 gate)"
    RING3 r3_int80, 0
    ENDTRY
    CASE "ring 3 int 0x31 (dpl 0 gate)"
    RING3 r3_int31, 0
    ENDTRY
    CASE "ring 3 call gate dpl 3"
    RING3 r3_callgate, 0
    ENDTRY
    CASE "ring 3 call gate dpl 0"
    RING3 r3_callgate0, 0
    ENDTRY
    CASE "ring 3 hlt"
    RING3 r3_hlt, 0
    ENDTRY
    CASE "ring 3 mov cr0"
    RING3 r3_movcr, 0
    ENDTRY
    CASE "ring 3 lgdt"
    RING3 r3_lgdt, 0
    ENDTRY
    CASE "ring 3 load dpl 0 data into ds"
    RING3 r3_loadds, 0
    ENDTRY

    ; ring 0 popf changes IOPL
    pushfd
    mov eax, [esp]
    or dword [esp], 0x3000
    popfd
    pushfd
    pop ecx
    push eax
    popfd
    PUTS "ring 0 popf iopl=3: eflags="
    PHEX ecx
    NL
    ret

; ---- ring 3 code
r3_print:
    PUTSN "hello from ring 3"
    int 0x30
r3_out16:
    mov dx, 0x3f8
    mov ax, 0x2020
    out dx, ax
    int 0x30
r3_in_denied:
    in al, 0x80
    int 0x30
r3_cli:
    cli
    int 0x30
r3_segs:
    mov ax, ds
    mov bx, es
    mov cx, SEL_DATA3 | 3
    mov ds, cx
    PUTS "ds="
    PHEX16 eax
    PUTS " es="
    PHEX16 ebx
    mov ax, cs
    PUTS " cs="
    PHEX16 eax
    mov ax, ss
    PUTS " ss="
    PHEX16 eax
    NL
    int 0x30
r3_segs2:
    mov ax, ds
    mov bx, es
    mov cx, fs
    mov dx, gs
    mov si, SEL_DATA3 | 3
    mov ds, si
    PUTS "ds="
    PHEX16 eax
    PUTS " es="
    PHEX16 ebx
    PUTS " fs="
    PHEX16 ecx
    PUTS " gs="
    PHEX16 edx
    NL
    int 0x30
r3_popf:
    pushfd
    pop eax
    PUTS "before="
    PHEX eax
    or eax, 0x3200                  ; try IOPL=3 and IF=1
    push eax
    popfd
    pushfd
    pop eax
    PUTS " after popf iopl3|if="
    PHEX eax
    NL
    int 0x30
r3_int80:
    mov eax, 0x80808080
    int 0x80
    PUTS "back in ring 3 eax="
    PHEX eax
    NL
    int 0x30
r3_int31:
    int 0x31
    int 0x30
r3_callgate:
    push dword 0x11111111
    push dword 0x22222222
    call 0x43:0
    mov ecx, esp
    mov ax, cs
    PUTS "back in ring 3 cs="
    PHEX16 eax
    PUTS " esp="
    PHEX ecx
    NL
    int 0x30
r3_callgate0:
    call 0x4b:0
    int 0x30
r3_hlt:
    hlt
    int 0x30
r3_movcr:
    mov eax, cr0
    int 0x30
r3_lgdt:
    lgdt [gdt_ptr]
    int 0x30
r3_loadds:
    mov ax, SEL_DATA0
    mov ds, ax
    int 0x30

; ---- ring 0 entry points
int80:
    push ebp
    mov ebp, esp
    push ds
    mov bx, SEL_DATA0
    mov ds, bx
    mov ebx, esp
    PUTS "int 0x80 eax="
    PHEX eax
    PUTS " eip="
    PHEX [ebp+4]
    PUTS " cs="
    PHEX16 [ebp+8]
    PUTS " efl="
    PHEX [ebp+12]
    PUTS " esp="
    PHEX [ebp+16]
    PUTS " ss="
    PHEX16 [ebp+20]
    PUTS " esp0 ok="
    lea eax, [ebp+24]
    cmp eax, stack0_top
    sete al
    movzx eax, al
    PHEX8 eax
    NL
    mov eax, 0x12345678
    pop ds
    pop ebp
    iretd

gate_target:
    push ebp
    mov ebp, esp
    push ds
    mov ax, SEL_DATA0
    mov ds, ax
    PUTS "call gate: eip="
    PHEX [ebp+4]
    PUTS " cs="
    PHEX16 [ebp+8]
    PUTS " p1="
    PHEX [ebp+12]
    PUTS " p2="
    PHEX [ebp+16]
    PUTS " esp="
    PHEX [ebp+20]
    PUTS " ss="
    PHEX16 [ebp+24]
    NL
    mov ax, cs
    PUTS "in gate cs="
    PHEX16 eax
    mov ax, ss
    PUTS " ss="
    PHEX16 eax
    NL
    pop ds
    pop ebp
    retf 8
%include "end.inc"
