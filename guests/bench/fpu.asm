; x87 loop: the Mandelbrot step z = z^2 + c, 1,000,000 times, for c = -0.123 + 0.745i
; (Douady's rabbit: inside the set, so z stays bounded), in double precision (FLDCW
; 0x027F: precision control 53 bits, round to nearest, every exception masked), so each
; result is the IEEE double JavaScript computes for the same expression.
; 14 instructions per iteration: FLD, FMUL, FLD, FMUL, FSUBP, FADD, FXCH, FMULP, FXCH,
; FADD, FADD, FXCH, DEC, JNZ.
; Timed instructions: 1 (mov ecx) + 14 * 1,000,000 + 1 (mov eax, 2) = 14,000,002.
; Result: EBX = round(zr * 2^30) + round(zi * 2^30) mod 2^32 (FISTP, round to nearest even).
%include "bench.inc"
ITERATIONS equ 1000000
main:
    fninit
    fldcw [cw]
    fld qword [cr]
    fld qword [ci]
    fldz                            ; zi
    fldz                            ; zr          stack: zr zi ci cr
    BENCH_START
    mov ecx, ITERATIONS
.l: fld st0                         ; zr zr zi ci cr
    fmul st0, st0                   ; zr^2 zr zi ci cr
    fld st2                         ; zi zr^2 zr zi ci cr
    fmul st0, st0                   ; zi^2 zr^2 zr zi ci cr
    fsubp st1, st0                  ; zr^2-zi^2 zr zi ci cr
    fadd st0, st4                   ; zr' zr zi ci cr
    fxch st1                        ; zr zr' zi ci cr
    fmulp st2, st0                  ; zr' zi*zr ci cr
    fxch st1                        ; zi*zr zr' ci cr
    fadd st0, st0                   ; 2*zi*zr zr' ci cr
    fadd st0, st2                   ; zi' zr' ci cr
    fxch st1                        ; zr' zi' ci cr
    dec ecx
    jnz .l
    BENCH_END
    fmul qword [scale]
    fistp dword [out_r]
    fmul qword [scale]
    fistp dword [out_i]
    mov ebx, [out_r]
    add ebx, [out_i]
    BENCH_RESULT ebx
    ret
align 8
cr: dq -0.123
ci: dq 0.745
scale: dq 1073741824.0
cw: dw 0x027f
align 4
out_r: dd 0
out_i: dd 0
%include "../systests/end.inc"
