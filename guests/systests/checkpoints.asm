; Register checkpoints for the differential runner: blocks of integer instructions, each
; followed by `out 0xe9, eax` (a checkpoint: the runner records all general registers and
; EFLAGS; QEMU ignores the port without -debugcon). At each checkpoint every flag is
; defined: where an instruction leaves flags undefined (SDM vol. 2), the block keeps only
; the defined ones (PUSHFD/POP/AND into a register) and ends with a flag-defining CMP.
%include "lib.inc"

%macro CK 0
    out 0xe9, eax
    call dump_regs
%endmacro
%macro KEEPFLAGS 2                  ; KEEPFLAGS reg, mask: defined flags into reg
    pushfd
    pop %1
    and %1, %2
%endmacro
CF equ 0x001
PF equ 0x004
AF equ 0x010
ZF equ 0x040
SF equ 0x080
OF equ 0x800

main:
    ; 1: add/adc/sub/sbb/neg/inc/dec chains
    mov eax, 0xfffffff0
    mov ebx, 0x7fffffff
    add eax, 0x20
    adc ebx, 0
    mov ecx, 5
    sbb ecx, 7
    neg ecx
    mov edx, 0x80000000
    dec edx
    mov esi, 0
    inc esi
    mov edi, 0x12345678
    sub edi, 0x9abcdef0
    CK
    ; 2: logic ops (AF undefined) and flags of NOT (none)
    mov eax, 0xf0f0f0f0
    and eax, 0x3c3c3c3c
    KEEPFLAGS ebx, CF|PF|ZF|SF|OF
    or eax, 0x01000001
    xor eax, 0x80808080
    not eax
    mov ecx, eax
    test ecx, 0x100
    KEEPFLAGS edx, CF|PF|ZF|SF|OF
    cmp eax, ecx
    CK
    ; 3: MUL/IMUL (only CF/OF defined), DIV/IDIV (no flags defined)
    mov eax, 0x12345678
    mov ecx, 0x9abcdef0
    mul ecx
    mov esi, edx
    KEEPFLAGS edi, CF|OF
    mov eax, -1234567
    imul eax, eax, 89
    mov ebx, eax
    mov eax, 0x7fffffff
    mov ecx, 3
    imul ecx
    mov ebp, edx
    KEEPFLAGS edx, CF|OF
    or edi, edx
    mov eax, 1000000007
    xor edx, edx
    mov ecx, 97
    div ecx
    mov ecx, edx
    mov eax, -1000000007
    cdq
    mov ebx, 13
    idiv ebx
    mov ebx, edx
    cmp eax, ebx
    CK
    ; 4: shifts and rotates (OF only defined for counts of 1; AF undefined)
    mov eax, 0x81234567
    shl eax, 1
    KEEPFLAGS ebx, CF|PF|ZF|SF|OF
    mov ecx, 0x81234567
    sar ecx, 7
    KEEPFLAGS edx, CF|PF|ZF|SF
    mov esi, 0x81234567
    rol esi, 13
    ror esi, 1
    rcl esi, 5
    rcr esi, 3
    mov edi, 0x0000ffff
    shld edi, esi, 12
    mov ebp, 0xdeadbeef
    shrd ebp, edi, 20
    cmp esi, edi
    CK
    ; 5: string instructions
    cld
    mov esi, src_bytes
    mov edi, dst_bytes
    mov ecx, 13
    rep movsb
    mov edi, dst_bytes + 16
    mov eax, 0xa5a5a5a5
    mov ecx, 4
    rep stosd
    mov esi, src_bytes
    mov edi, cmp_bytes
    mov ecx, 16
    repe cmpsb
    mov ebx, ecx
    mov edi, src_bytes
    mov al, 'o'
    mov ecx, 16
    repne scasb
    mov edx, [dst_bytes + 8]
    mov eax, [dst_bytes + 16]
    cmp ecx, ebx
    CK
    ; 6: bit scan and bit test
    mov eax, 0x00012000
    bsf ebx, eax
    bsr ecx, eax
    mov edx, 0x5555aaaa
    bt edx, 7
    setc ah
    bts edx, 0
    btr edx, 31
    btc edx, 16
    mov esi, 100
    bt dword [bit_array], esi       ; bit offset beyond the dword
    setc al
    bts dword [bit_array], esi
    mov edi, [bit_array + 12]
    cmp eax, edx
    CK
    ; 7: BCD adjusts
    mov al, 0x79
    add al, 0x35
    daa
    KEEPFLAGS ebx, CF|PF|ZF|SF|AF
    mov cl, al
    mov al, 0x35
    sub al, 0x47
    das
    KEEPFLAGS edx, CF|PF|ZF|SF|AF
    mov ch, al
    mov ax, 0x0009
    add al, 8
    aaa
    KEEPFLAGS esi, CF|AF
    mov di, ax
    mov al, 77
    aam
    aad 10
    KEEPFLAGS ebp, PF|ZF|SF
    cmp ax, di
    CK
    ; 8: exchange, compare-exchange, byte swap, extensions, conversions, setcc, cmov
    mov eax, 10
    mov ebx, 32
    xadd ebx, eax
    mov ecx, 10
    mov edx, 77
    mov eax, 10
    cmpxchg ecx, edx                ; equal: ecx <- 77
    mov eax, 11
    cmpxchg ecx, edx                ; not equal: eax <- ecx
    mov esi, eax
    mov eax, [q_old]
    mov edx, [q_old + 4]
    mov ebx, 0x11112222
    mov ecx, 0x33334444
    cmpxchg8b [q_old]
    setz bl
    mov edi, [q_old + 4]
    mov eax, 0x11223344
    bswap eax
    movsx ecx, byte [neg_byte]
    movzx edx, word [neg_word]
    mov bp, 0x8000
    cwde
    cmp ecx, edx
    setl bh
    cmovl esi, ecx
    cmovg edi, edx
    cmp eax, esi
    CK
    ; 9: stack: push/pop, pusha/popa, enter/leave, lahf/sahf, loops
    mov ebp, esp
    mov eax, 0x1111
    mov ecx, 0x2222
    pushad
    xor eax, eax
    xor ecx, ecx
    popad
    enter 16, 0
    mov ebx, esp
    sub ebx, ebp
    leave
    push word 0x1234
    pop si
    xor edx, edx
    mov ecx, 10
