; Page tables written in every way (SDM vol. 3A, chapter 4, 32-bit paging), for shadow
; paging (issue 10) to follow what native paging does: PTE and PDE rewrites, 4 MiB entries
; rewritten, a recursive mapping (PDE 1023 points to the directory itself) read and written
; through, a page table that is also mapped as data and written as data, accessed and dirty
; bits read back (4.8), CR3 switches among many address spaces (more than a shadow root
; cache keeps) with tables of inactive spaces rewritten, INVLPG of a non-present entry, a
; not-present entry made present without INVLPG (4.10.4.3: not-present entries are not
; cached), CR0.WP = 0 supervisor writes to read-only pages, global pages across CR3 loads.
; Every value printed depends only on the architecture (no stale-TLB observations).
%include "lib.inc"

P   equ 1
RW  equ 2
US  equ 4
AC  equ 0x20
DIRTY equ 0x40
PS  equ 0x80
GL  equ 0x100
T   equ 0x800000                    ; test pages: PDE 2, table ptab_a (or ptab_b)
DATA equ 0xc00000                   ; physical data frames (not identity-mapped)
NSPACE equ 20                       ; address spaces for the CR3 switches

%define FRAME(n) (DATA + (n) * 0x1000)

%macro SHOW 2                       ; SHOW "label", value
    PUTS %1
    PUTS "="
    PHEX %2
    NL
%endmacro

main:
    ; Data frames: frame n holds 0xd0000000 + n in its first dword (paging still off).
    xor ecx, ecx
.fill:
    lea eax, [ecx + 0xd0000000]
    mov edx, ecx
    shl edx, 12
    mov [DATA + edx], eax
    inc ecx
    cmp ecx, 64
    jb .fill
    ; PT 0: identity 0-4 MiB, user-accessible (code, stacks, tables)
    mov edi, page_tab
    mov eax, P | RW | US
