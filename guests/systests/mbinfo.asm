; The Multiboot boot information as the loader handed it over (spec 3.3): where it is,
; its flags, conventional memory size, boot device, and the memory map below 1 MiB.
; Not printed: mem_upper, mmap_length and the map above 1 MiB, which describe the
; platform (QEMU's SeaBIOS keeps the top 128 KiB of RAM and a flash window at 4 GiB
; reserved; wasmvisor has neither).
%include "lib.inc"
main:
    mov ebx, [mb_ebx]
    PUTS "ebx="
    PHEX ebx
    PUTS " flags="
    PHEX [ebx]
    NL
    PUTS "mem_lower="
    PHEX [ebx+4]
    PUTS " boot_device="
    PHEX [ebx+12]
    NL
    PUTS "mods_count="
    PHEX [ebx+20]
    PUTS " mmap_addr="
    PHEX [ebx+48]
    NL
    mov esi, [ebx+48]
    mov edi, esi
    add edi, [ebx+44]
.entry:
    cmp esi, edi
    jae .done
    cmp dword [esi+8], 0            ; base above 4 GiB or
    jne .done
    cmp dword [esi+4], 0x100000     ; at or above 1 MiB: stop
    jae .done
    PUTS "mmap size="
    PHEX [esi]
    PUTS " base="
    PHEX [esi+8]
    PHEX [esi+4]
    PUTS " length="
    PHEX [esi+16]
    PHEX [esi+12]
    PUTS " type="
    PHEX [esi+20]
    NL
    mov eax, [esi]
    lea esi, [esi + eax + 4]
    jmp .entry
.done:
    ret
%include "end.inc"
