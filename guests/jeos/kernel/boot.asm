; Multiboot (v1) entry point. The loader (QEMU -kernel, GRUB, wasmvisor) enters here in
; 32-bit protected mode with paging off, EAX = 0x2BADB002 and EBX = the multiboot
; information structure (Multiboot Specification 0.6.96, section 3.2).

MB_MAGIC     equ 0x1BADB002          ; spec 3.1.2
MB_ALIGN     equ 1 << 0              ; page-align modules
MB_MEMINFO   equ 1 << 1              ; ask for mem_lower/mem_upper and the memory map
MB_FLAGS     equ MB_ALIGN | MB_MEMINFO

section .multiboot
align 4
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)        ; checksum: the three fields sum to zero

; The Xen ELF notes (xen/include/public/elfnote.h): a PV domain builder enters at
; XEN_ELFNOTE_ENTRY in ring 1 with paging on and ESI = start_info (xen.h "start of day").
; Not loaded: the builder reads them from the file.
XEN_ELFNOTE_ENTRY    equ 1
XEN_ELFNOTE_GUEST_OS equ 6
XEN_ELFNOTE_LOADER   equ 8
%macro XEN_NOTE 2+
    dd 4, %%dend - %%dbeg, %1
    db 'Xen', 0
%%dbeg:
    %2
%%dend:
    align 4, db 0
%endmacro
section .note.Xen note noalloc noexec nowrite align=4
    XEN_NOTE XEN_ELFNOTE_GUEST_OS, db 'JeOS', 0
    XEN_NOTE XEN_ELFNOTE_LOADER, db 'generic', 0
    XEN_NOTE XEN_ELFNOTE_ENTRY, dd xen_start

section .bss
align 16
boot_stack_bottom:
    resb 16384
global boot_stack_top
boot_stack_top:

section .text
global _start
extern kmain
_start:
    cli
    mov esp, boot_stack_top
    xor ebp, ebp
    push 0                           ; EFLAGS: clear everything (IF, DF, NT, AC...)
    popfd
    push ebx                         ; multiboot information
    push eax                         ; multiboot magic
    call kmain
    jmp hang

; The PV entry: ring 1, paging on (the builder's tables), ESI = start_info, ESP the top of
; the bootstrap area xen.h's "start of day" layout describes (the image, the frame list,
; start_info, the bootstrap page tables, then the bootstrap stack with ESP at its top):
; the kernel's own frames start above it.
global xen_start
extern xen_kmain
xen_start:
    cld
    mov ebx, esp
    mov esp, boot_stack_top
    xor ebp, ebp
    push ebx
    push esi
    call xen_kmain
hang:
    cli
    hlt
    jmp hang
