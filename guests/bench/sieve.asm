; A loop we did not write: gcc's code for the BYTE Sieve of Eratosthenes (sieve.c, the C
; listing of Gilbreath, BYTE, September 1981), compiled by scripts/build-bench-guests.sh
; and included here as bytes (its .text: position independent, no relocations).
; Timed instructions: 5 (3 pushes, call, add esp) + sieve(flags, 8190, ITERATIONS) + 1
; (mov ebx, eax) + 1 (mov eax, 2); sieve()'s own count, from this machine's CPU running
; the same object code under valgrind's callgrind, is in sieve.count.
; Result: sieve()'s return value, the primes of one pass: 1899 (the article's figure).
%include "bench.inc"
ITERATIONS equ 300
SIZE equ 8190
main:
    BENCH_START
    push ITERATIONS
    push SIZE
    push flags
    call sieve
    add esp, 12
    mov ebx, eax
    BENCH_END
    BENCH_RESULT ebx
    ret
align 16
sieve:
    incbin "sieve.text.bin"
section .bss
flags: resb SIZE + 1
section .text
%include "../systests/end.inc"
