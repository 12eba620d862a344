; Privilege transitions (Intel SDM vol. 3A, 5.8 call gates, 5.8.5 stack switching, 6.12 interrupt
; and trap gates, 6.12.1.1 the DPL check of INT n, 19.5 the I/O permission bitmap, and the pages
; of CALL, RET, IRET, POPF, ARPL in vol. 2). Ring-3 code prints through COM1 itself: the TSS I/O
; bitmap opens ports 3f8-3fd to it (IOPL stays 0).
%include "frame.inc"
%define ABS(l) (0x100000 + ((l) - mb_header))

main:
    ; gates used by ring 3
    mov eax, 0x80                   ; int 80h: a DPL-3 trap gate that shows its frame
    mov ebx, int80
    mov ecx, SEL_CODE0
    mov edx, 0xEF
    call set_gate
    mov eax, 0x81                   ; int 81h: DPL 0 interrupt gate
    mov ebx, int80
    mov edx, 0x8E
    call set_gate
    mov eax, 0x84                   ; int 84h: loads segment registers before IRET to ring 3
    mov ebx, int84
    mov edx, 0xEE
    call set_gate
    mov eax, 0x85                   ; int 85h: 16-bit trap gate, DPL 3, to a 16-bit handler
    mov ebx, int85 - 0x100000
    mov ecx, 0x70
    mov edx, 0xE7
    call set_gate

    ; --- ring 0 far transfers
    XTRY "jmp data", {jmp 0x10:0}
    XTRY "jmp ring3 code", {jmp 0x18:0}
    XTRY "jmp not present", {jmp 0x68:0}
    XTRY "call conforming", {call 0x60:conf_target}

    ; --- IRET and RETF to ring 3 with a bad SS or CS: the faults come before anything changes
%macro BADIRET 3    ; text, cs, ss
    PRINT %1, ": "
    TRY %%after
    push dword %3
    push dword stack3_top
    push dword 2
    push dword %2
    push dword %%after
    iret
%%after:
    mov esp, [iret_esp]
    NL
%endmacro
%macro BADRETF 3
    PRINT %1, ": "
    TRY %%after
    push dword %3
    push dword stack3_top
    push dword %2
    push dword %%after
    retf
%%after:
    mov esp, [iret_esp]
    NL
%endmacro
    mov [iret_esp], esp
    BADIRET "iret ss null", 0x1b, 0x0003
    BADIRET "iret ss dpl 0", 0x1b, 0x0013
    BADIRET "iret ss rpl 2", 0x1b, 0x0022
    BADIRET "iret ss read-only", 0x1b, 0x00ab
    BADIRET "iret ss not present", 0x1b, 0x00b3
    BADIRET "iret ss code", 0x1b, 0x001b
    BADIRET "iret cs data", 0x23, 0x0023
    BADIRET "iret cs rpl 3 dpl 0", 0x0b, 0x0023
    BADIRET "iret cs not present", 0x6b, 0x0023
    BADRETF "retf ss null", 0x1b, 0x0000
    BADRETF "retf ss dpl 0", 0x1b, 0x0013
    BADRETF "retf ss not present", 0x1b, 0x00b3
    BADRETF "retf cs rpl 3 dpl 0", 0x0b, 0x0023

    ; --- ring 3
    mov eax, cr0
    or eax, 1 << 18                 ; CR0.AM: alignment checks in ring 3 when EFLAGS.AC=1
    mov cr0, eax
    mov eax, ring3_main
    call run_ring3
    PRINT "back in ring 0", 10
    mov eax, cr0
    and eax, ~(1 << 18)
    mov cr0, eax
    ret

conf_target:
    mov eax, [esp+4]
    SHOW "conforming frame cs", eax
    mov eax, cs
    SHOW "conforming cs", eax
    retf

