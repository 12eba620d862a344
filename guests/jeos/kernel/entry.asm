; Kernel entry and exit paths: exception and interrupt stubs, int 0x80, SYSENTER, the
; return to ring 3, and the context switch. Every path builds the same struct trapframe
; (x86.h) on the current kernel stack.

SEL_KDATA equ 0x10
SEL_UCODE equ 0x1B
SEL_UDATA equ 0x23
EFLAGS_IF equ 0x200
EFLAGS_TF equ 0x100
EFLAGS_NT equ 0x4000
EFLAGS_FIXED equ 0x2

extern trap_dispatch
extern xen_vcpu
VEC_XEN_UPCALL equ 0x81             ; xen.h
HC_XEN_VERSION equ 17               ; xen.h __HYPERVISOR_xen_version

section .text

; Stubs for vectors whose exceptions push no error code push a 0 so the frame has one
; shape (SDM vol. 3A, 6.13: error codes for 8, 10-14, 17).
%macro STUB_NOERR 1
global vector_%1
vector_%1:
    push 0
    push %1
    jmp trap_common
%endmacro
%macro STUB_ERR 1
global vector_%1
vector_%1:
    push %1
    jmp trap_common
%endmacro

%assign v 0
%rep 48
  %if v == 8 || (v >= 10 && v <= 14) || v == 17
    STUB_ERR v
  %else
    STUB_NOERR v
  %endif
  %assign v v + 1
%endrep
STUB_NOERR 128

; The table idt.c walks to fill the IDT: vector_0 .. vector_47, then vector_128.
section .rodata
global vector_table
vector_table:
%assign v 0
%rep 48
    dd vector_ %+ v
  %assign v v + 1
%endrep
    dd vector_128

section .text
trap_common:
    cld                         ; the C code assumes DF = 0; ring 3 may have set it
    pushad
    push ds
    push es
    push fs
    push gs
    mov ax, SEL_KDATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    push esp                    ; struct trapframe *
    call trap_dispatch
    add esp, 4
global trapret
trapret:
    pop gs
    pop fs
    pop es
    pop ds
    popad
    add esp, 8                  ; vector and error code
global trapret_iret
trapret_iret:
    iretd
    times 4 nop                 ; under Xen, xen_init patches in `jmp xen_iret` (5 bytes),
                                ; as Linux patches its pv-ops call sites: nothing natively

; Under Xen the CPU's IF stays on: the frame's IF says whether events were masked where
; it returns to (create_bounce_frame put !upcall_mask there), so the mask is restored
; from it. An event that came while masked is delivered by any hypercall once unmasked
; (Linux's xen_iret does the same check). IRET itself runs at CPL 1 and may go to ring 1
; or 3 (SDM vol. 3A, 6.14; the IOPL and IF bits of the frame stay the VMM's).
global xen_iret
xen_iret:
    push eax
    mov eax, [xen_vcpu]
    test dword [esp + 12], EFLAGS_IF ; the frame's EFLAGS, above EAX, EIP and CS
    jz .masked
    mov byte [eax + 1], 0           ; evtchn_upcall_mask
    cmp byte [eax], 0               ; evtchn_upcall_pending
    je .done
    push ebx
    push ecx
    mov eax, HC_XEN_VERSION
    xor ebx, ebx
    xor ecx, ecx
    int 0x82                        ; the pending upcall runs on the way back
    pop ecx
    pop ebx
.done:
    pop eax
    iretd
.masked:
    mov byte [eax + 1], 1
    pop eax
    iretd

; The event callback (set_callbacks): entered with events masked and the interrupted
; context's frame (EIP, CS, EFLAGS, and ESP, SS from ring 3), as an IRQ would be.
global xen_hypervisor_callback
global xen_failsafe_callback
xen_hypervisor_callback:
xen_failsafe_callback:
    push 0
    push VEC_XEN_UPCALL
    jmp trap_common

; SYSENTER lands here with ESP = IA32_SYSENTER_ESP (the current process's kernel stack
; top, the same as TSS.ESP0), CS/SS from IA32_SYSENTER_CS, and IF, VM and RF cleared
; (SDM vol. 2B, SYSENTER). By our convention ECX holds the user ESP and EDX the user
; resume address. We build the frame an int 0x80 from ring 3 would have built, so the
; system calls see one shape; vector 0x80 marks it as a system call.
;
; SYSENTER leaves the caller's TF, NT and AC set (only IF, VM and RF are cleared), so the
; first thing is a clean EFLAGS: with NT set, the kernel's next IRET would be a task
; return; with TF set, a single-step trap arrives after the first instruction here
; (trap.c lets it pass: see sysenter_flags_fixed).
global sysenter_entry
global sysenter_flags_fixed
sysenter_entry:
    push SEL_UDATA              ; user SS
    push ecx                    ; user ESP
    pushfd
    push EFLAGS_FIXED
    popfd                       ; kernel EFLAGS: only the reserved bit 1
sysenter_flags_fixed:
    and dword [esp], ~(EFLAGS_TF | EFLAGS_NT) ; not carried back to ring 3 either
    or dword [esp], EFLAGS_IF   ; ring 3 always runs with interrupts on
    push SEL_UCODE              ; user CS
    push edx                    ; user EIP
    push 0
    push 0x80
    pushad
    push ds
    push es
    push fs
    push gs
    mov ax, SEL_KDATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    sti
    push esp
    call trap_dispatch
    add esp, 4
    cli
    pop gs
    pop fs
    pop es
    pop ds
    popad
    add esp, 8
    ; SYSEXIT takes the resume address from EDX and the stack from ECX (SDM vol. 2B,
    ; SYSEXIT). The frame may have been rewritten (exec), so read both from it.
    mov edx, [esp]              ; EIP
    mov ecx, [esp + 12]         ; user ESP
    sti                         ; takes effect after SYSEXIT: no interrupt in between
    sysexit

; Starts a new process: its kernel stack holds a switch frame returning here, above a
; trapframe that returns to ring 3.
global forkret
forkret:
    jmp trapret

; void switch_to(u32 *save_esp, u32 new_esp): saves the callee-saved registers on the
; current stack, stores ESP, loads the other process's ESP and returns on its stack.
global switch_to
switch_to:
    mov eax, [esp + 4]
    mov edx, [esp + 8]
    push ebp
    push ebx
    push esi
    push edi
    mov [eax], esp
    mov esp, edx
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret
