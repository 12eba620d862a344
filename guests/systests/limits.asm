; Segment limit and type checks on memory accesses (SDM vol. 3A, 5.3 and 5.4; vol. 2 for
; the error codes): beyond the limit of a data segment #GP(0), of the stack segment #SS(0);
; expand-down segments (valid offsets above the limit); access through a null selector;
; writes through a read-only data or a code segment; the accessed bit set by a CS load.
; QEMU TCG checks none of these on data accesses, so this guest's reference is Bochs.
%include "lib.inc"

; ACCESS "name", selector, sreg, instruction: load sreg, run the instruction, restore
%macro ACCESS 4
    PUTS %1
    PUTS ": "
    TRY
    mov ax, %2
    mov %3, ax
    %4
    call restore_segs
    ENDTRY
    call restore_segs
%endmacro

main:
    mov esi, descs
    mov edi, gdt_test
    mov ecx, descs_end - descs
    rep movsb
    mov ebx, 0x0ffc

    ACCESS "read dword at limit-3 (0xffc, limit 0xfff)", 0x40, es, {mov eax, [es:0xffc]}
    ACCESS "read dword at limit-2", 0x40, es, {mov eax, [es:0xffd]}
    ACCESS "read byte at limit", 0x40, es, {mov al, [es:0xfff]}
    ACCESS "read byte beyond limit", 0x40, es, {mov al, [es:0x1000]}
    ACCESS "write beyond limit via fs", 0x40, fs, {mov byte [fs:0x2000], 1}
    ACCESS "page-granular limit: read at 0x1fff", 0x48, gs, {mov al, [gs:0x1fff]}
    ACCESS "page-granular limit: read at 0x2000", 0x48, gs, {mov al, [gs:0x2000]}
    ACCESS "expand-down: read at 0x1000 (limit 0xfff)", 0x50, es, {mov al, [es:0x1000]}
    ACCESS "expand-down: read at 0xfff", 0x50, es, {mov al, [es:0xfff]}
    ACCESS "expand-down: read at 0xffff (B=0: top 0xffff)", 0x50, es, {mov al, [es:0xffff]}
    ACCESS "expand-down: read at 0x10000 (above 0xffff)", 0x50, es, {mov al, [es:0x10000]}
    ACCESS "read through null es", 0, es, {mov al, [es:0]}
    ACCESS "write through read-only data", 0x58, es, {mov byte [es:0x100], 1}
    ACCESS "read through read-only data", 0x58, es, {mov al, [es:0x100]}
    ACCESS "write through readable code (cs override)", 0x08, es, {mov byte [cs:scratch], 1}
    PUTS "string store beyond limit (rep stosb): "
    TRY
    mov ax, 0x40
    mov es, ax
    mov edi, 0xffe
    mov ecx, 4
    rep stosb
    call restore_segs
    ENDTRY
    call restore_segs
    PUTS "edi after faulting rep stosb="
    PHEX edi
    PUTS " ecx="
    PHEX ecx
    NL

    ; stack segment limit: #SS(0), from ring 3 (a ring-0 #SS on its own stack could not
    ; be delivered: the frame would go to the same stack)
    ALLOW_COM1                      ; ring 3 may print
    PUTS "ring 3 push below an expand-down stack's limit: "
    TRY
    mov eax, r3_stack
    xor ecx, ecx
    call to_ring3
    ENDTRY

    ; the CPU sets the accessed bit of a code descriptor it loads into CS
    and byte [gdt + 0x68 + 5], ~1
    jmp 0x68:.reloaded
.reloaded:
    jmp SEL_CODE0:.back
.back:
    PUTS "code descriptor access byte after a far jmp="
    PHEX8 [gdt + 0x68 + 5]
    NL
    ret

r3_stack:
    mov ax, 0x60 | 3                ; expand-down, B=1, G=1, DPL 3: valid 0x300000..0xffffffff
    mov ss, ax
    mov esp, 0x300004               ; (free RAM)
    push eax                        ; ESP 0x300000: inside
    push eax                        ; ESP 0x2ffffc: below the lowest valid offset
    int 0x30

restore_segs:
    push eax
    FLAT_SEGS
    pop eax
    ret

scratch: dd 0
align 8
descs:
    DESC 0x200000, 0x00fff, 0x93, 0x4   ; 0x40 data r/w, limit 0xfff bytes
    DESC 0x200000, 0x00001, 0x93, 0xc   ; 0x48 data r/w, limit 1 page (0x1fff)
    DESC 0x200000, 0x00fff, 0x97, 0x0   ; 0x50 data r/w expand-down, B=0: 0x1000..0xffff
    DESC 0,        0xfffff, 0x91, 0xc   ; 0x58 data read-only
    DESC 0,        0x002ff, 0xf7, 0xc   ; 0x60 data r/w expand-down, B=1, DPL 3, limit 0x2fffff
    DESC 0,        0xfffff, 0x9a, 0xc   ; 0x68 code, not accessed
descs_end:
%include "end.inc"
