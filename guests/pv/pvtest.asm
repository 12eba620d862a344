; A small 32-bit PV guest for wasmvisor's `--mode pv`, written to Xen's public interface
; (xen/include/public: xen.h, arch-x86/xen-x86_32.h, event_channel.h, sched.h): it starts
; in ring 1 with ESI = start_info, calls hypercalls through the hypercall page, takes a page
; fault, an `int 0x80` and a #GP from ring 3, VIRQ_TIMER events, and tries what isolation
; must refuse. One line per observation on the console (console_io).
; Build: nasm -f elf32 pvtest.asm -o pvtest.o && ld -m elf_i386 -T pvtest.ld pvtest.o -o pvtest.elf

bits 32

%define FLAT_RING1_CS 0xe019
%define FLAT_RING1_SS 0xe021
%define FLAT_RING3_CS 0xe02b
%define FLAT_RING3_DS 0xe033
%define HC(n) (hypercall_page + (n) * 32)
%define HC_set_trap_table 0
%define HC_mmu_update 1
%define HC_stack_switch 3
%define HC_set_callbacks 4
%define HC_multicall 13
%define HC_update_va_mapping 14
%define HC_console_io 18
%define HC_grant_table_op 20
%define HC_iret 23
%define HC_mmuext_op 26
%define HC_sched_op 29
%define HC_event_channel_op 32
%define SHINFO_VA 0x7000          ; an identity page the guest remaps to shared_info
%define UVMF_INVLPG 2
%define GNT_VA 0x8000             ; an identity page the guest remaps to its grant table

section .note.Xen note alloc
align 4
        dd 4, 4, 1                 ; XEN_ELFNOTE_ENTRY
        db "Xen", 0
        dd pv_start
        dd 4, 4, 2                 ; XEN_ELFNOTE_HYPERCALL_PAGE
        db "Xen", 0
        dd hypercall_page
        dd 4, 8, 6                 ; XEN_ELFNOTE_GUEST_OS
        db "Xen", 0
        db "pvtest", 0, 0

section .text
%macro saypart 1
        jmp %%go
%%s:    db %1
%%go:   push %%go - %%s
        push %%s
        call print
        add esp, 8
%endmacro
%macro say 1
        jmp %%go
%%s:    db %1, 10
%%go:   push %%go - %%s
        push %%s
        call print
        add esp, 8
%endmacro
%macro hc 1
        call HC(%1)
%endmacro

