; MSI (PCI Local Bus Specification 3.0, 6.8.1) from QEMU's `edu` test device (vendor
; 1234h, device 11E8h: QEMU docs/specs/edu.txt) to the local APIC (Intel SDM vol. 3A,
; 10.11: address 0xFEE00000 | destination << 12, data = vector with delivery mode fixed):
; the device found by configuration mechanism #1, its capability list and MSI capability
; layout (64-bit address, one vector), the registers of BAR 0 (identification, liveness,
; factorial), an interrupt raised through MSI with the vector the guest chose, the
; factorial's completion interrupt, and no message while Bus Master Enable is clear
; (6.2.2). Then, MSI off, the device's INTA# as a level interrupt: the PIIX3 routes its
; PIRQ link to ISA IRQ 11 (82371SB 2.2.9; slot 3 INTA# is link C), which is I/O APIC pin
; 11 (82093AA 3.2.4: level, remote IRR until the EOI; an EOI while the line is still
; asserted delivers again). Run with `-device edu` (QEMU) or `edu: true` (wasmvisor).
%include "lib.inc"

APIC        equ 0xfee00000
BAR_ADDR    equ 0xe0000000              ; where the guest puts BAR 0 when nobody has
VEC         equ 0x63

%macro CFGRD 1                          ; EAX = config dword %1 of the edu function
    mov eax, [edu_cfg]
    or eax, %1
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
%endmacro
%macro CFGWR 2                          ; config dword %1 = %2 (not EAX)
    mov eax, [edu_cfg]
    or eax, %1
    mov dx, 0xcf8
    out dx, eax
    mov eax, %2
    mov dx, 0xcfc
    out dx, eax
%endmacro

main:
    mov eax, VEC
    mov ebx, msi_handler
    mov ecx, SEL_CODE0
    mov edx, 0x8e
    call set_gate
    PIC_INIT                            ; the 8259 pair remapped and every line masked
    mov al, 0xff
    out 0x21, al
    out 0xa1, al
    ; find 1234:11E8 on bus 0
    xor ebx, ebx
.scan:
    mov eax, ebx
    shl eax, 11
    or eax, 0x80000000
    mov [edu_cfg], eax
    CFGRD 0
    cmp eax, 0x11e81234
    je .found
    inc ebx
    cmp ebx, 32
    jb .scan
    PUTSN "no edu device"
    ret
.found:
    PUTS "edu: id="
    PHEX eax
    CFGRD 8
    PUTS " class/rev="
    PHEX eax
    CFGRD 4
    shr eax, 16
    PUTS " status.caplist="
    shr eax, 4
    and eax, 1
    PHEX8 eax
    CFGRD 0x3c
    PUTS " int pin="
    shr eax, 8
    PHEX8 eax
    NL
    ; the capability list (6.7)
    CFGRD 0x34
    movzx esi, al
.cap:
    test esi, esi
    jz .capsdone
    CFGRD esi
    mov edi, eax
    PUTS "  cap id="
    PHEX8 edi
    PUTS " at="
    PHEX8 esi
    PUTS " next="
    mov eax, edi
    shr eax, 8
    PHEX8 eax
    PUTS " control="
    mov eax, edi
    shr eax, 16
    PHEX16 eax
    NL
    mov eax, edi
    cmp al, 5
    jne .nextcap
    mov [msi_cap], esi
.nextcap:
    mov eax, edi
    shr eax, 8
    movzx esi, al
    jmp .cap
.capsdone:
    ; BAR 0: keep the firmware's address, else place it; memory decoding and bus master
    CFGRD 0x10
    and eax, 0xfffffff0
    jnz .have_bar
    CFGWR 0x10, BAR_ADDR
    mov eax, BAR_ADDR
.have_bar:
    mov [bar0], eax
    CFGWR 0x04, 0x06
    mov esi, [bar0]
    PUTS "bar0: ident="
    PHEX [esi]
    mov dword [esi + 4], 0x12345678
    PUTS " liveness(12345678)="
    PHEX [esi + 4]
    mov dword [esi + 8], 5
.busy:
    test dword [esi + 0x20], 1
    jnz .busy
    PUTS " 5!="
    PHEX [esi + 8]
    PUTS " irq status="
    PHEX [esi + 0x24]
    NL

    ; MSI: address 0xFEE00000 (destination 0, physical), data = vector, fixed, edge
    mov ebx, [msi_cap]
    lea ecx, [ebx + 4]
    CFGWR ecx, APIC
    lea ecx, [ebx + 8]
    CFGWR ecx, 0
    lea ecx, [ebx + 12]
    CFGWR ecx, VEC
    CFGRD ebx
    or eax, 0x10000                     ; Message Control bit 0: MSI enable
    mov edi, eax
    CFGWR ebx, edi
    PUTS "msi: control="
    CFGRD ebx
    shr eax, 16
    PHEX16 eax
    PUTS " address="
    lea ecx, [ebx + 4]
    CFGRD ecx
    PHEX eax
    PUTS " upper="
    lea ecx, [ebx + 8]
    CFGRD ecx
    PHEX eax
    PUTS " data="
    lea ecx, [ebx + 12]
    CFGRD ecx
    PHEX16 eax
    NL

    ; raise: interrupt status |= 0x1234, an MSI with vector 0x63
    mov esi, [bar0]
    sti
    mov dword [esi + 0x60], 0x1234
    call wait_irq
    cli
    PUTS "raise 1234: interrupts="
    PHEX [irqs]
    PUTS " vector isr bit="
    PHEX [isr_seen]
    PUTS " status in handler="
    PHEX [status_seen]
    PUTS " after ack="
    PHEX [esi + 0x24]
    NL

    ; the factorial's completion interrupt (status bit 7), status 0x01
    mov dword [irqs], 0
    mov dword [esi + 0x20], 0x80
    sti
    mov dword [esi + 8], 6
    call wait_irq
    cli
    PUTS "6! with status bit 7: interrupts="
    PHEX [irqs]
    PUTS " status in handler="
    PHEX [status_seen]
    PUTS " 6!="
    PHEX [esi + 8]
    NL
    mov dword [esi + 0x20], 0

    ; Bus Master Enable clear: the device may not write, so no message (6.2.2)
    mov dword [irqs], 0
    CFGWR 0x04, 0x02
    sti
    mov dword [esi + 0x60], 0x1
    mov ecx, 100000
.spin:
    loop .spin
    cli
    PUTS "bus master off: interrupts="
    PHEX [irqs]
    PUTS " irq status="
    PHEX [esi + 0x24]
    NL
    mov dword [esi + 0x64], 0xffffffff

    ; INTA# through the I/O APIC, level-triggered: MSI off, bus master back on
    mov ebx, [msi_cap]
    CFGRD ebx
    and eax, ~0x10000
    mov edi, eax
    CFGWR ebx, edi
    CFGWR 0x04, 0x06
    mov eax, 0x80000860                 ; 00:01.0 (PIIX3) PIRQRC[A:D] at 0x60
    mov dx, 0xcf8
    out dx, eax
    mov eax, 0x0b0b0a0a                 ; links A, B -> IRQ 10; C, D -> IRQ 11 (as SeaBIOS)
    mov dx, 0xcfc
    out dx, eax
    mov eax, 0x64
    mov ebx, level_handler
    mov ecx, SEL_CODE0
    mov edx, 0x8e
    call set_gate
    mov dword [0xfec00000], 0x10 + 2 * 11 + 1
    mov dword [0xfec00010], 0
    mov dword [0xfec00000], 0x10 + 2 * 11
    mov dword [0xfec00010], 0x8064      ; level, active high, fixed, vector 0x64
    mov dword [irqs], 0
    mov dword [eoi_early], 1            ; first: EOI before the device is acknowledged
    sti
    mov dword [esi + 0x60], 0x8
    call wait_irq
    mov ecx, 100000
.spin2:
    loop .spin2
    cli
    PUTS "intx level, eoi before ack: interrupts="
    PHEX [irqs]
    PUTS " remote irr in handler="
    PHEX [rirr_seen]
    NL
    mov dword [irqs], 0
    mov dword [eoi_early], 0
    sti
    mov dword [esi + 0x60], 0x8
    call wait_irq
    mov ecx, 100000
.spin3:
    loop .spin3
    cli
    PUTS "intx level, ack then eoi: interrupts="
    PHEX [irqs]
    mov dword [0xfec00000], 0x10 + 2 * 11
    PUTS " entry after="
    PHEX [0xfec00010]
    NL
    mov dword [0xfec00010], 0x18064
    ret

; the level handler: the first interrupt with eoi_early EOIs while INTA# is still
; asserted (the I/O APIC sends it again), then acknowledges the device
level_handler:
    pushad
    inc dword [irqs]
    mov dword [0xfec00000], 0x10 + 2 * 11
    mov eax, [0xfec00010]
    and eax, 0x4000
    mov [rirr_seen], eax
    mov esi, [bar0]
    cmp dword [eoi_early], 0
    je .ack_first
    mov dword [eoi_early], 0
    mov dword [APIC + 0xb0], 0          ; EOI: remote IRR clears, the line is still high
    jmp .out
.ack_first:
    mov eax, [esi + 0x24]
    mov [esi + 0x64], eax               ; INTA# deasserted
    mov dword [APIC + 0xb0], 0
.out:
    popad
    iretd

; wait_irq: spins until the handler ran (at most about 10^7 iterations)
wait_irq:
    push ecx
    mov ecx, 10000000
.l: cmp dword [irqs], 0
    jne .e
    loop .l
.e: pop ecx
    ret

msi_handler:
    pushad
    inc dword [irqs]
    mov eax, [APIC + 0x130]             ; ISR bits 0x60-0x7f
    mov [isr_seen], eax
    mov esi, [bar0]
    mov eax, [esi + 0x24]
    mov [status_seen], eax
    mov [esi + 0x64], eax               ; acknowledge
    mov dword [APIC + 0xb0], 0          ; EOI
    popad
    iretd

edu_cfg:     dd 0
msi_cap:     dd 0
bar0:        dd 0
irqs:        dd 0
isr_seen:    dd 0
status_seen: dd 0
rirr_seen:   dd 0
eoi_early:   dd 0

%include "end.inc"