ring3_main:
    mov eax, cs
    SHOW "ring3 cs", eax
    mov eax, 0x1111
    int 0x80
    XTRY "int 81 (dpl 0)", {int 0x81}
    XTRY "int3 (dpl 0 gate)", {int3}
    XTRY "into (dpl 0 gate)", {mov al, 0x7f}, {add al, 1}, {into}
    XTRY "cli", {cli}
    XTRY "hlt", {hlt}
    XTRY "mov cr0", {mov eax, cr0}
    XTRY "lgdt", {lgdt [gdtr]}
    XTRY "ltr", {ltr ax}
    XTRY "clts", {clts}
    XTRY "mov ds,10", {mov ax, 0x10}, {mov ds, ax}
    XTRY "mov ss,10", {mov ax, 0x10}, {mov ss, ax}
    XTRY "mov ss,23", {mov ax, 0x23}, {mov ss, ax}
    XTRY "mov ds,18", {mov ax, 0x1b}, {mov ds, ax}
    mov ax, 0x23
    mov ds, ax
    XTRY "in 80", {in al, 0x80}
    XTRY "in 3fa", {mov dx, 0x3fa}, {in al, dx}
    XTRY "in word 3fd", {mov dx, 0x3fd}, {in ax, dx}
    XTRY "in 400", {mov dx, 0x400}, {in al, dx}
    XTRY "in 500", {mov dx, 0x500}, {in al, dx}
    XTRY "out 3fc dword", {mov dx, 0x3fc}, {out dx, eax}
    ; POPF at CPL 3, IOPL 0: IF and IOPL silently unchanged, AC may change
    pushfd
    pop ebx
    SHOW "eflags", ebx
    push dword 0x00043202           ; AC, IOPL 3, IF
    popfd
    pushfd
    pop eax
    SHOW "after popf", eax
    ; IRET at CPL 3, IOPL 0: IF and IOPL in the popped EFLAGS are ignored, AC and the
    ; arithmetic flags are taken (SDM vol. 2A, IRET)
    pushfd
    push dword 0x000432d7
    push cs
    push dword .after_iret3
    iretd
.after_iret3:
    pushfd
    pop eax
    SHOW "after iret at cpl 3", eax
    popfd
    XTRY "misaligned dword", {mov eax, [scratch+1]}
    XTRY "misaligned word", {mov ax, [scratch+3]}
    push ebx
    popfd
    ; SGDT/SIDT/SLDT/STR/SMSW are not privileged
    sgdt [scratch]
    movzx eax, word [scratch]
    SHOW "sgdt limit", eax
    SHOW "sgdt base", [scratch+2]
    str eax
    SHOW "str", eax
    smsw eax
    SHOW "smsw", eax
    ; LAR/LSL/VERR/VERW at CPL 3: DPL must be >= CPL and RPL, except for conforming code
%macro R3ZF 3       ; instruction, selector, label
    mov ebx, 0xdeadbeef
    mov ax, %2
    %1
    pushfd
    pop ecx
    shr ecx, 6
    and ecx, 1
    PRINT %3, " zf="
    HEX ecx, 1
    PRINT " value="
    HEX ebx, 8
    NL
%endmacro
    R3ZF {lar ebx, eax}, 0x10, "ring3 lar 10 (data dpl 0)"
    R3ZF {lar ebx, eax}, 0x23, "ring3 lar 23"
    R3ZF {lar ebx, eax}, 0x60, "ring3 lar 60 (conforming dpl 0)"
    R3ZF {lar ebx, eax}, 0x40, "ring3 lar 40 (call gate dpl 3)"
    R3ZF {lar ebx, eax}, 0x48, "ring3 lar 48 (call gate dpl 0)"
    R3ZF {lsl ebx, eax}, 0x28, "ring3 lsl 28 (tss dpl 0)"
    R3ZF {lsl ebx, eax}, 0x1b, "ring3 lsl 1b"
    R3ZF {verr ax}, 0x08, "ring3 verr 08 (code dpl 0)"
    R3ZF {verr ax}, 0x60, "ring3 verr 60 (conforming)"
    R3ZF {verr ax}, 0x1b, "ring3 verr 1b"
    R3ZF {verw ax}, 0x23, "ring3 verw 23"
    R3ZF {verw ax}, 0x10, "ring3 verw 10"
    ; ARPL
    mov ax, 0x0010
    mov bx, 0x0003
    arpl ax, bx
    pushfd
    SHOW "arpl 10,3", eax
    pop eax
    and eax, 0x40
    SHOW "  zf", eax
    mov ax, 0x0023
    mov bx, 0x0001
    arpl ax, bx
    pushfd
    SHOW "arpl 23,1", eax
    pop eax
    and eax, 0x40
    SHOW "  zf", eax
    ; call gates
    mov ebp, esp
    push dword 0x11111111
    push dword 0x22222222
    call 0x43:0                     ; 32-bit gate, 2 parameters, to ring 0
    mov eax, ebp
    sub eax, esp
    SHOW "esp delta", eax
    mov esp, ebp
    XTRY "call gate dpl 0", {call 0x48:0}
    XTRY "call gate not present", {call 0x53:0}
    XTRY "call ring0 code", {call 0x08:0}
    XTRY "jmp gate to ring 0", {jmp 0x43:0}
    XTRY "call gate to conforming", {call 0x5b:0}
    XTRY "retf to ring 0", {push dword 0x08}, {push dword $}, {retf}
    XTRY "call gate to data", {call 0x7b:0}
    ; segment nulling on IRET to an outer level
    int 0x84
    mov ax, fs
    mov bx, es
    mov cx, gs
    mov dx, ds
    mov si, 0x23
    mov ds, si
    SHOW "after iret fs", eax
    SHOW "after iret es", ebx
    SHOW "after iret gs", ecx
    SHOW "after iret ds", edx
    mov ax, 0x23
    mov es, ax
    ; a 16-bit trap gate: pushes 16-bit frame, 16-bit ring-0 stack pointer from the 32-bit TSS
    mov eax, 0x1616
    mov [int85_r3esp], esp
    int 0x85
