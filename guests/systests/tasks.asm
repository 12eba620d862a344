; Hardware task switching (Intel SDM vol. 3A, 7.3 task switching, 7.4 task linking: the
; back link, the busy bit and EFLAGS.NT; 6.12.2 interrupt tasks): CALL to a TSS and IRET
; back, JMP through a task gate and JMP back, INT n through a task gate, a double fault
; handled by a task, and the #GP/#TS/#NP checks of a TSS selector.
%include "frame.inc"


; INIT_TSS tss, entry, stack top: a ring-0 32-bit task with flat segments, EAX = entry
%macro INIT_TSS 3
    mov dword [%1 + 0x20], %2               ; EIP
    mov dword [%1 + 0x24], 2                ; EFLAGS
    mov dword [%1 + 0x28], %2               ; EAX
    mov dword [%1 + 0x38], %3               ; ESP
    mov dword [%1 + 0x48], SEL_DATA0        ; ES
    mov dword [%1 + 0x4c], SEL_CODE0        ; CS
    mov dword [%1 + 0x50], SEL_DATA0        ; SS
    mov dword [%1 + 0x54], SEL_DATA0        ; DS
    mov dword [%1 + 0x58], SEL_DATA0        ; FS
    mov dword [%1 + 0x5c], SEL_DATA0        ; GS
    mov word [%1 + 0x66], 104               ; no I/O bitmap
%endmacro

; TSS_DESC slot, tss, limit: fills the base of a TSS descriptor in the GDT
%macro TSS_BASE 2
    mov eax, %2
    mov [gdt + %1 + 2], ax
    shr eax, 16
    mov [gdt + %1 + 4], al
    mov [gdt + %1 + 7], ah
%endmacro

main:
    INIT_TSS tss_b, task_b, stack_b
    INIT_TSS tss_c, task_c, stack_c
    INIT_TSS tss_d, task_d, stack_d
    INIT_TSS tss_e, task_e, stack_e
    TSS_BASE 0x40, tss_b
    TSS_BASE 0x50, tss_c
    TSS_BASE 0x58, tss_c
    TSS_BASE 0x60, tss_c
    TSS_BASE 0x68, tss_d
    TSS_BASE 0x70, tss_e
    ; IDT 70h: task gate to TSS 68; IDT 8: task gate to TSS 70
    mov dword [idt + 0x70*8], 0x00680000
    mov dword [idt + 0x70*8 + 4], 0x00008500
    mov dword [idt + 8*8], 0x00700000
    mov dword [idt + 8*8 + 4], 0x00008500

    ; --- CALL to a TSS, IRET back through the back link
    mov eax, 0x1111a
    mov ebx, 0x2222b
    call 0x40:0
    SHOW "back in a: eax", eax
    SHOW "  ebx", ebx
    pushfd
    pop eax
    SHOW "  eflags", eax
    mov eax, cr0
    SHOW "  cr0", eax
    clts
    SHOW "  tss a desc hi", [gdt + 0x28 + 4]
    SHOW "  tss b desc hi", [gdt + 0x40 + 4]
    SHOW "  tss b saved eip", [tss_b + 0x20]
    SHOW "  tss b saved eflags", [tss_b + 0x24]
    SHOW "  tss b saved eax", [tss_b + 0x28]

    ; --- JMP through a task gate, and JMP back to this task's TSS
    jmp 0x48:0
    SHOW "back in a after jmp: tss a desc hi", [gdt + 0x28 + 4]
    SHOW "  tss c desc hi", [gdt + 0x50 + 4]
    pushfd
    pop eax
    SHOW "  eflags", eax
    clts

    ; --- checks of the TSS selector
    XTRY "call busy tss", {call 0x28:0}
    XTRY "call tss limit 0x40", {call 0x58:0}
    XTRY "call tss not present", {call 0x60:0}
    XTRY "call tss with rpl 3 and dpl 0", {call 0x43:0}
    XTRY "call ldt as task", {call 0x78:0}

    ; --- INT n through a task gate
    mov eax, 0x7070
    int 0x70
    SHOW "back from int 70: eax", eax
    SHOW "  tss d desc hi", [gdt + 0x68 + 4]
    clts

    ; --- CALL to a 16-bit TSS (SDM 7.6, figure 7-11); the 16-bit task IRETs back
    mov word [tss_f + 0x0e], task_f - 0x100000  ; IP
    mov word [tss_f + 0x10], 0x0002             ; FLAGS
    mov word [tss_f + 0x12], 0x1616             ; AX
    mov word [tss_f + 0x1a], stack_f - 0x100000 ; SP
    mov word [tss_f + 0x22], SEL_DATA0          ; ES
    mov word [tss_f + 0x24], 0x80               ; CS: code16, base 1 MiB
    mov word [tss_f + 0x26], 0x88               ; SS: data16, base 1 MiB
    mov word [tss_f + 0x28], SEL_DATA0          ; DS
    TSS_BASE 0x90, tss_f
    mov eax, 0x32323232
    mov ecx, 0xc0c0c0c0
    call 0x90:0
    SHOW "back from 16-bit task: eax", eax
    SHOW "  ecx", ecx
    SHOW "  task f eax", [f_eax]
    SHOW "  task f ecx", [f_ecx]
    SHOW "  task f eflags", [f_eflags]
    movzx eax, word [f_fs]
    SHOW "  task f fs", eax
    movzx eax, word [tss_f]
    SHOW "  tss f back link", eax
    movzx eax, word [tss_f + 0x0e]
    SHOW "  tss f saved ip", eax
    movzx eax, word [tss_f + 0x10]
    SHOW "  tss f saved flags", eax
    movzx eax, word [tss_f + 0x12]
    SHOW "  tss f saved ax", eax
    SHOW "  tss f desc hi", [gdt + 0x90 + 4]
    clts

    ; --- #TS through a task gate: a bad ring-0 stack in the TSS when ring 3 enters ring 0
    INIT_TSS tss_g, task_g, stack_g
    TSS_BASE 0x98, tss_g
    mov dword [idt + 10*8], 0x00980000
    mov dword [idt + 10*8 + 4], 0x00008500
    mov eax, 0x80                           ; int 80h: DPL 3 (never reached)
    mov ebx, task_g
    mov ecx, SEL_CODE0
    mov edx, 0xEE
    call set_gate
    mov eax, ts_ring3
    call run_ring3
    PRINT "back in ring 0 after #TS tests", 10
    clts

    ; --- a double fault handled by a task
    and byte [idt + 13*8 + 5], 0x7f         ; #GP gate not present: #GP -> #NP -> #DF
    mov ax, 0x1f8
    mov fs, ax