global pv_start
pv_start:
        mov [start_info], esi
        ; magic
        lea eax, [esi]
        push 14
        push eax
        call print
        add esp, 8
        say " start"
        ; Xen's CPUID through the forced emulation prefix (ud2a; "xen"; cpuid)
        mov eax, 0x40000000
        db 0x0f, 0x0b, "xen"
        cpuid
        mov [sig + 0], ebx
        mov [sig + 4], ecx
        mov [sig + 8], edx
        mov byte [sig + 12], 10
        saypart "cpuid 0x40000000 signature="
        push 13
        push sig
        call print
        add esp, 8
        mov eax, 0x40000001
        db 0x0f, 0x0b, "xen"
        cpuid
        saypart "cpuid 0x40000001 version="
        call printhex
        ; kernel stack for traps from ring 3, trap table, callbacks
        mov ebx, FLAT_RING1_SS
        mov ecx, kstack_top
        hc HC_stack_switch
        call check0
        mov ebx, traps
        hc HC_set_trap_table
        call check0
        mov ebx, FLAT_RING1_CS
        mov ecx, event_callback
        mov edx, FLAT_RING1_CS
        mov esi, failsafe
        hc HC_set_callbacks
        call check0
        say "setup ok"

        ; shared_info mapped at SHINFO_VA
        mov eax, [start_info]
        mov ecx, [eax + 36]         ; start_info.shared_info (machine address)
        or ecx, 3
        mov ebx, SHINFO_VA
        xor edx, edx
        mov esi, UVMF_INVLPG
        hc HC_update_va_mapping
        saypart "shared_info mapped rc="
        call printhex

        ; isolation: the page directory made writable
        mov eax, [start_info]
        mov ecx, [eax + 60]         ; pt_base
        mov ebx, ecx
        or ecx, 3
        xor edx, edx
        mov esi, UVMF_INVLPG
        hc HC_update_va_mapping
        saypart "page directory writable rc="
        call printhex
        ; isolation: a frame of the VMM (the first frame after the domain's pages)
        mov eax, [start_info]
        mov ecx, [eax + 32]         ; nr_pages
        shl ecx, 12
        or ecx, 3
        mov ebx, SHINFO_VA + 0x1000
        xor edx, edx
        mov esi, UVMF_INVLPG
        hc HC_update_va_mapping
        saypart "vmm frame mapped rc="
        call printhex
        ; isolation: a trap handler inside the VMM's region
        mov ebx, bad_traps
        hc HC_set_trap_table
        saypart "trap into vmm region rc="
        call printhex
        ; isolation: the event callback inside the VMM's region
        mov ebx, FLAT_RING1_CS
        mov ecx, 0xffc11000
        mov edx, FLAT_RING1_CS
        mov esi, failsafe
        hc HC_set_callbacks
        saypart "callback into vmm region rc="
        call printhex

        ; a page fault: the handler skips the 5-byte store
        mov eax, 0x5a5a5a5a
        mov [0xa0000000], eax
        say "after page fault"

        ; pin a writable page as an L1 table: refused; read-only: accepted
        mov dword [mmuext + 0], 0   ; MMUEXT_PIN_L1_TABLE
        mov eax, scratch
        shr eax, 12
        mov [mmuext + 4], eax
        mov ebx, mmuext
        mov ecx, 1
        xor edx, edx
        mov esi, 0x7ff0             ; DOMID_SELF
        hc HC_mmuext_op
        saypart "pin writable page rc="
        call printhex
        mov ebx, scratch
        mov ecx, scratch + 1        ; present, read-only
        xor edx, edx
        mov esi, UVMF_INVLPG
        hc HC_update_va_mapping
        mov ebx, mmuext
        mov ecx, 1
        xor edx, edx
        mov esi, 0x7ff0
        hc HC_mmuext_op
        saypart "pin read-only page rc="
        call printhex
        mov dword [mmuext + 0], 4   ; MMUEXT_UNPIN_TABLE
        mov ebx, mmuext
        mov ecx, 1
        xor edx, edx
        mov esi, 0x7ff0
        hc HC_mmuext_op
        saypart "unpin rc="
        call printhex

        ; multicall: two console writes and an unknown hypercall
        mov ebx, mcall
        mov ecx, 3
        hc HC_multicall
        saypart "multicall rc="
        call printhex
        mov eax, [mcall + 64 + 4]
        saypart "multicall third result="
        call printhex

        ; ring 3: PDE 0 and two pages made user-accessible with mmu_update
        mov eax, [start_info]
        mov ebx, [eax + 60]         ; pt_base: PDE 0 at its start
        mov eax, [ebx]
        or eax, 4                   ; U/S
        mov [mmu + 8], eax
        mov [mmu + 0], ebx          ; ptr = machine address | MMU_NORMAL_PT_UPDATE
        mov ebx, mmu
        mov ecx, 1
        mov edx, done_count
        mov esi, 0x7ff0
        hc HC_mmu_update
        saypart "mmu_update pde user rc="
        call printhex
        mov ebx, user_code
        lea ecx, [ebx + 5]          ; present, user, read-only
        xor edx, edx
        mov esi, UVMF_INVLPG
        hc HC_update_va_mapping
        mov ebx, user_stack
        lea ecx, [ebx + 7]
        xor edx, edx
        mov esi, UVMF_INVLPG
        hc HC_update_va_mapping
        mov [ring1_esp], esp
        mov ax, FLAT_RING3_DS       ; ring 3's data segments before the IRET (an outer
        mov ds, ax                  ; return nulls those of DPL < 3: SDM vol. 2A, IRET)
        mov es, ax
        push FLAT_RING3_DS
        push user_stack + 4096
        pushf
        push FLAT_RING3_CS
        push user_code
        iret
back_in_ring1:
        mov ax, FLAT_RING1_SS
        mov ds, ax
        mov es, ax
        mov esp, [ring1_esp]
        say "back in ring 1"

        ; events: VIRQ_TIMER bound, unmasked, then block until three have come
        mov dword [bind + 0], 0     ; VIRQ_TIMER
        mov dword [bind + 4], 0     ; vcpu 0
        mov ebx, 1                  ; EVTCHNOP_bind_virq
        mov ecx, bind
        hc HC_event_channel_op
        call check0
        mov eax, [bind + 8]
        saypart "virq timer port="
        call printhex
        mov ebx, 1                  ; EVTCHNOP_bind_virq again: -EEXIST
        mov ecx, bind
        hc HC_event_channel_op
        saypart "bind again rc="
        call printhex
        mov ebx, 9                  ; EVTCHNOP_unmask
        mov ecx, bind + 8
        hc HC_event_channel_op
        call check0
        mov byte [SHINFO_VA + 1], 0 ; evtchn_upcall_mask = 0: events on
