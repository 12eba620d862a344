; A fuzz of page-table writes and accesses (SDM vol. 3A, chapter 4), for shadow paging
; (issue 10): OPS random operations from a fixed xorshift32 seed, each one of
;   - a PTE of one of four test tables rewritten (a data frame, or one of the test tables
;     itself: a page table that is also data), then INVLPG of its page;
;   - a PDE of the test region rewritten (not present, a table, or a 4 MiB page), then a
;     CR3 reload;
;   - a read or a write through the test region (12 linear pages in each of 4 PDEs), a
;     #PF recorded with its error code and CR2 and the access skipped;
;   - a PTE or PDE read back (accessed and dirty bits);
;   - a switch between two address spaces (CR3).
; Every value read, every fault's error code and CR2 and every entry read back go into a
; hash, printed every 10000 operations. Every change is flushed from the TLB (a write
; through the test region may hit a live table: CR3 reload after each), so the output
; depends only on the architecture. CR0.WP = 1, CR4.PSE = 1, CR4.PGE = 0, CPL 0.
%include "lib.inc"

P   equ 1
RW  equ 2
US  equ 4
AC  equ 0x20
DIRTY equ 0x40
PS  equ 0x80
DATA equ 0xc00000                   ; 64 physical data frames at 12 MiB
REGION equ 0x800000                 ; linear test region: PDEs 2-5
OPS equ 100000

main:
    ; identity 0-4 MiB (supervisor): code, stacks, tables
    mov edi, page_tab
    mov eax, P | RW
.pt0:
    mov [edi], eax
    add edi, 4
    add eax, 0x1000
    cmp edi, page_tab + 4096
    jb .pt0
    mov dword [pd1], page_tab + (P | RW)
    mov dword [pd2], page_tab + (P | RW)
    ; data frame n holds n * 0x01010101 in its first dword
    xor ecx, ecx
.df:
    mov eax, ecx
    imul eax, 0x01010101
    mov edx, ecx
    shl edx, 12
    mov [DATA + edx], eax
    inc ecx
    cmp ecx, 64
    jb .df
    ; #PF: our own handler records the fault and skips the 2-byte access
    mov eax, 14
    mov ebx, pf_handler
    mov ecx, SEL_CODE0
    mov edx, 0x8e
    call set_gate
    mov dword [seed], 0x2545f491
    mov eax, cr4
    or eax, 1 << 4                  ; PSE
    mov cr4, eax
    mov eax, pd1
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80010000              ; PG, WP
    mov cr0, eax
    PUTSN "paging on"

    mov dword [count], 0
.op:
    call rnd
    mov ecx, eax
    shr ecx, 28                     ; 0-15
    cmp ecx, 5
    jb .pte
    cmp ecx, 6
    jb .pde
    cmp ecx, 12
    jb .access
    cmp ecx, 14
    jb .readback
    ; switch address spaces
    mov eax, cr3
    cmp eax, pd1
    mov eax, pd2
    je .sw
    mov eax, pd1
.sw:
    mov cr3, eax
    jmp .next

.pte:                               ; table (0-3), entry (0-11)
    call rnd
    mov ebx, eax
    and ebx, 3
    shl ebx, 12
    add ebx, ptabs                  ; the table
    xor edx, edx
    shr eax, 2
    mov ecx, 12
    div ecx                         ; edx = entry
    lea edi, [ebx + edx * 4]
    call gen_pte
    mov [edi], eax
    ; flush every linear page this entry may be seen at: INVLPG of the entry's page in
    ; each of the four PDEs
    shl edx, 12
    add edx, REGION
    mov ecx, 4
.inv:
    invlpg [edx]
    add edx, 0x400000
    loop .inv
    jmp .next

.pde:                               ; which space, which PDE (2-5), what
    call rnd
    mov edi, pd1
    test eax, 1
    jz .pd
    mov edi, pd2
.pd:
    mov ebx, eax
    shr ebx, 1
    and ebx, 3
    lea edi, [edi + 8 + ebx * 4]
    shr eax, 3
    mov ecx, eax
    and ecx, 7
    jz .pde0                        ; 1 in 8: not present
    cmp ecx, 1
    je .pde4m                       ; 1 in 8: a 4 MiB page over the data frames
    mov ebx, eax
    shr ebx, 3
    and ebx, 3
    shl ebx, 12
    add ebx, ptabs
    shr eax, 5
    and eax, RW | US | AC
    or eax, ebx
    or eax, P
    jmp .pdeset