df_resume:
    SHOW "after double fault task: tss a desc hi", [gdt + 0x28 + 4]
    SHOW "  tss e desc hi", [gdt + 0x70 + 4]
    mov ax, SEL_DATA0
    mov fs, ax
    clts
    ret

task_b:
    SHOW "in task b: eax", eax
    str eax
    SHOW "  tr", eax
    pushfd
    pop eax
    SHOW "  eflags", eax
    movzx eax, word [tss_b]
    SHOW "  back link", eax
    SHOW "  tss a desc hi", [gdt + 0x28 + 4]
    SHOW "  tss b desc hi", [gdt + 0x40 + 4]
    SHOW "  tss a saved eip", [tss + 0x20]
    SHOW "  tss a saved eax", [tss + 0x28]
    mov eax, 0xbbbb
    iret

task_c:
    str eax
    SHOW "in task c: tr", eax
    pushfd
    pop eax
    SHOW "  eflags", eax
    SHOW "  tss a desc hi", [gdt + 0x28 + 4]
    SHOW "  tss c desc hi", [gdt + 0x50 + 4]
    movzx eax, word [tss_c]
    SHOW "  back link", eax
    jmp 0x28:0

task_d:
    str eax
    SHOW "in task d: tr", eax
    movzx eax, word [tss_d]
    SHOW "  back link", eax
    pushfd
    pop eax
    SHOW "  eflags", eax
    SHOW "  tss a saved eip", [tss + 0x20]
    mov eax, 0xdddd
    iret

; ring 3: two entries to ring 0 with a bad SS0 in the TSS
ts_ring3:
    mov word [tss + 8], 0x23                ; SS0 with RPL 3: #TS(20), no EXT for INT n
    int 0x80
ts_resume1:
    mov word [tss + 8], 0x00                ; SS0 null: #TS(EXT) for the #UD of UD2
    ud2
ts_resume2:
    mov word [tss + 8], SEL_DATA0
    int 0x82

; the #TS task: shows the error code and where task a stopped, then resumes task a further on
task_g:
    SHOW "in #TS task: error code", [esp]
    add esp, 4
    movzx eax, word [tss_g]
    SHOW "  back link", eax
    SHOW "  tss a saved eip", [tss + 0x20]
    SHOW "  tss a saved cs", [tss + 0x4c]
    SHOW "  tss a saved esp", [tss + 0x38]
    mov eax, ts_resume1
    cmp dword [tss + 0x20], ts_resume1
    jb .set
    mov eax, ts_resume2
.set:
    mov [tss + 0x20], eax
    iret
    jmp task_g

task_e:
    SHOW "in double fault task: error code", [esp]
    add esp, 4
    movzx eax, word [tss_e]
    SHOW "  back link", eax
    SHOW "  tss a saved eip", [tss + 0x20]
    mov dword [tss + 0x20], df_resume
    or byte [idt + 13*8 + 5], 0x80
    iret

; the 16-bit task: records what it finds, then IRET (NT set: back to the caller's task)
f_eax: dd 0
f_ecx: dd 0
f_eflags: dd 0
f_fs: dd 0
bits 16
task_f:
    mov [dword f_eax], eax
    mov [dword f_ecx], ecx
    pushfd
    pop dword [dword f_eflags]
    mov [dword f_fs], fs
    mov ax, 0x6161
    iret
bits 32

%macro extra_gdt 0
    dq 0x0000890000000067               ; 40 TSS b (base filled in)
    dq 0x0000850000500000               ; 48 task gate to TSS 50
    dq 0x0000890000000067               ; 50 TSS c
    dq 0x0000890000000040               ; 58 TSS c with limit 40
    dq 0x0000090000000067               ; 60 TSS c, not present
    dq 0x0000890000000067               ; 68 TSS d
    dq 0x0000890000000067               ; 70 TSS e
    dq 0x0000820000000fff               ; 78 an LDT descriptor
    dq 0x00009A100000FFFF               ; 80 code16 DPL 0, base 1 MiB
    dq 0x000092100000FFFF               ; 88 data16 DPL 0, base 1 MiB
    dq 0x000081000000002b               ; 90 16-bit TSS f, available
    dq 0x0000890000000067               ; 98 TSS g
%endmacro

align 16
tss_b: times 104 db 0
tss_c: times 104 db 0
tss_d: times 104 db 0
tss_e: times 104 db 0
tss_f: times 44 db 0
align 16
tss_g: times 104 db 0

section .bss
alignb 16
    resb 2048
stack_b:
    resb 2048
stack_c:
    resb 2048
stack_d:
    resb 2048
stack_e:
    resb 1024
stack_f:
    resb 2048
stack_g:
section .text

%include "frame-end.inc"
