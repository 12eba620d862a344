; CALL/RET loop: 4 instructions per iteration (call, ret, dec, jnz), 10,000,000 iterations.
; Timed instructions: 1 (mov ecx) + 4 * 10,000,000 + 1 (mov eax, 2) = 40,000,002.
%include "bench.inc"
ITERATIONS equ 10000000
main:
    BENCH_START
    mov ecx, ITERATIONS
.l: call leaf
    dec ecx
    jnz .l
    BENCH_END
    ret
leaf:
    ret
%include "../systests/end.inc"
