; One access per 4 KiB page over 8 MiB with paging on (4 KiB pages, identity mapped):
; 4 instructions per page (2,048 pages), 4 per sweep around them, 6,000 sweeps.
; Timed instructions: 1 (mov ebp) + 6,000 * (2 + 4 * 2,048 + 2) + 1 (mov eax, 2)
;                   = 49,176,002.
; Result: after the timed loop, EBX = (EBX rol 1) + the first dword of each page in order
; (each page's first dword gets EAX = 1, from BENCH_START, added once per sweep).
%include "bench.inc"
SWEEPS equ 6000
PAGES equ 2048
REGION equ 0x800000                 ; 8 MiB .. 16 MiB
main:
    ; page tables for 0 .. 16 MiB: 4 tables, 4 KiB pages, supervisor read/write
    mov edi, page_tables
    mov eax, 0x003                  ; present, writable
.pt:
    mov [edi], eax
    add edi, 4
    add eax, 0x1000
    cmp eax, 0x1000000
    jb .pt
    mov edi, page_dir
    mov eax, page_tables + 0x003
    mov ecx, 4
.pd:
    mov [edi], eax
    add edi, 4
    add eax, 0x1000
    loop .pd
    mov eax, page_dir
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    BENCH_START
    mov ebp, SWEEPS
.sweep:
    mov esi, REGION
    mov ecx, PAGES
.l: add [esi], eax
    add esi, 4096
    dec ecx
    jnz .l
    dec ebp
    jnz .sweep
    BENCH_END
    xor ebx, ebx
    mov esi, REGION
    mov ecx, PAGES
.sum:
    rol ebx, 1
    add ebx, [esi]
    add esi, 4096
    dec ecx
    jnz .sum
    BENCH_RESULT ebx
    mov eax, cr0
    and eax, 0x7fffffff
    mov cr0, eax
    ret
section .bss
alignb 4096
page_tables: resb 4 * 4096
section .text
%include "../systests/end.inc"
