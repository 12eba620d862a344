; Multiboot modules and command line (spec 3.3): the command line string, mods_count, and
; for each module its start, end, page alignment (header flag 0 asks for it), first bytes
; and string. Recorded under QEMU with
;   -append "one two=2" -initrd "modules/a.txt first module,modules/b.txt"
; (QEMU prefixes the command line and each module string with the file name).
%include "lib.inc"
main:
    mov ebx, [mb_ebx]
    PUTS "flags&cmdline|mods="
    mov eax, [ebx]
    and eax, 0x0c
    PHEX eax
    NL
    PUTS "cmdline="
    mov esi, [ebx+16]
    call puts
    NL
    PUTS "mods_count="
    PHEX [ebx+20]
    NL
    mov edi, [ebx+24]
    mov ecx, [ebx+20]
.mod:
    test ecx, ecx
    jz .done
    PUTS "mod start="
    PHEX [edi]
    PUTS " end="
    PHEX [edi+4]
    mov eax, [edi]
    and eax, 0xfff
    PUTS " start&0xfff="
    PHEX eax
    mov eax, [edi+4]
    sub eax, [edi]
    PUTS " size="
    PHEX eax
    mov esi, [edi]
    PUTS " first="
    PHEX [esi]
    PUTS " string="
    mov esi, [edi+8]
    call puts
    NL
    add edi, 16
    dec ecx
    jmp .mod
.done:
    ret
%include "end.inc"