.wait:  cmp dword [ticks], 3
        jae .enough
        mov ebx, 1                  ; SCHEDOP_block
        xor ecx, ecx
        hc HC_sched_op
        jmp .wait
.enough:
        mov byte [SHINFO_VA + 1], 1
        mov eax, [ticks]
        saypart "timer upcalls="
        call printhex

        ; blkfront over Xen's blkif ring: a grant table, the ring granted as reference 0,
        ; the buffer as reference 1, an interdomain channel to domain 0's port 1
        mov dword [gsetup + 0], 0x7ff0  ; dom = DOMID_SELF
        mov dword [gsetup + 4], 1       ; nr_frames
        mov dword [gsetup + 12], gframes
        mov ebx, 2                      ; GNTTABOP_setup_table
        mov ecx, gsetup
        mov edx, 1
        hc HC_grant_table_op
        call check0
        mov ecx, [gframes]
        shl ecx, 12
        or ecx, 3
        mov ebx, GNT_VA
        xor edx, edx
        mov esi, UVMF_INVLPG
        hc HC_update_va_mapping
        call check0
        mov dword [ring + 4], 1         ; req_event
        mov dword [ring + 12], 1        ; rsp_event
        mov eax, ring
        shr eax, 12
        mov [GNT_VA + 4], eax           ; grant 0: the ring, writable, to domain 0
        mov dword [GNT_VA + 0], 1       ; GTF_permit_access
        mov eax, iobuf
        shr eax, 12
        mov [GNT_VA + 12], eax          ; grant 1: the buffer
        mov dword [GNT_VA + 8], 1
        mov dword [bind + 0], 0         ; remote_dom 0
        mov dword [bind + 4], 1         ; remote_port 1
        mov ebx, 0                      ; EVTCHNOP_bind_interdomain
        mov ecx, bind
        hc HC_event_channel_op
        saypart "blkfront bind rc="
        call printhex
        mov eax, [bind + 8]
        mov [blkport], eax
        mov edi, iobuf
        mov ecx, 128
        mov eax, 0xb10c0000
.fill:  mov [edi], eax
        inc eax
        add edi, 4
        loop .fill
        mov edi, ring + 64              ; request 0: write sector 2 from grant 1
        mov dword [edi + 0], 0x00000101 ; BLKIF_OP_WRITE, 1 segment, handle 0
        mov dword [edi + 4], 0x77       ; id
        mov dword [edi + 8], 0
        mov dword [edi + 12], 2         ; sector_number
        mov dword [edi + 16], 0
        mov dword [edi + 20], 1         ; seg[0].gref
        mov dword [edi + 24], 0x0000    ; first_sect 0, last_sect 0
        mov dword [ring + 0], 1         ; req_prod
        call blk_notify
        saypart "blkfront write id="
        mov eax, [ring + 64]
        call printhex
        saypart "blkfront write status="
        movsx eax, word [ring + 64 + 10]
        call printhex
        mov edi, iobuf
        mov ecx, 1024
        xor eax, eax
        rep stosd
        mov edi, ring + 64 + 108        ; request 1: read it back
        mov dword [edi + 0], 0x00000100 ; BLKIF_OP_READ, 1 segment
        mov dword [edi + 4], 0x78
        mov dword [edi + 8], 0
        mov dword [edi + 12], 2
        mov dword [edi + 16], 0
        mov dword [edi + 20], 1
        mov dword [edi + 24], 0
        mov edi, ring + 64 + 216        ; request 2: a grant reference never granted
        mov dword [edi + 0], 0x00000100
        mov dword [edi + 4], 0x79
        mov dword [edi + 8], 0
        mov dword [edi + 12], 2
        mov dword [edi + 16], 0
        mov dword [edi + 20], 9
        mov dword [edi + 24], 0
        mov dword [ring + 0], 3
        call blk_notify
        saypart "blkfront read status="
        movsx eax, word [ring + 64 + 108 + 10]
        call printhex
        saypart "blkfront read data="
        mov eax, [iobuf + 127 * 4]
        call printhex
        saypart "blkfront ungranted status="
        movsx eax, word [ring + 64 + 216 + 10]
        call printhex
        mov dword [ring + 0], 200       ; a producer index that lies
        call blk_notify
        saypart "blkfront rsp_prod="
        mov eax, [ring + 8]
        call printhex

        ; console_io with an unknown command
        mov ebx, 7
        xor ecx, ecx
        xor edx, edx
        hc HC_console_io
        saypart "console_io bad command rc="
        call printhex
        say "pv done"
        mov ebx, 2                  ; SCHEDOP_shutdown
        mov ecx, shutdown_reason
        hc HC_sched_op
        hlt

