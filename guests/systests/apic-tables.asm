; The platform tables a kernel finds as it searches for them: the MP floating pointer
; structure and the MP configuration table (Intel MultiProcessor Specification 1.4,
; chapter 4: searched in the first KiB of the EBDA, the last KiB of base memory, then
; 0xF0000-0xFFFFF on 16-byte boundaries), and the ACPI RSDP (ACPI 6.x, 5.2.5.1: the first
; KiB of the EBDA, then 0xE0000-0xFFFFF), the RSDT and the MADT (5.2.12) with their
; checksums. Addresses are not printed (each firmware places the tables its own way);
; fields and each entry's bytes are.
%include "lib.inc"

main:
    ; ---- MP floating pointer
    movzx eax, word [0x40e]         ; EBDA segment (BDA 0x40E)
    shl eax, 4
    mov ecx, 1024
    mov edx, "_MP_"
    call scan
    jnc .mpfound
    movzx eax, word [0x413]         ; base memory in KiB (BDA 0x413)
    dec eax
    shl eax, 10
    mov ecx, 1024
    call scan
    jnc .mpfound
    mov eax, 0xf0000
    mov ecx, 0x10000
    call scan
    jnc .mpfound
    PUTSN "no mp floating pointer"
    jmp .acpi
.mpfound:
    mov esi, eax
    PUTS "mp floating pointer: length="
    PHEX8 [esi + 8]
    PUTS " rev="
    PHEX8 [esi + 9]
    movzx ecx, byte [esi + 8]
    shl ecx, 4
    call sumok
    PUTS " features="
    mov ecx, 5
    lea edi, [esi + 11]
    call hexbytes
    NL
    mov esi, [esi + 4]              ; the configuration table
    test esi, esi
    jz .acpi
    PUTS "mp config: sig="
    mov ecx, 4
    call putn
    PUTS " length="
    PHEX16 [esi + 4]
    PUTS " rev="
    PHEX8 [esi + 6]
    movzx ecx, word [esi + 4]
    call sumok
    NL
    PUTS "  oem="
    push esi
    add esi, 8
    mov ecx, 8
    call putn
    PUTS " product="
    add esi, 8
    mov ecx, 12
    call putn
    pop esi
    PUTS " oem-table="
    PHEX [esi + 28]
    PUTS " entries="
    PHEX16 [esi + 34]
    PUTS " lapic="
    PHEX [esi + 36]
    PUTS " ext-length="
    PHEX16 [esi + 40]
    NL
    movzx ebx, word [esi + 34]
    lea edi, [esi + 44]
.mpentry:
    test ebx, ebx
    jz .acpi
    mov ecx, 8
    cmp byte [edi], 0               ; a processor entry is 20 bytes, the others 8
    jne .short
    mov ecx, 20
.short:
    PUTS "  entry "
    call hexbytes
    NL
    add edi, ecx
    dec ebx
    jmp .mpentry

    ; ---- ACPI
.acpi:
    movzx eax, word [0x40e]
    shl eax, 4
    mov ecx, 1024
    mov edx, "RSD "
    call scan8
    jnc .rsdp
    mov eax, 0xe0000
    mov ecx, 0x20000
    call scan8
    jnc .rsdp
    PUTSN "no rsdp"
    ret
.rsdp:
    mov esi, eax
    PUTS "rsdp: oem="
    push esi
    add esi, 9
    mov ecx, 6
    call putn
    pop esi
    PUTS " rev="
    PHEX8 [esi + 15]
    mov ecx, 20
    call sumok
    NL
    mov esi, [esi + 16]             ; RSDT
    call sdt_header
    mov ebx, [esi + 4]
    sub ebx, 36
    shr ebx, 2
    lea ebp, [esi + 36]
.rsdt:
    test ebx, ebx
    jz .done
    mov esi, [ebp]
    cmp dword [esi], "APIC"
    jne .next
    call sdt_header
    PUTS "  lapic="
    PHEX [esi + 36]
    PUTS " flags="
    PHEX [esi + 40]
    NL
    lea edi, [esi + 44]
    mov edx, esi
    add edx, [esi + 4]
.madt:
    cmp edi, edx
    jae .next
    movzx ecx, byte [edi + 1]
    test ecx, ecx
    jz .next
    PUTS "  entry "
    call hexbytes
    NL
    add edi, ecx
    jmp .madt
.next:
    add ebp, 4
    dec ebx
    jmp .rsdt
.done:
    ret

; sdt_header: ESI -> an ACPI system description table header (5.2.6): its fields
sdt_header:
    push ecx
    mov ecx, 4
    call putn
    PUTS ": length="
    PHEX [esi + 4]
    PUTS " rev="
    PHEX8 [esi + 8]
    mov ecx, [esi + 4]
    call sumok
    NL
    PUTS "  oem="
    push esi
    add esi, 10
    mov ecx, 6
    call putn
    PUTS " table="
    add esi, 6
    mov ecx, 8
    call putn
    pop esi
    PUTS " oem-rev="
    PHEX [esi + 24]
    PUTS " creator="
    push esi
    add esi, 28
    mov ecx, 4
    call putn
    pop esi
    PUTS " creator-rev="
    PHEX [esi + 32]
    NL
    cmp dword [esi], "RSDT"
    jne .ret
    PUTS "  tables:"
    mov ecx, [esi + 4]
    sub ecx, 36
    shr ecx, 2
    lea edi, [esi + 36]
.l: jecxz .nl
    PUTS " "
    push esi
    push ecx
    mov esi, [edi]
    mov ecx, 4
    call putn
    pop ecx
    pop esi
    add edi, 4
    dec ecx
    jmp .l
.nl:
    NL
.ret:
    pop ecx
    ret

; scan: EAX = start, ECX = length, EDX = signature: CF clear and EAX = the 16-byte
; aligned address holding it, or CF set
scan:
    add ecx, eax
.l: cmp [eax], edx
    je .found
    add eax, 16
    cmp eax, ecx
    jb .l
    stc
    ret
.found:
    clc
    ret

; scan8: as scan for "RSD PTR " (EDX = "RSD "), the second dword "PTR "
scan8:
    add ecx, eax
.l: cmp [eax], edx
    jne .n
    cmp dword [eax + 4], "PTR "
    je .found
.n: add eax, 16
    cmp eax, ecx
    jb .l
    stc
    ret
.found:
    clc
    ret

; sumok: prints " checksum-ok=NN" (1 when the ECX bytes at ESI sum to 0 mod 256)
sumok:
    push eax
    push ecx
    push esi
    xor eax, eax
.l: add al, [esi]
    inc esi
    loop .l
    PUTS " checksum-ok="
    test al, al
    setz al
    movzx eax, al
    PHEX8 eax
    pop esi
    pop ecx
    pop eax
    ret

; putn: ECX characters at ESI
putn:
    push eax
    push ecx
    push esi
.l: lodsb
    call putc
    loop .l
    pop esi
    pop ecx
    pop eax
    ret

; hexbytes: ECX bytes at EDI as hex, space-separated
hexbytes:
    push eax
    push ecx
    push edi
.l: movzx eax, byte [edi]
    PHEX8 eax
    inc edi
    dec ecx
    jz .e
    PUTS " "
    jmp .l
.e: pop edi
    pop ecx
    pop eax
    ret

%include "end.inc"