int85_back:
    ; a 16-bit call gate from 16-bit ring-3 code on a 16-bit stack, 1 word parameter
    mov [r3_esp_save], esp
    jmp 0x8b:(cg16_caller - 0x100000)
cg16_back:
    mov ax, SEL_DATA3
    mov ss, ax
    mov esp, [r3_esp_save]
    movzx eax, word [cg16_frame]
    SHOW "cg16 ip", eax
    movzx eax, word [cg16_frame + 2]
    SHOW "  cs", eax
    movzx eax, word [cg16_frame + 4]
    SHOW "  param", eax
    movzx eax, word [cg16_frame + 6]
    SHOW "  sp", eax
    movzx eax, word [cg16_frame + 8]
    SHOW "  ss", eax
    SHOW "  ring-0 esp", [cg16_esp0]
    SHOW "  esp after retf 2", [cg16_sp_after]
    SHOW "  ss after retf 2", [cg16_ss_after]
    SHOW "after int85 eax", eax
    SHOW "int85 esp0", [int85_esp]
    movzx eax, word [int85_frame]
    SHOW "  ip", eax
    movzx eax, word [int85_frame+2]
    SHOW "  cs", eax
    movzx eax, word [int85_frame+4]
    SHOW "  flags", eax
    movzx eax, word [int85_frame+6]
    SHOW "  sp", eax
    movzx eax, word [int85_frame+8]
    SHOW "  ss", eax
    int 0x82

; int 80h: prints its frame and the ring-0 ESP it got from the TSS
int80:
    push eax
    mov eax, esp
    add eax, 4
    SHOW "int80 eax", [esp]
    SHOW "  esp0", eax
    SHOW "  eip", [esp+4]
    SHOW "  cs", [esp+8]
    SHOW "  eflags", [esp+12]
    SHOW "  esp", [esp+16]
    SHOW "  ss", [esp+20]
    pop eax
    iret

int84:
    mov ax, 0x10
    mov fs, ax                      ; data DPL 0: nulled
    mov ax, 0x80
    mov es, ax                      ; readable non-conforming code DPL 0: nulled
    mov ax, 0x23
    mov gs, ax                      ; data DPL 3: kept
    mov ax, 0x60
    mov ds, ax                      ; conforming code: kept
    iret

; 32-bit call gate target (ring 0): shows the copied parameters and the outer SS:ESP
gate_target:
    mov eax, esp
    SHOW "gate esp", eax
    SHOW "  eip", [esp]
    SHOW "  cs", [esp+4]
    SHOW "  param1", [esp+8]
    SHOW "  param2", [esp+12]
    SHOW "  esp", [esp+16]
    SHOW "  ss", [esp+20]
    mov eax, cs
    SHOW "  new cs", eax
    mov eax, ss
    SHOW "  new ss", eax
    retf 8

conf_gate_target:
    mov eax, cs
    SHOW "conforming via gate cs", eax
    mov eax, [esp+4]
    SHOW "  frame cs", eax
    retf

align 8
scratch: dd 0, 0

