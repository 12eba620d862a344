; Load/add/store over a 64 KiB buffer: 6 instructions per dword (16,384 dwords), 3 per
; pass around them, 600 passes.
; Timed instructions: 1 (mov ebp) + 600 * (2 + 6 * 16,384 + 2) + 1 (mov eax, 2)
;                   = 58,984,802.
; Result: after the timed loop, EBX = (EBX rol 1) + dword over the buffer's dwords in order.
%include "bench.inc"
PASSES equ 600
DWORDS equ 65536 / 4
main:
    mov edx, 0x01010101
    BENCH_START
    mov ebp, PASSES
.pass:
    mov esi, buffer
    mov ecx, DWORDS
.l: mov eax, [esi]
    add eax, edx
    mov [esi], eax
    add esi, 4
    dec ecx
    jnz .l
    dec ebp
    jnz .pass
    BENCH_END
    xor ebx, ebx
    mov esi, buffer
    mov ecx, DWORDS
.sum:
    rol ebx, 1
    add ebx, [esi]
    add esi, 4
    dec ecx
    jnz .sum
    BENCH_RESULT ebx
    ret
section .bss
alignb 4096
buffer: resb 65536
section .text
%include "../systests/end.inc"
