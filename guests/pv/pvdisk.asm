; A PV disk workload for `--mode pv` (blkfront over Xen's blkif ring, io/blkif.h): writes
; SECTORS sectors from LBA 64 on in requests of 8 segments x 8 sectors (32 KiB), reads
; them back and checks them. Word i of sector lba holds lba << 16 | i. Prints
;   wl pvdisk sectors=N write_cycles=W read_cycles=R verify=ok|FAIL
; as JeOS's `disk` workload line does, then shuts down. The ring (grant 0), the backend's
; port (domain 0, port 1) as ../../bindings/vmm/pv/blkback.ts describes.
; Build: build.sh (with pvtest).

bits 32
%define HC(n) (hypercall_page + (n) * 32)
%define GNT_VA 0x8000
%define SECTORS 2048
%define FIRST_LBA 64

section .note.Xen note alloc
align 4
        dd 4, 4, 1                 ; XEN_ELFNOTE_ENTRY
        db "Xen", 0
        dd pv_start
        dd 4, 4, 2                 ; XEN_ELFNOTE_HYPERCALL_PAGE
        db "Xen", 0
        dd hypercall_page

section .text
global pv_start
pv_start:
        mov esp, stack_top
        mov dword [gsetup + 0], 0x7ff0  ; GNTTABOP_setup_table for DOMID_SELF, 1 frame
        mov dword [gsetup + 4], 1
        mov dword [gsetup + 12], gframe
        mov ebx, 2
        mov ecx, gsetup
        mov edx, 1
        call HC(20)
        mov ecx, [gframe]               ; map the grant table at GNT_VA
        shl ecx, 12
        or ecx, 3
        mov ebx, GNT_VA
        xor edx, edx
        mov esi, 2
        call HC(14)
        mov dword [ring + 4], 1         ; req_event
        mov dword [ring + 12], 1        ; rsp_event
        mov eax, ring                   ; grant 0: the ring; 1-8: the buffer pages
        shr eax, 12
        mov [GNT_VA + 4], eax
        mov dword [GNT_VA], 1
        mov ecx, 1
.g:     lea eax, [ecx - 1]
        shl eax, 12
        add eax, buf
        shr eax, 12
        mov [GNT_VA + ecx * 8 + 4], eax
        mov dword [GNT_VA + ecx * 8], 1
        inc ecx
        cmp ecx, 8
        jbe .g
        mov dword [bind + 0], 0         ; bind_interdomain to domain 0, port 1
        mov dword [bind + 4], 1
        xor ebx, ebx
        mov ecx, bind
        call HC(32)

        rdtsc
        mov [t0], eax
        mov ebp, FIRST_LBA
.wr:    call fill                       ; the pattern of sectors ebp .. ebp+63
        mov eax, 1                      ; BLKIF_OP_WRITE
        call request
        add ebp, 64
        cmp ebp, FIRST_LBA + SECTORS
        jb .wr
        rdtsc
        sub eax, [t0]
        mov [wcycles], eax

        rdtsc
        mov [t0], eax
        mov ebp, FIRST_LBA
        mov dword [bad], 0
.rd:    xor eax, eax                    ; BLKIF_OP_READ
        call request
        call check
        add ebp, 64
        cmp ebp, FIRST_LBA + SECTORS
        jb .rd
        rdtsc
        sub eax, [t0]
        mov [rcycles], eax

        mov esi, msg1
        call puts
        mov eax, SECTORS
        call putdec
        mov esi, msg2
        call puts
        mov eax, [wcycles]
        call putdec
        mov esi, msg3
        call puts
        mov eax, [rcycles]
        call putdec
        mov esi, msg_ok
        cmp dword [bad], 0
        je .p
        mov esi, msg_fail
.p:     call puts
        mov ebx, 2                      ; SCHEDOP_shutdown, poweroff
        mov ecx, reason
        call HC(29)
        hlt

; One request: operation AL, sectors EBP..EBP+63 from/to the 8 buffer pages; waits for
; its response (the backend answers during the notification).
request:
        mov edx, [prod]
        mov edi, edx
        and edi, 31
        imul edi, edi, 108
        add edi, ring + 64
        mov byte [edi + 0], al
        mov byte [edi + 1], 8           ; nr_segments
        mov word [edi + 2], 0
        mov [edi + 4], edx              ; id = the request's index
        mov dword [edi + 8], 0
        mov [edi + 12], ebp             ; sector_number
        mov dword [edi + 16], 0
        xor ecx, ecx
.s:     lea ebx, [ecx + 1]
        mov [edi + 20 + ecx * 8], ebx   ; gref 1 + segment
        mov word [edi + 24 + ecx * 8], 0x0700 ; first_sect 0, last_sect 7
        inc ecx
        cmp ecx, 8
        jb .s
        inc edx
        mov [prod], edx
        mov [ring + 0], edx             ; req_prod
        mov ebx, 4                      ; EVTCHNOP_send
        mov ecx, bind + 8
        call HC(32)
        mov eax, [prod]
        cmp [ring + 8], eax             ; rsp_prod caught up?
        je .done
        inc dword [bad]
.done:  mov edi, [prod]
        dec edi
        and edi, 31
        imul edi, edi, 108
        cmp word [ring + 64 + edi + 10], 0 ; status
        je .ok
        inc dword [bad]
.ok:    ret

fill:   mov edi, buf
        mov edx, ebp
        shl edx, 16
        mov ecx, 64
.sec:   push ecx
        mov ecx, 128
        mov eax, edx
.w:     stosd
        inc eax
        loop .w
        add edx, 0x10000
        pop ecx
        loop .sec
        ret

check:  mov esi, buf
        mov edx, ebp
        shl edx, 16
        mov ecx, 64
.sec:   push ecx
        mov ecx, 128
        mov eax, edx
.w:     cmp [esi], eax
        je .same
        inc dword [bad]
.same:  add esi, 4
        inc eax
        loop .w
        add edx, 0x10000
        pop ecx
        loop .sec
        ret

puts:   push esi
        xor ecx, ecx
.n:     cmp byte [esi + ecx], 0
        je .e
        inc ecx
        jmp .n
.e:     mov edx, esi
        mov ebx, 0                      ; CONSOLEIO_write
        call HC(18)
        pop esi
        ret
putdec: mov edi, dec_end
        mov byte [edi], 0
        mov ecx, 10
.d:     xor edx, edx
        div ecx
        add dl, '0'
        dec edi
        mov [edi], dl
        test eax, eax
        jnz .d
        mov esi, edi
        jmp puts

section .data
msg1:   db "wl pvdisk sectors=", 0
msg2:   db " write_cycles=", 0
msg3:   db " read_cycles=", 0
msg_ok: db " verify=ok", 10, 0
msg_fail: db " verify=FAIL", 10, 0
reason: dd 0

section .bss
alignb 4
gsetup: resd 4
gframe: resd 1
bind:   resd 3
prod:   resd 1
t0:     resd 1
wcycles: resd 1
rcycles: resd 1
bad:    resd 1
decbuf: resb 15
dec_end: resb 1
alignb 4096
ring:   resb 4096
buf:    resb 8 * 4096
stack:  resb 4096
stack_top:
hypercall_page: resb 4096
