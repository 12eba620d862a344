; System call stubs and the timed loops of the ring-3 workloads, in assembly so the
; measured instructions are exactly the ones named here, whatever the compiler does.
; cdecl: EAX, ECX, EDX are scratch; EBX, ESI, EDI, EBP must be preserved.

SYS_GETPID equ 5

section .text

; int syscall3(int nr, int a, int b, int c): int 0x80, arguments in EBX, ESI, EDI.
global syscall3
syscall3:
    push ebx
    push esi
    push edi
    mov eax, [esp + 16]
    mov ebx, [esp + 20]
    mov esi, [esp + 24]
    mov edi, [esp + 28]
    int 0x80
    pop edi
    pop esi
    pop ebx
    ret

; int sysenter3(int nr, int a, int b, int c): the same through SYSENTER. ECX carries our
; ESP and EDX the resume address (the kernel returns there with SYSEXIT).
global sysenter3
sysenter3:
    push ebx
    push esi
    push edi
    mov eax, [esp + 16]
    mov ebx, [esp + 20]
    mov esi, [esp + 24]
    mov edi, [esp + 28]
    mov ecx, esp
    mov edx, .resume
    sysenter
.resume:
    pop edi
    pop esi
    pop ebx
    ret

; void loop_int80(unsigned n): n null system calls (getpid) through int 0x80.
global loop_int80
loop_int80:
    push ebx
    mov ebx, [esp + 8]
.next:
    mov eax, SYS_GETPID
    int 0x80
    dec ebx
    jnz .next
    pop ebx
    ret

; void loop_sysenter(unsigned n): n null system calls through SYSENTER.
global loop_sysenter
loop_sysenter:
    push ebx
    mov ebx, [esp + 8]
.next:
    mov eax, SYS_GETPID
    mov ecx, esp
    mov edx, .resume
    sysenter
.resume:
    dec ebx
    jnz .next
    pop ebx
    ret

; void loop_callret(unsigned n): n CALLs of a function that only returns.
global loop_callret
loop_callret:
    mov ecx, [esp + 4]
.next:
    call .leaf
    dec ecx
    jnz .next
    ret
.leaf:
    ret

; void loop_divzero(unsigned n): n unsigned divisions by zero (F7 F3: div ebx). Each one
; raises #DE; the kernel's handler skips the 2-byte instruction (SYS_DESKIP must be on).
global loop_divzero
loop_divzero:
    push ebx
    push esi
    mov esi, [esp + 12]
    xor ebx, ebx
.next:
    xor edx, edx
    mov eax, 1
    div ebx
    dec esi
    jnz .next
    pop esi
    pop ebx
    ret

; void loop_touch(volatile unsigned *base, unsigned pages, unsigned n): n read-modify-
; writes of one word, one page apart, round-robin over `pages` pages.
global loop_touch
loop_touch:
    push ebx
    push esi
    push edi
    mov esi, [esp + 16]              ; base
    mov edi, [esp + 20]              ; pages
    mov ecx, [esp + 24]              ; n
    xor ebx, ebx                     ; page index
.next:
    mov edx, ebx
    shl edx, 12
    inc dword [esi + edx]
    inc ebx
    cmp ebx, edi
    jb .same
    xor ebx, ebx
.same:
    dec ecx
    jnz .next
    pop edi
    pop esi
    pop ebx
    ret