.l: add edx, ecx
    loop .l
    mov ah, 0xd5
    sahf
    lahf
    mov edi, eax
    cmp ebp, esp
    CK
    PUTSN "checkpoints done"
    ret

; Prints the registers of the checkpoint to COM1 too, so the QEMU fixture holds them.
dump_regs:
    pushfd
    pushad                          ; [esp]=edi esi ebp esp' ebx edx ecx eax, then eflags
    mov ebp, esp
    PUTS "ck eax="
    PHEX [ebp+28]
    PUTS " ecx="
    PHEX [ebp+24]
    PUTS " edx="
    PHEX [ebp+20]
    PUTS " ebx="
    PHEX [ebp+16]
    PUTS " esp="
    mov eax, [ebp+12]
    add eax, 8                      ; before the PUSHFD and the CALL
    call puthex32
    PUTS " ebp="
    PHEX [ebp+8]
    PUTS " esi="
    PHEX [ebp+4]
    PUTS " edi="
    PHEX [ebp]
    PUTS " efl="
    PHEX [ebp+32]
    NL
    popad
    popfd
    ret

src_bytes: db "hello, world of x86", 0
cmp_bytes: db "hello, wOrld of x86", 0
dst_bytes: times 32 db 0
align 4
bit_array: dd 0x11111111, 0x22222222, 0x33333333, 0x44444444
q_old: dd 0x12345678, 0x9abcdef0
neg_byte: db 0x85
neg_word: dw 0x8321
%include "end.inc"
