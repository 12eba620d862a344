; CALL/RET loop: 5 instructions per iteration (call, add, ret, dec, jnz), 10,000,000
; iterations.
; Timed instructions: 1 (mov ecx) + 5 * 10,000,000 + 1 (mov eax, 2) = 50,000,002.
; Result: EBX = the sum of ECX over the iterations, 10,000,000 + ... + 1 (mod 2^32).
%include "bench.inc"
ITERATIONS equ 10000000
main:
    xor ebx, ebx
    BENCH_START
    mov ecx, ITERATIONS
.l: call leaf
    dec ecx
    jnz .l
    BENCH_END
    BENCH_RESULT ebx
    ret
leaf:
    add ebx, ecx
    ret
%include "../systests/end.inc"