.pt0:
    mov [edi], eax
    add edi, 4
    add eax, 0x1000
    cmp edi, page_tab + 4096
    jb .pt0
    mov dword [page_dir + 0], page_tab + (P | RW | US)
    mov dword [page_dir + 8], ptab_a + (P | RW | US)
    mov dword [page_dir + 12], 0x1000000 + (P | RW | US | PS)   ; 12 MiB: 4 MiB page at 16 MiB
    mov dword [page_dir + 16], 0x1000000 + (P | RW | PS)        ; 16 MiB: an alias of it
    mov dword [page_dir + 4092], page_dir + (P | RW)            ; recursive
    mov dword [ptab_a + 4*0], FRAME(0) + (P | RW | US)
    mov dword [ptab_a + 4*1], FRAME(1) + (P | US)               ; read-only
    mov dword [ptab_a + 4*5], ptab_a + (P | RW)                 ; the table as data

    mov eax, cr4
    or eax, (1 << 4) | (1 << 7)     ; PSE, PGE
    mov cr4, eax
    mov eax, page_dir
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80010000              ; PG, WP
    mov cr0, eax
    PUTSN "paging on"

    ; ---- PTE rewrites
    SHOW "t0", [T]
    SHOW "pte0 after read", [ptab_a]
    mov dword [ptab_a], FRAME(2) + (P | RW | US)
    invlpg [T]
    SHOW "t0 after pte rewrite", [T]
    mov dword [T + 4], 0x1234
    SHOW "pte0 after write", [ptab_a]
    SHOW "frame2 word1", [T + 4]
    CASE "write read-only pte"
    mov dword [T + 0x1000], 1
    ENDTRY
    mov dword [ptab_a + 4], FRAME(1) + (P | RW | US)
    invlpg [T + 0x1000]
    CASE "write after pte made writable"
    mov dword [T + 0x1000], 0x77
    ENDTRY
    SHOW "pte1", [ptab_a + 4]

    ; ---- PDE rewrite: PDE 2 to table ptab_b
    mov dword [ptab_b], FRAME(3) + (P | RW | US)
    mov dword [page_dir + 8], ptab_b + (P | RW | US)
    mov eax, cr3
    mov cr3, eax
    SHOW "t0 via ptab_b", [T]
    SHOW "pde2", [page_dir + 8]
    mov dword [page_dir + 8], ptab_a + (P | RW | US)
    invlpg [T]
    SHOW "t0 via ptab_a again", [T]

    ; ---- 4 MiB entries
    mov dword [0xc00010], 0xbeef
    SHOW "alias read", [0x1000010]
    SHOW "pde3", [page_dir + 12]
    SHOW "pde4", [page_dir + 16]
    mov dword [page_dir + 12], 0x1400000 + (P | RW | US | PS)
    invlpg [0xc00010]
    SHOW "4m rebased", [0xc00010]
    mov dword [page_dir + 16], 0x1000000 + (P | PS)             ; read-only alias
    invlpg [0x1000010]
    CASE "write read-only 4m"
    mov dword [0x1000010], 5
    ENDTRY
    SHOW "pde4 after", [page_dir + 16]
    ; a 4 MiB PDE replaced by a table, and back
    mov dword [ptab_c], FRAME(4) + (P | RW | US)
    mov dword [page_dir + 12], ptab_c + (P | RW | US)
    invlpg [0xc00000]
    SHOW "4m replaced by a table", [0xc00000]
    mov dword [page_dir + 12], 0x1000000 + (P | RW | US | PS)
    invlpg [0xc00000]
    SHOW "table replaced by 4m", [0xc00010]

    ; ---- recursive mapping: 0xffc00000 + 4*n is PTE n of the table of PDE n/1024
    SHOW "pte0 via recursion", [0xffc00000 + 4 * (T >> 12)]
    SHOW "pde2 via recursion", [0xfffff000 + 8]
    mov dword [0xffc00000 + 4 * ((T >> 12) + 2)], FRAME(5) + (P | RW | US)
    invlpg [T + 0x2000]
    SHOW "t2 after recursive write", [T + 0x2000]
    SHOW "pte2", [ptab_a + 8]
    ; a directory entry written through the recursion: PDE 5 (20 MiB) to ptab_b
    mov dword [0xfffff000 + 20], ptab_b + (P | RW | US)
    mov eax, cr3
    mov cr3, eax
    SHOW "20m via recursive pde", [0x1400000]
    SHOW "pde5", [page_dir + 20]

    ; ---- a page table that is also data (PTE 5 maps ptab_a at T + 0x5000)
    SHOW "table as data word0", [T + 0x5000]
    mov dword [T + 0x5000 + 4*6], FRAME(6) + (P | RW | US)
    invlpg [T + 0x6000]
    SHOW "t6 after data write", [T + 0x6000]
    SHOW "pte6", [ptab_a + 4*6]
    SHOW "pte5", [ptab_a + 4*5]
    mov dword [T + 0x5000 + 4*6], 0
    invlpg [T + 0x6000]
    CASE "read after data write cleared pte"
    mov eax, [T + 0x6000]
    ENDTRY

    ; ---- accessed and dirty bits
    mov dword [ptab_a + 4*7], FRAME(7) + (P | RW | US)
    SHOW "pte7 fresh", [ptab_a + 4*7]
    mov eax, [T + 0x7000]
    SHOW "pte7 after read", [ptab_a + 4*7]
    mov dword [T + 0x7000], 1
    SHOW "pte7 after write", [ptab_a + 4*7]
    and dword [ptab_a + 4*7], ~(AC | DIRTY)
    invlpg [T + 0x7000]
    mov dword [T + 0x7004], 2
    SHOW "pte7 cleared then write", [ptab_a + 4*7]
    and dword [ptab_a + 4*7], ~(AC | DIRTY)
    invlpg [T + 0x7000]
    mov eax, [T + 0x7004]
    SHOW "pte7 cleared then read", [ptab_a + 4*7]
    and dword [page_dir + 8], ~AC
    invlpg [T]
    mov eax, [T]
    SHOW "pde2 a after read", [page_dir + 8]
    SHOW "pde3 (4m, written)", [page_dir + 12]

    ; ---- INVLPG of a non-present entry; not-present made present without INVLPG
    invlpg [T + 0x9000]
    CASE "read non-present after invlpg"
    mov eax, [T + 0x9000]
    ENDTRY
    mov dword [ptab_a + 4*9], FRAME(9) + (P | RW | US)
    SHOW "t9 present without invlpg", [T + 0x9000]
    invlpg [T + 0xa000]
    invlpg [0x3fc00000]             ; a linear address whose PDE is not present

    ; ---- CR0.WP = 0: a supervisor write to a read-only page succeeds
    mov dword [ptab_a + 4*10], FRAME(10) + (P | US)
    mov eax, cr0
    and eax, ~(1 << 16)
    mov cr0, eax
    CASE "wp=0 write read-only"
    mov dword [T + 0xa000], 0xaa
    ENDTRY
    SHOW "t10", [T + 0xa000]
    SHOW "pte10", [ptab_a + 4*10]
    mov eax, cr0
    or eax, 1 << 16
    mov cr0, eax
    CASE "wp=1 write read-only"
    mov dword [T + 0xa004], 0xbb
    ENDTRY
    SHOW "cr0", cr0

    ; ---- user-mode faults through the shadow
    CASE "user write read-only"
    mov eax, user_write_ro
    xor ecx, ecx
    call to_ring3
    ENDTRY
    CASE "user read supervisor table-as-data"
    mov eax, user_read_sup
    xor ecx, ecx
    call to_ring3
    ENDTRY

    ; ---- global page: kept across CR3 loads, dropped by INVLPG
    mov dword [ptab_a + 4*11], FRAME(11) + (P | RW | US | GL)
    SHOW "t11 global", [T + 0xb000]
    mov eax, cr3
    mov cr3, eax
    SHOW "t11 after cr3 load", [T + 0xb000]
    SHOW "pte11", [ptab_a + 4*11]

    ; ---- many address spaces: space i maps T to frame 32 + i through its own table
    xor ebx, ebx
