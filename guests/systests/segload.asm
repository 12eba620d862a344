; Segment register loads and their protection checks (Intel SDM vol. 3A, 3.4.5, 5.5-5.7, 5.10,
; and the MOV/LAR/LSL/VERR/VERW instruction pages in vol. 2). Every load goes into FS (the same
; rules as DS/ES/GS) or SS, so that DS, ES and the stack stay flat for printing.
%include "frame.inc"

; TRYLOAD seg, selector: print "mov seg,SSSS: " then "ok" or the exception line
%macro TRYLOAD 2
    PRINT "mov ", %str(%1), ","
    HEX %2, 4
    PRINT ": "
    TRY %%after
    mov ax, %2
    mov %1, ax
    mov ax, SEL_DATA0
    mov ss, ax
    PRINT "ok", 10
%%after:
%endmacro

; descriptor bytes of a selector in the GDT
%define DESC_AT(sel) (gdt + ((sel) & ~7))

; SHOWZF "name": prints name=ZF
%macro SHOWZF 1
    pushfd
    PRINT %1, " zf="
    pop eax
    shr eax, 6
    and eax, 1
    HEX eax, 1
    NL
%endmacro

main:
    ; --- data-segment register (FS) type, privilege and presence checks
    TRYLOAD fs, 0x0000            ; null: allowed
    TRYLOAD fs, 0x0003            ; null with RPL 3: allowed
    TRYLOAD fs, 0x0040            ; writable data, not yet accessed
    SHOW "desc40.access", [DESC_AT(0x40)+4]
    TRYLOAD fs, 0x0048            ; not present -> #NP(48)
    TRYLOAD fs, 0x0050            ; execute-only code -> #GP(50)
    TRYLOAD fs, 0x0058            ; readable code: allowed
    TRYLOAD fs, 0x0060            ; read-only data: allowed
    TRYLOAD fs, 0x0068            ; DPL 3 data at CPL 0: allowed
    TRYLOAD fs, 0x0080            ; LDT descriptor (system) -> #GP(80)
    TRYLOAD fs, 0x0099            ; conforming readable code, RPL 1: allowed
    TRYLOAD fs, 0x00a3            ; DPL 0 data with RPL 3 -> #GP(a0)
    TRYLOAD fs, 0x00a2            ; DPL 0 data with RPL 2 -> #GP(a0)
    TRYLOAD fs, 0x01f8            ; beyond the GDT limit -> #GP(1f8)
    TRYLOAD fs, 0x00b0            ; 16-bit TSS descriptor -> #GP(b0)

    xor eax, eax
    lldt ax                         ; LDTR null (at reset it is usable: base 0, limit ffff)
    TRYLOAD fs, 0x000c            ; LDT selector while LDTR is null -> #GP(c)

    ; --- stack segment checks
    TRYLOAD ss, 0x0000            ; null -> #GP(0)
    TRYLOAD ss, 0x0040            ; writable data DPL 0: allowed
    TRYLOAD ss, 0x0060            ; read-only data -> #GP(60)
    TRYLOAD ss, 0x0058            ; code -> #GP(58)
    TRYLOAD ss, 0x0068            ; DPL 3 at CPL 0 -> #GP(68)
    TRYLOAD ss, 0x0043            ; RPL 3 at CPL 0 -> #GP(40)
    TRYLOAD ss, 0x0078            ; not present -> #SS(78)
    TRYLOAD ss, 0x0070            ; expand-down writable: allowed

    ; --- accesses through loaded segments
    PRINT "null fs read: "
    xor ax, ax
    mov fs, ax
    TRY .a1
    mov eax, [fs:0x100000]          ; null selector -> #GP(0)
    PRINT "ok", 10
.a1:
    mov ax, 0x90                    ; limit 0x0f, byte granular
    mov fs, ax
    PRINT "limit dword at c: "
    TRY .a2
    mov eax, [fs:0x0c]
    PRINT "ok", 10
.a2:
    PRINT "limit dword at d: "
    TRY .a3
    mov eax, [fs:0x0d]              ; last byte beyond the limit -> #GP(0)
    PRINT "ok", 10
.a3:
    PRINT "limit byte at 10: "
    TRY .a4
    mov al, [fs:0x10]               ; -> #GP(0)
    PRINT "ok", 10
.a4:
    mov ax, 0x60                    ; read-only data
    mov fs, ax
    PRINT "write read-only: "
    TRY .a5
    mov byte [fs:scratch], 1        ; -> #GP(0)
    PRINT "ok", 10
.a5:
    mov ax, 0x58                    ; readable code
    mov fs, ax
    PRINT "write code: "
    TRY .a6
    mov byte [fs:scratch], 1        ; -> #GP(0)
    PRINT "ok", 10
.a6:
    mov ax, 0x70                    ; expand-down, limit 0fff, B=1: offsets 1000-ffffffff
    mov fs, ax
    PRINT "expand-down at 800: "
    TRY .a7
    mov eax, [fs:0x800]             ; -> #GP(0)
    PRINT "ok", 10
