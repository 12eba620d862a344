; Exceptions and their frames: vector, error code, saved EIP (faulting instruction for
; faults, next instruction for traps), CS and EFLAGS (SDM vol. 3A, 6.15 and table 6-1);
; IDT gate checks (#GP/#NP with error code vector*8+2, 6.13); double fault (6.15, #DF
; class table 6-5); x87 escapes with CR0.EM/TS (#NM).
%include "lib.inc"


main:
    CASE "div by zero"
    xor edx, edx
    mov eax, 1
    xor ecx, ecx
    div ecx
    ENDTRY

    CASE "idiv overflow"
    mov edx, 1                      ; 2^32 / 1 does not fit (QEMU 10 dies of a host SIGFPE
    xor eax, eax                    ; on INT64_MIN / -1, so that case is not used here)
    mov ecx, 1
    idiv ecx
    ENDTRY

    CASE "int3"
    int3
    PUTSN "after int3"       ; not reached: the handler resumes after ENDTRY
    ENDTRY

    CASE "into with OF=1"
    mov al, 0x7f
    add al, 1
    into
    ENDTRY

    CASE "into with OF=0"
    xor eax, eax
    into
    ENDTRY

    CASE "bound out of range"
    mov eax, 20
    bound eax, [bounds]
    ENDTRY

    CASE "bound in range"
    mov eax, 5
    bound eax, [bounds]
    ENDTRY

    CASE "ud2"
    ud2
    ENDTRY

    CASE "int 0x06 (soft)"
    int 0x06
    ENDTRY

    CASE "single step"
    pushfd
    or dword [esp], 0x100
    popfd
    nop                             ; trap after this instruction
    nop
    ENDTRY

    CASE "x87 with cr0.em"
    mov eax, cr0
    mov [saved_cr0], eax
    or eax, 1 << 2                  ; EM
    and eax, ~(1 << 3)
    mov cr0, eax
    fnop
    ENDTRY
    mov eax, [saved_cr0]
    mov cr0, eax

    CASE "x87 with cr0.ts"
    mov eax, cr0
    and eax, ~(1 << 2)
    or eax, 1 << 3                  ; TS
    mov cr0, eax
    fnop
    ENDTRY
    clts
    mov eax, [saved_cr0]
    mov cr0, eax

    CASE "wait with cr0.ts+mp"
    mov eax, cr0
    or eax, (1 << 3) | (1 << 1)     ; TS, MP
    mov cr0, eax
    wait
    ENDTRY
    mov eax, [saved_cr0]
    mov cr0, eax

    CASE "int 0x40 beyond idt limit"
    mov word [idt_ptr], 0x40*8 - 1
    lidt [idt_ptr]
    int 0x40
    ENDTRY
    mov word [idt_ptr], 256*8 - 1
    lidt [idt_ptr]

    CASE "int 0x41 not-present gate"
    mov eax, 0x41
    mov ebx, exc0
    mov ecx, SEL_CODE0
    mov edx, 0x0e                    ; P=0
    call set_gate
    int 0x41
    ENDTRY

    CASE "int 0x42 trap gate"
    mov eax, 0x42
    mov ebx, soft_handler
    mov ecx, SEL_CODE0
    mov edx, 0x8f                    ; P=1, DPL 0, 32-bit trap gate
    call set_gate
    mov eax, 0x1234
    int 0x42
    PUTS "back eax="
    PHEX eax
    NL
    ENDTRY

    CASE "#GP while #GP gate not present -> #DF"
    mov byte [idt + 13*8 + 5], 0x0e ; gate 13 not present
    int 0xff                        ; empty gate (type 0): #GP(0xff*8+2), whose gate is not
                                    ; present: #NP during #GP delivery, both contributory
    ENDTRY
    mov byte [idt + 13*8 + 5], 0x8e

    CASE "lock on nop"
    db 0xf0, 0x90
    ENDTRY

    CASE "invalid opcode 0f 0b"
    db 0x0f, 0x0b
    ENDTRY
    ret

soft_handler:
    push ebp
    mov ebp, esp
    PUTS "in handler cs="
    PHEX16 [ebp+8]
    PUTS " efl="
    mov eax, [ebp+12]
    and eax, ~0x10000
    PHEX eax
    NL
    mov eax, 0x5678
    pop ebp
    iretd

bounds: dd 0, 10
saved_cr0: dd 0
%include "end.inc"