; 16-bit ring-3 caller (segment 8b: code16 DPL 3, base 1 MiB) and its ring-0 target
; (segment a0: code32 DPL 0, base 1 MiB), through the 16-bit call gate 98
r3_esp_save: dd 0
iret_esp: dd 0
cg16_frame: times 5 dw 0
cg16_esp0: dd 0
cg16_sp_after: dd 0
cg16_ss_after: dd 0
bits 16
cg16_caller:
    mov ax, 0x93                            ; data16 DPL 3, base 1 MiB: SP = ESP - 1 MiB
    mov ss, ax
    mov esp, stack3_top - 0x100000 - 0x100
    push word 0x1234
    call 0x9b:0
    mov [dword ABS(cg16_sp_after)], esp
    mov [dword ABS(cg16_ss_after)], ss
    jmp dword SEL_CODE3:cg16_back
bits 32
cg16_target:
    mov [cg16_esp0], esp
    mov eax, [esp]
    mov [cg16_frame], eax
    mov eax, [esp + 4]
    mov [cg16_frame + 4], eax
    mov ax, [esp + 8]
    mov [cg16_frame + 8], ax
    o16 retf 2

; 16-bit handler code (segment 70: code16 DPL 0, base 1 MiB): records its frame for ring 3
int85_frame: times 5 dw 0
int85_esp: dd 0
int85_r3esp: dd 0
bits 16
int85:
    mov [dword ABS(int85_esp)], esp
    push ebp
    mov ebp, esp
    push ax
    mov ax, [ebp+4]
    mov [dword ABS(int85_frame)], ax
    mov ax, [ebp+6]
    mov [dword ABS(int85_frame)+2], ax
    mov ax, [ebp+8]
    mov [dword ABS(int85_frame)+4], ax
    mov ax, [ebp+10]
    mov [dword ABS(int85_frame)+6], ax
    mov ax, [ebp+12]
    mov [dword ABS(int85_frame)+8], ax
    pop ax
    pop ebp
    ; a 16-bit IRET would truncate the return EIP (above 64 KiB here): return with a 32-bit frame
    add sp, 10
    o32 push dword SEL_DATA3
    o32 push dword [dword ABS(int85_r3esp)]
    o32 push dword 2
    o32 push dword SEL_CODE3
    o32 push dword ABS(int85_back)
    mov eax, 0x8585
    o32 iret
bits 32

%macro GATE 4       ; selector, offset, access byte, parameter count
    dw (%2) & 0xffff
    dw %1
    db %4
    db %3
    dw (%2) >> 16
%endmacro


%macro extra_gdt 0
    GATE 0x08, ABS(gate_target), 0xEC, 2        ; 40 32-bit call gate DPL 3 -> ring 0, 2 params
    GATE 0x08, ABS(gate_target), 0x8C, 2        ; 48 call gate DPL 0
    GATE 0x08, ABS(gate_target), 0x6C, 0        ; 50 call gate DPL 3, not present
    GATE 0x60, ABS(conf_gate_target), 0xEC, 0   ; 58 call gate DPL 3 -> conforming code
    dq 0x00CF9E000000FFFF                       ; 60 conforming code DPL 0, readable
    dq 0x00CF1A000000FFFF                       ; 68 code, not present
    dq 0x00109A100000FFFF                       ; 70 code16 DPL 0, base 1 MiB
    GATE 0x10, 0, 0xEC, 0                       ; 78 call gate DPL 3 -> a data segment
    dq 0x00CF9A000000FFFF                       ; 80 code DPL 0, readable, non-conforming
    dq 0x0010FA100000FFFF                       ; 88 code16 DPL 3, base 1 MiB
    dq 0x0010F2100000FFFF                       ; 90 data16 DPL 3, base 1 MiB
    GATE 0xa0, cg16_target - mb_header, 0xE4, 1  ; 98 16-bit call gate DPL 3 -> a0, 1 word parameter
    dq 0x00409A100000FFFF                       ; a0 code32 DPL 0, base 1 MiB, limit FFFF
    dq 0x00CFF0000000FFFF                       ; a8 data DPL 3, read-only
    dq 0x00CF72000000FFFF                       ; b0 data DPL 3, not present
    dq 0x00CFFE000000FFFF                       ; b8 conforming code DPL 3
%endmacro

%include "frame-end.inc"