.a7:
    PRINT "expand-down at ffe: "
    TRY .a8
    mov eax, [fs:0xffe]             ; first bytes inside the limit -> #GP(0)
    PRINT "ok", 10
.a8:
    PRINT "expand-down at 1000: "
    TRY .a9
    mov eax, [fs:0x1000]
    PRINT "ok", 10
.a9:
    mov ax, 0x88                    ; expand-down, limit 0fff, B=0: offsets 1000-ffff
    mov fs, ax
    PRINT "expand-down16 at fffe: "
    TRY .a10
    mov ax, [fs:0xfffe]
    PRINT "ok", 10
.a10:
    PRINT "expand-down16 at fffd dword: "
    TRY .a11
    mov eax, [fs:0xfffd]            ; runs past the 64 KiB upper bound -> #GP(0)
    PRINT "ok", 10
.a11:
    ; --- LDT
    mov ax, 0x80
    lldt ax
    TRYLOAD fs, 0x000c            ; LDT entry 1: flat data
    mov ax, 0x0c
    mov fs, ax
    SHOW "ldt read", [fs:ldt_table+8]
    TRYLOAD fs, 0x0014            ; beyond the LDT limit -> #GP(14)
    TRYLOAD fs, 0x0004            ; LDT entry 0 (not present) -> #NP(4)
    sldt eax
    SHOW "sldt", eax
    TRY .l1
    PRINT "lldt data: "
    mov ax, 0x40
    lldt ax                         ; not an LDT -> #GP(40)
    PRINT "ok", 10
.l1:
    xor eax, eax
    lldt ax                         ; null: allowed, LDTR unusable
    TRYLOAD fs, 0x000c            ; -> #GP(c)
    sldt eax
    SHOW "sldt null", eax

    ; --- LAR / LSL / VERR / VERW (results masked: LAR bits 16-19 are the limit on real CPUs)
%macro DOLAR 1
    mov ebx, 0xdeadbeef
    mov ax, %1
    lar ebx, eax
    pushfd
    PRINT "lar "
    HEX %1, 4
    popfd
    SHOWZF ""
    and ebx, 0x00f0ff00
    SHOW "  value", ebx
%endmacro
%macro DOLSL 1
    mov ebx, 0xdeadbeef
    mov ax, %1
    lsl ebx, eax
    pushfd
    PRINT "lsl "
    HEX %1, 4
    popfd
    SHOWZF ""
    SHOW "  value", ebx
%endmacro
%macro DOVER 2
    mov ax, %2
    %1 ax
    pushfd
    PRINT %str(%1), " "
    HEX %2, 4
    popfd
    SHOWZF ""
%endmacro
    DOLAR 0x0000
    DOLAR 0x0008
    DOLAR 0x0040
    DOLAR 0x0048
    DOLAR 0x0080
    DOLAR 0x0028
    DOLAR 0x00a8
    DOLAR 0x00b8
    DOLAR 0x01f8
    DOLSL 0x0008
    DOLSL 0x0090
    DOLSL 0x0080
    DOLSL 0x0028
    DOLSL 0x00a8
    DOLSL 0x00c0
    DOVER verr, 0x0050
    DOVER verr, 0x0058
    DOVER verr, 0x0060
    DOVER verr, 0x0028
    DOVER verw, 0x0060
    DOVER verw, 0x0040
    DOVER verw, 0x0058
    DOVER verw, 0x0000
    ret

scratch: dd 0

align 8
ldt_table:
    dq 0x00CF12000000FFFF           ; LDT 0: data, not present
    dq 0x00CF92000000FFFF           ; LDT 1: data32 DPL 0 flat
ldt_end:


%macro extra_gdt 0
    dq 0x00CF92000000FFFF & ~0x0000010000000000   ; 40 data32 DPL 0, writable, not accessed
    dq 0x00CF13000000FFFF           ; 48 data, not present
    dq 0x00CF98000000FFFF           ; 50 code execute-only
    dq 0x00CF9A000000FFFF           ; 58 code execute/read
    dq 0x00CF90000000FFFF           ; 60 data read-only
    dq 0x00CFF2000000FFFF           ; 68 data DPL 3
    dq 0x0040960000000fff           ; 70 data expand-down writable, limit 0fff, B=1
    dq 0x00CF12000000FFFF           ; 78 writable data, not present
    DESC 0x100000 + (ldt_table - mb_header), 15, 0x82, 0   ; 80 LDT, 2 entries
    dq 0x0000960000000fff           ; 88 data expand-down, limit 0fff, B=0
    DESC 0x100000 + (scratch - mb_header), 0x0f, 0x92, 0x4 ; 90 data limit 0f
    dq 0x00CF9E000000FFFF           ; 98 conforming code, readable
    dq 0x00CF92000000FFFF           ; a0 data32 DPL 0
    dq 0x0000EC0000080000           ; a8 call gate DPL 3 to 0008:0
    dq 0x0000810000000067           ; b0 16-bit TSS, available
    dq 0x0000850000280000           ; b8 task gate
    dq 0x008F92000000FFFF           ; c0 data page granular, B=0, limit fffff
%endmacro

%include "frame-end.inc"