; ---- helpers ----
blk_notify:
        mov ebx, 4                      ; EVTCHNOP_send
        mov ecx, blkport
        hc HC_event_channel_op
        ret
; print(buf, len) through console_io
print:
        pushad
        mov ebx, 0                  ; CONSOLEIO_write
        mov ecx, [esp + 40]
        mov edx, [esp + 36]
        hc HC_console_io
        popad
        ret
; prints EAX as 8 hex digits and a newline (the line so far already printed)
printhex:
        pushad
        mov edi, hexbuf
        mov ecx, 8
.d:     rol eax, 4
        mov edx, eax
        and edx, 15
        mov dl, [digits + edx]
        mov [edi], dl
        inc edi
        loop .d
        mov byte [edi], 10
        push 9
        push hexbuf
        call print
        add esp, 8
        popad
        ret
check0:
        test eax, eax
        jz .ok
        say "unexpected error"
        call printhex
.ok:    ret

; ---- handlers (ring 1) ----
page_fault:                         ; [err, eip, cs, eflags]
        pushad
        saypart "page fault cr2="
        mov eax, [SHINFO_VA + 8]    ; vcpu_info[0].arch.cr2
        call printhex
        saypart "page fault error code="
        mov eax, [esp + 32]
        call printhex
        popad
        add esp, 4
        add dword [esp], 5
        jmp HC(HC_iret)

general_protection:                 ; from ring 3: [err, eip, cs, eflags, esp, ss]
        mov ax, FLAT_RING1_SS
        mov ds, ax
        mov es, ax
        saypart "gp from ring 3 cs="
        mov eax, [esp + 8]
        and eax, 0xffff
        call printhex
        jmp back_in_ring1

syscall:                            ; int 0x80 straight from ring 3
        push ds
        push eax
        mov ax, FLAT_RING1_SS
        mov ds, ax
        saypart "int 0x80 from ring 3 eax="
        pop eax
        call printhex
        saypart "int 0x80 handler cs="
        mov eax, cs
        call printhex
        pop ds
        iret

event_callback:                     ; [eip, cs, eflags]
        pushad
        inc dword [ticks]
        mov byte [SHINFO_VA + 0], 0 ; evtchn_upcall_pending
        xor eax, eax
        xchg [SHINFO_VA + 4], eax   ; evtchn_pending_sel
        mov dword [SHINFO_VA + 2048], 0 ; evtchn_pending[0]
        popad
        jmp HC(HC_iret)
failsafe:
        say "failsafe"
        hlt

section .user progbits alloc exec write align=4096
user_code:
        mov eax, 0x1234
        int 0x80
        cli                         ; #GP in ring 3
        jmp $

section .data
align 4
traps:  db 14, 0
        dw FLAT_RING1_CS
        dd page_fault
        db 13, 0
        dw FLAT_RING1_CS
        dd general_protection
        db 0x80, 3
        dw FLAT_RING1_CS
        dd syscall
        dd 0, 0
bad_traps:
        db 3, 3
        dw FLAT_RING1_CS
        dd 0xffc11000
        dd 0, 0
mcall:  dd HC_console_io, 0, 0, 7, mc1, 0, 0, 0
        dd HC_console_io, 0, 0, 7, mc2, 0, 0, 0
        dd 999, 0, 0, 0, 0, 0, 0, 0
mc1:    db "mc one", 10
mc2:    db "mc two", 10
digits: db "0123456789abcdef"
shutdown_reason: dd 0               ; SHUTDOWN_poweroff

section .bss
align 4
start_info: resd 1
ring1_esp: resd 1
ticks:  resd 1
done_count: resd 1
bind:   resd 3
mmu:    resd 4
mmuext: resd 3
hexbuf: resb 12
sig:    resb 16
gsetup: resd 4
gframes: resd 1
blkport: resd 1
alignb 4096
scratch: resb 4096
ring:   resb 4096
iobuf:  resb 4096
user_stack: resb 4096
kstack: resb 8192
kstack_top:
alignb 4096
hypercall_page: resb 4096