.pde0:
    xor eax, eax
    jmp .pdeset
.pde4m:
    shr eax, 3
    and eax, RW | US | AC | DIRTY
    or eax, DATA | P | PS
.pdeset:
    mov [edi], eax
    mov eax, cr3
    mov cr3, eax
    jmp .next

.access:                            ; PDE 2-5, page 0-11, offset, read or write
    call rnd
    mov ebx, eax
    and ebx, 3
    shl ebx, 22
    add ebx, REGION
    mov ecx, eax
    shr ecx, 2
    and ecx, 0xffff
    xor edx, edx
    mov eax, ecx
    mov ecx, 12
    div ecx
    shl edx, 12
    add ebx, edx
    call rnd
    mov esi, eax
    and esi, 0xffc                  ; aligned dword in the page
    add esi, ebx
    test eax, 0x80000000
    jnz .write
    mov dword [faulted], 0
    mov eax, 0x5a5a5a5a
    mov eax, [esi]                  ; 8b 06: 2 bytes, skipped on #PF
    call mix
    jmp .afterfault
.write:
    mov dword [faulted], 0
    call gen_pte                    ; a value that is a safe entry if this page is a table
    mov [esi], eax                  ; 89 06: 2 bytes, skipped on #PF
    mov eax, cr3                    ; the page written may be a live table: flush
    mov cr3, eax
.afterfault:
    cmp dword [faulted], 0
    je .next
    mov eax, [fault_err]
    call mix
    mov eax, [fault_cr2]
    call mix
    jmp .next

.readback:                          ; a PTE of a test table, or a PDE of a space
    call rnd
    test eax, 1
    jz .rbpde
    mov ebx, eax
    shr ebx, 1
    and ebx, 0x3fff
    and ebx, ~3
    mov eax, [ptabs + ebx]
    call mix
    jmp .next
.rbpde:
    mov ebx, eax
    shr ebx, 1
    and ebx, 3
    mov eax, [pd1 + 8 + ebx * 4]
    call mix
    mov eax, [pd2 + 8 + ebx * 4]
    call mix

.next:
    inc dword [count]
    mov eax, [count]
    xor edx, edx
    mov ecx, 10000
    div ecx
    test edx, edx
    jnz .more
    PUTS "ops="
    PHEX [count]
    PUTS " hash="
    PHEX [hash]
    PUTS " faults="
    PHEX [nfaults]
    NL
.more:
    cmp dword [count], OPS
    jb .op
    mov eax, cr0
    and eax, ~0x80010000
    mov cr0, eax
    PUTSN "paging off"
    ret

; xorshift32 (Marsaglia 2003): EAX = next value
rnd:
    mov eax, [seed]
    mov ecx, eax
    shl ecx, 13
    xor eax, ecx
    mov ecx, eax
    shr ecx, 17
    xor eax, ecx
    mov ecx, eax
    shl ecx, 5
    xor eax, ecx
    mov [seed], eax
    ret

; hash = hash * 31 + EAX
mix:
    push edx
    mov edx, [hash]
    imul edx, 31
    add edx, eax
    mov [hash], edx
    pop edx
    ret

; EAX = a random entry: a data frame (60 in 64) or a test table, P 7 in 8, RW, US, A, D
gen_pte:
    push ebx
    push ecx
    push edx
    call rnd
    mov ebx, eax
    shr ebx, 26                     ; 0-63
    cmp ebx, 60
    jb .data
    and ebx, 3
    shl ebx, 12
    add ebx, ptabs
    jmp .flags
.data:
    shl ebx, 12
    add ebx, DATA
.flags:
    mov ecx, eax
    and ecx, RW | US | AC | DIRTY
    test eax, 0x700
    jz .np
    or ecx, P
.np:
    mov eax, ebx
    or eax, ecx
    pop edx
    pop ecx
    pop ebx
    ret

pf_handler:
    push eax
    mov eax, [esp + 4]              ; error code
    mov [fault_err], eax
    mov eax, cr2
    mov [fault_cr2], eax
    mov dword [faulted], 1
    inc dword [nfaults]
    add dword [esp + 8], 2          ; skip the access
    pop eax
    add esp, 4
    iret

section .bss
alignb 4096
pd1:    resb 4096
pd2:    resb 4096
ptabs:  resb 4 * 4096
seed:   resd 1
hash:   resd 1
count:  resd 1
faulted: resd 1
nfaults: resd 1
fault_err: resd 1
fault_cr2: resd 1
section .text
%include "end.inc"
