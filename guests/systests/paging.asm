; Paging (SDM vol. 3A, chapter 4, 32-bit paging): accessed and dirty bits written back to
; the PDE/PTE, #PF error codes (4.7: P=1 protection, W/R=2 write, U/S=4 user) with CR2,
; 4 MiB pages (CR4.PSE), CR0.WP, user/supervisor checks from ring 3, INVLPG, and the
; combined PDE/PTE rights (4.6: both levels must allow an access).
%include "lib.inc"

P   equ 1
RW  equ 2
US  equ 4
PS  equ 0x80
T   equ 0x800000                    ; test pages, mapped by page_tab2 (PDE 2)

%macro SHOWPTE 1                    ; prints the PTE of test page %1 (index in page_tab2)
    PUTS "pte["
    PHEX8 %1
    PUTS "]="
    PHEX [page_tab2 + 4*%1]
    NL
%endmacro

main:
    ; PT 0: identity 0-4 MiB, 4 KiB pages, user-accessible (the guest's code and stacks)
    mov edi, page_tab
    mov eax, P | RW | US
.pt0:
    mov [edi], eax
    add edi, 4
    add eax, 0x1000
    cmp edi, page_tab + 4096
    jb .pt0
    mov dword [page_dir + 0], page_tab + (P | RW | US)
    mov dword [page_dir + 4], 0x400000 + (P | RW | PS)       ; 4 MiB page, supervisor
    mov dword [page_dir + 8], page_tab2 + (P | RW | US)
    ; PT 2: test pages at 8 MiB
    mov dword [page_tab2 + 4*0], T + 0x0000 + (P | RW | US)  ; read test
    mov dword [page_tab2 + 4*1], T + 0x1000 + (P | RW | US)  ; write test
    mov dword [page_tab2 + 4*2], 0                           ; not present
    mov dword [page_tab2 + 4*3], T + 0x3000 + (P | US)       ; read-only
    mov dword [page_tab2 + 4*4], T + 0x4000 + (P | RW)       ; supervisor only
    mov dword [page_tab2 + 4*5], T + 0x5000 + (P | RW | US)  ; INVLPG target frame
    ; PDE 4 (16 MiB): read-only at the PDE, PTE writable; PDE 5 (20 MiB): supervisor at
    ; the PDE, PTE user. Both tables map their first page to frame T + 0x6000.
    mov dword [page_dir + 16], ptab_ro + (P | US)
    mov dword [page_dir + 20], ptab_sup + (P | RW)
    mov dword [ptab_ro], T + 0x6000 + (P | RW | US)
    mov dword [ptab_sup], T + 0x6000 + (P | RW | US)
    mov dword [T + 0x5000], 0x55555555
    mov dword [T + 0x0000], 0x11111111

    mov eax, cr4
    or eax, 1 << 4                  ; PSE
    mov cr4, eax
    mov eax, page_dir
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    PUTSN "paging on"

    mov eax, [T + 0x0000]
    PUTS "read value="
    PHEX eax
    NL
    SHOWPTE 0
    PUTS "pde[2]="
    PHEX [page_dir + 8]
    NL
    mov dword [T + 0x1004], 0xabcd
    SHOWPTE 1

    CASE "read not-present"
    mov eax, [T + 0x2010]
    ENDTRY
    CASE "write not-present"
    mov dword [T + 0x2020], 1
    ENDTRY
    CASE "fetch not-present"
    mov eax, T + 0x2000
    jmp eax
    ENDTRY
    CASE "read unmapped pde"
    mov eax, [0xc00123]
    ENDTRY
    CASE "ring 0 write read-only, wp=0"
    mov dword [T + 0x3008], 0x77
    ENDTRY
    SHOWPTE 3
    mov eax, cr0
    or eax, 1 << 16                 ; WP
    mov cr0, eax
    CASE "ring 0 write read-only, wp=1"
    mov dword [T + 0x300c], 0x88
    ENDTRY
    PUTS "value after faulting write="
    PHEX [T + 0x300c]
    NL

    ; rights combined over both levels
    CASE "ring 0 write, pde read-only, pte writable, wp=1"
    mov dword [0x1000000], 1
    ENDTRY
    CASE "user write, pde read-only, pte writable"
    mov eax, user_write_pde_ro
    xor ecx, ecx
    call to_ring3
    ENDTRY
    CASE "user read, pde read-only, pte writable"
    mov eax, user_read_pde_ro
    xor ecx, ecx
    call to_ring3
    ENDTRY
    CASE "user read, pde supervisor, pte user"
    mov eax, user_read_pde_sup
    xor ecx, ecx
    call to_ring3
    ENDTRY

    ; 4 MiB page
    mov eax, [0x400100]
    PUTS "pde[1] after read="
    PHEX [page_dir + 4]
    NL
    mov dword [0x400200], 5
    PUTS "pde[1] after write="
    PHEX [page_dir + 4]
    NL

    ; ring 3
    CASE "user read supervisor page"
    mov eax, user_read_super
    xor ecx, ecx
    call to_ring3
    ENDTRY
    CASE "user write read-only page"
    mov eax, user_write_ro
    xor ecx, ecx
    call to_ring3
    ENDTRY
    CASE "user read 4 MiB supervisor page"
    mov eax, user_read_big
    xor ecx, ecx
    call to_ring3
    ENDTRY
    CASE "user write own page"
    mov eax, user_write_ok
    xor ecx, ecx
    call to_ring3
    ENDTRY
    SHOWPTE 1

    ; INVLPG: remap test page 0 to frame 5; after INVLPG the new frame is read
    mov dword [page_tab2 + 4*0], T + 0x5000 + (P | RW | US)
    invlpg [T]
    PUTS "after invlpg="
    PHEX [T]
    NL
    ; CR3 reload flushes the TLB too
    mov dword [page_tab2 + 4*0], T + 0x0000 + (P | RW | US)
    mov eax, cr3
    mov cr3, eax
    PUTS "after cr3 reload="
    PHEX [T]
    NL
    ; A/D bits are not set again when already set; clear A and access: set again
    and dword [page_tab2 + 4*1], ~0x60
    invlpg [T + 0x1000]
    mov eax, [T + 0x1000]
    SHOWPTE 1

    mov eax, cr0
    and eax, ~0x80010000
    mov cr0, eax
    PUTSN "paging off"
    ret

user_read_super:
    mov eax, [T + 0x4000]
    int 0x30
user_write_ro:
    mov dword [T + 0x3010], 1
    int 0x30
user_read_big:
    mov eax, [0x400300]
    int 0x30
user_write_pde_ro:
    mov dword [0x1000010], 2
    int 0x30
user_read_pde_ro:
    mov eax, [0x1000010]
    int 0x30
user_read_pde_sup:
    mov eax, [0x1400010]
    int 0x30
user_write_ok:
    mov dword [T + 0x1100], 2
    int 0x30
section .bss
alignb 4096
ptab_ro:  resb 4096
ptab_sup: resb 4096
section .text
%include "end.inc"
