; Exceptions and their delivery (Intel SDM vol. 3A, 6.3-6.15: vectors, error codes with the
; EXT/IDT/TI bits, 6.15 table 6-5 double-fault classes, 4.7 page-fault error codes and CR2,
; 4.8 accessed and dirty bits). Ends with a triple fault: the CPU shuts down.
%include "frame.inc"


; gate_present vector, 0/1
%macro GATE_P 2
    %if %2
    or byte [idt + (%1)*8 + 5], 0x80
    %else
    and byte [idt + (%1)*8 + 5], 0x7f
    %endif
%endmacro

; install vector, handler, selector, attr
%macro INSTALL 4
    mov eax, %1
    mov ebx, %2
    mov ecx, %3
    mov edx, %4
    call set_gate
%endmacro

main:
    XTRY "div 0", {xor edx, edx}, {xor ecx, ecx}, {mov eax, 1}, {div ecx}
    XTRY "idiv overflow", {mov edx, 1}, {xor eax, eax}, {mov ecx, 1}, {idiv ecx}
    XTRY "int3", {int3}
    XTRY "int 3", {int 3}
    XTRY "into of=0", {mov al, 1}, {add al, 1}, {into}
    XTRY "into of=1", {mov al, 0x7f}, {add al, 1}, {into}
    XTRY "bound", {mov eax, 5}, {bound eax, [bounds]}
    XTRY "bound in", {mov eax, 2}, {bound eax, [bounds]}
    XTRY "ud2", {ud2}
    XTRY "lock nop", {db 0xf0, 0x90}
    XTRY "int 1", {int 1}
    ; x87 with CR0.EM (SDM 2.5: EM set -> #NM on x87 instructions), CR0.TS with MP for WAIT
    mov eax, cr0
    or eax, 1 << 2
    mov cr0, eax
    XTRY "fld1 em", {fld1}
    mov eax, cr0
    and eax, ~(1 << 2)
    or eax, (1 << 3) | (1 << 1)
    mov cr0, eax
    XTRY "fwait ts mp", {fwait}
    clts
    mov eax, cr0
    SHOW "cr0 after clts", eax
    and eax, ~(1 << 1)
    mov cr0, eax

    ; --- IDT gate checks (error code: vector*8 + 2, +1 when the event is not software INT n)
    INSTALL 0x91, handler91, SEL_CODE0, 0x8E
    XTRY "int 91", {int 0x91}
    XTRY "int 90 not present", {int 0x90}
    INSTALL 0x92, handler91, SEL_CODE0, 0x82
    XTRY "int 92 ldt type", {int 0x92}
    INSTALL 0x93, handler91, 0, 0x8E
    XTRY "int 93 null selector", {int 0x93}
    INSTALL 0x94, handler91, SEL_DATA0, 0x8E
    XTRY "int 94 data selector", {int 0x94}
    INSTALL 0x95, handler91, 0x40, 0x8E
    XTRY "int 95 code not present", {int 0x95}
    INSTALL 0x96, handler91, 0x1f8, 0x8E
    XTRY "int 96 selector past gdt", {int 0x96}
    INSTALL 0x97, handler91, SEL_CODE0, 0x0E
    XTRY "int 97 gate not present", {int 0x97}
    lidt [idtr_short]
    XTRY "int 91 past idt limit", {int 0x91}
    lidt [idtr]
    ; a hardware exception through a bad gate sets EXT
    GATE_P 6, 0
    XTRY "ud2, #UD gate not present", {ud2}
    GATE_P 6, 1

    ; --- double fault: a contributory exception while delivering another
    GATE_P 13, 0
    XTRY "#GP with #GP gate not present", {mov ax, 0x1f8}, {mov fs, ax}
    GATE_P 13, 1
    GATE_P 11, 0
    XTRY "#NP with #NP gate not present", {mov ax, 0x48}, {mov fs, ax}
    GATE_P 11, 1
    GATE_P 0, 0
    XTRY "#DE with #DE gate not present", {xor ecx, ecx}, {div ecx}
    GATE_P 0, 1

    ; --- paging: 0-4 MiB one PSE page, 4-8 MiB through a page table
    mov dword [pd], 0x00000087                  ; 4 MiB page, P RW US PS
    mov dword [pd + 4], pt + 0x007              ; P RW US
    mov dword [pt], 0                           ; 400000: not present
    mov dword [pt + 4], 0x00401001              ; 401000: P, read-only, supervisor
    mov dword [pt + 8], 0x00402003              ; 402000: P RW supervisor
    mov dword [pt + 12], 0x00403001             ; 403000: read-only (for the double-fault test)
    mov eax, cr4
    or eax, 1 << 4                              ; CR4.PSE
    mov cr4, eax
    mov eax, pd
    mov cr3, eax
    mov eax, cr0
    or eax, 1 << 31
    mov cr0, eax
    SHOW "pde0 after enable", [pd]
    XTRY "read not present", {mov eax, [0x400123]}
    XTRY "write not present", {mov dword [0x400ffe], 1}
    XTRY "write read-only wp=0", {mov dword [0x401010], 1}
    mov eax, cr0
    or eax, 1 << 16                             ; CR0.WP
    mov cr0, eax
    XTRY "write read-only wp=1", {mov dword [0x401010], 2}
    XTRY "dword across into not present", {mov eax, [0x3ffffe]}
    SHOW "pte 401000", [pt + 4]
    mov eax, [0x402000]
    SHOW "pte 402000 after read", [pt + 8]
    mov dword [0x402000], 5
    SHOW "pte 402000 after write", [pt + 8]
    SHOW "pde1", [pd + 4]
    SHOW "pde0", [pd]
    XTRY "reserved bit in pde", {mov dword [pd + 8], 0x00800083 | (1 << 21)}, {mov eax, cr3}, {mov cr3, eax}, {mov eax, [0x800000]}
    mov dword [pd + 8], 0
    ; a page fault while delivering a page fault is a double fault
    GATE_P 14, 0
    XTRY "#PF with #PF gate not present", {mov eax, [0x400000]}
    GATE_P 14, 1
    ; a page fault while pushing the frame of a software interrupt, then #DF
    PRINT "triple fault next", 10
    call flush_serial
    mov ebx, esp
    mov esp, 0x400010
    TRY .pf_push
    int 0x91                                    ; pushes into the not-present page -> #PF,
                                                ; whose own push faults again -> #DF, whose push
                                                ; faults again -> triple fault (shutdown)
.pf_push:
    mov esp, ebx
    PRINT "not reached", 10
    ret

handler91:
    PRINT "handler91 "
    mov eax, [esp]
    HEX eax, 8
    NL
    iret

align 8
bounds: dd 1, 4
idtr_short:
    dw 0x91*8 - 1
    dd idt

%macro extra_gdt 0
    dq 0x00CF1A000000FFFF               ; 40 code, not present
    dq 0x00CF12000000FFFF               ; 48 data, not present
%endmacro

section .bss
alignb 4096
pd: resb 4096
pt: resb 4096
section .text

%include "frame-end.inc"
