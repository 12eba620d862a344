; ALU loop without a rotate: 6 instructions per iteration, 10,000,000 iterations.
; Timed instructions: 1 (mov ecx) + 6 * 10,000,000 + 1 (mov eax, 2) = 60,000,002.
; Result: EBX after the loop (EAX = 1 from BENCH_START at the first iteration).
%include "bench.inc"
ITERATIONS equ 10000000
main:
    mov ebx, 0x9e3779b9
    mov edx, 0x7f4a7c15
    BENCH_START
    mov ecx, ITERATIONS
.l: add eax, ebx
    and eax, 0x7fffffff
    xor edx, eax
    sub ebx, edx
    dec ecx
    jnz .l
    BENCH_END
    BENCH_RESULT ebx
    ret
%include "../systests/end.inc"
