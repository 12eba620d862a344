; Triple-faults: an IDT of limit 0 makes INT3's delivery fault (#GP), the #GP's delivery
; fault again (#DF), and the #DF's delivery shut the CPU down (SDM vol. 3A, 6.15, "Interrupt
; 8: Double Fault Exception": a fault while delivering #DF is a triple fault).
%include "mb.inc"
_start:
    mov esp, 0x90000                ; Multiboot gives no stack (0.6.96, 3.2: ESP undefined)
    mov esi, msg
    call puts
    lidt [null_idt]
    int3
    jmp $
msg: db 'triple: faulting now', 10, 0
null_idt: dw 0
          dd 0
load_end:
bss_end:
