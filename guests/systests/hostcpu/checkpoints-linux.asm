; The checkpoints guest's register blocks (../checkpoints-body.inc) as a 32-bit Linux
; program, so the host's own CPU gives a third reference for them: it prints the same
; "ck ..." lines on stdout. Addresses (ESP, and the string pointers of block 5) and
; EFLAGS.IF differ from the guest by construction; test/diff compares the rest.
; Built by scripts/build-systests.sh.
bits 32

%macro CK 0
    call dump_regs
%endmacro

section .rwx progbits alloc exec write align=16   ; the blocks write to their own data
global _start
_start:
    call checkpoint_blocks
    mov eax, 1                      ; exit(0)
    xor ebx, ebx
    int 0x80

; "ck eax=... ecx=... edx=... ebx=... esp=... ebp=... esi=... edi=... efl=...\n"
dump_regs:
    pushfd
    pushad                          ; [esp]=edi esi ebp esp' ebx edx ecx eax, then eflags
    mov ebp, esp
    mov edi, line
    mov ebx, order
.field:
    movzx ecx, byte [ebx]           ; field offset from EBP, 0xff ends
    cmp cl, 0xff
    je .done
    mov esi, [ebx + 1]              ; label text
.label:
    lodsb
    test al, al
    jz .value
    stosb
    jmp .label
.value:
    mov eax, [ebp + ecx]
    cmp cl, 12                      ; the pushed ESP: before the PUSHFD and the CALL
    jne .hex
    add eax, 8
.hex:
    mov edx, 8
.digit:
    rol eax, 4
    push eax
    and al, 0x0f
    add al, '0'
    cmp al, '9'
    jbe .d
    add al, 'a' - '9' - 1
.d: stosb
    pop eax
    dec edx
    jnz .digit
    add ebx, 5
    jmp .field
.done:
    mov al, 10
    stosb
    mov edx, edi
    sub edx, line
    mov eax, 4                      ; write(1, line, len)
    mov ebx, 1
    mov ecx, line
    int 0x80
    popad
    popfd
    ret

order:
    db 28
    dd s_eax
    db 24
    dd s_ecx
    db 20
    dd s_edx
    db 16
    dd s_ebx
    db 12
    dd s_esp
    db 8
    dd s_ebp
    db 4
    dd s_esi
    db 0
    dd s_edi
    db 32
    dd s_efl
    db 0xff
s_eax: db "ck eax=", 0
s_ecx: db " ecx=", 0
s_edx: db " edx=", 0
s_ebx: db " ebx=", 0
s_esp: db " esp=", 0
s_ebp: db " ebp=", 0
s_esi: db " esi=", 0
s_edi: db " edi=", 0
s_efl: db " efl=", 0
line: times 128 db 0

%include "checkpoints-body.inc"        ; nasm -I guests/systests/