.mk:
    mov edi, ebx
    shl edi, 13                     ; 8 KiB per space: directory, then table
    add edi, spaces
    mov eax, page_tab + (P | RW | US)
    mov [edi], eax
    lea eax, [edi + 0x1000 + (P | RW | US)]
    mov [edi + 8], eax
    lea eax, [ebx + 32]
    shl eax, 12
    add eax, DATA + (P | RW | US)
    mov [edi + 0x1000], eax
    inc ebx
    cmp ebx, NSPACE
    jb .mk
    mov esi, 3                      ; rounds
.round:
    xor ebx, ebx
    xor edx, edx
.sw:
    mov eax, ebx
    shl eax, 13
    add eax, spaces
    mov cr3, eax
    add edx, [T]
    inc ebx
    cmp ebx, NSPACE
    jb .sw
    SHOW "sum over spaces", edx
    ; rewrite the tables of every space while the last one is current: the space that
    ; maps frame 32 + k maps frame 32 + (k + 1) % NSPACE after it
    xor ebx, ebx
.rw:
    mov edi, ebx
    shl edi, 13
    add edi, spaces
    mov eax, [edi + 0x1000]
    sub eax, DATA + (P | RW | US)
    shr eax, 12
    sub eax, 31                     ; k + 1
    cmp eax, NSPACE
    jb .nowrap
    xor eax, eax
.nowrap:
    add eax, 32
    shl eax, 12
    add eax, DATA + (P | RW | US)
    mov [edi + 0x1000], eax
    inc ebx
    cmp ebx, NSPACE
    jb .rw
    mov eax, spaces + 5 * 0x2000
    mov cr3, eax
    SHOW "space 5 t", [T]
    dec esi
    jnz .round
    mov eax, page_dir
    mov cr3, eax
    SHOW "back home t0", [T]

    mov eax, cr0
    and eax, ~0x80010000
    mov cr0, eax
    PUTSN "paging off"
    SHOW "frame1", [FRAME(1)]
    SHOW "frame2 word1", [FRAME(2) + 4]
    SHOW "frame7", [FRAME(7)]
    ret

user_write_ro:
    mov dword [T + 0xa008], 1
    int 0x30
user_read_sup:
    mov eax, [T + 0x5000]
    int 0x30

section .bss
alignb 4096
ptab_a: resb 4096
ptab_b: resb 4096
ptab_c: resb 4096
spaces: resb NSPACE * 0x2000
section .text
%include "end.inc"
