; The local APIC and the I/O APIC as a kernel finds them after the firmware (Intel SDM vol.
; 3A, chapter 10 "Advanced Programmable Interrupt Controller (APIC)"; Intel 82093AA I/O
; APIC datasheet): CPUID.1:EDX.APIC, IA32_APIC_BASE, the register file after the firmware
; (ID, version, TPR, PPR, LDR, DFR, SVR, the LVT), the software enable, LVT write masks,
; a self-IPI held in IRR by IF=0 and then by the TPR, two pending vectors taken by
; priority class, ISR and PPR inside a handler, EOI, the timer in one-shot and periodic
; mode (only that it fires and counts down: no time is printed), an NMI through the ICR,
; the I/O APIC's ID, version and redirection table, and the PIT's IRQ 0 routed through
; I/O APIC pin 2 (the ISA IRQ 0 -> GSI 2 override of QEMU's and wasmvisor's MADT); last,
; IA32_APIC_BASE's global disable (10.4.3), which lasts until reset.
; Runs on the PC (QEMU's `pc` machine, wasmvisor's Machine with apic on).
%include "lib.inc"

APIC        equ 0xfee00000
IOAPIC      equ 0xfec00000

%macro RD 1                         ; EAX = local APIC register %1
    mov eax, [APIC + %1]
%endmacro
%macro WR 2                         ; local APIC register %1 = %2
    mov dword [APIC + %1], %2
%endmacro
%macro SHOW 2                       ; "name=XXXXXXXX" of local APIC register %2
    PUTS %1
    PUTS "="
    PHEX [APIC + %2]
    NL
%endmacro

main:
    ; handlers: 0x40-0x7f record their vector, 0x50 the timer, 2 the NMI
    mov eax, 0x20
.gates:
    mov ebx, vec_handler
    mov ecx, SEL_CODE0
    mov edx, 0x8e
    call set_gate
    inc eax
    cmp eax, 0x100
    jb .gates
    mov eax, 2
    mov ebx, nmi_handler
    call set_gate
    mov eax, 0x50
    mov ebx, timer_handler
    call set_gate

    ; the 8259 pair: remapped to 0x20/0x28 and every line masked (the I/O APIC routes IRQ 0)
    PIC_INIT
    mov al, 0xff
    out 0x21, al
    out 0xa1, al

    mov eax, 1
    cpuid
    PUTS "cpuid.1:edx.apic="
    shr edx, 9
    and edx, 1
    PHEX8 edx
    NL
    mov ecx, 0x1b
    rdmsr
    PUTS "ia32_apic_base="
    PHEX eax
    NL

    PUTSN "after the firmware:"
    RD 0x20
    shr eax, 24
    PUTS "  id="
    PHEX8 eax
    NL
    SHOW "  version", 0x30
    SHOW "  tpr", 0x80
    SHOW "  ppr", 0xa0
    SHOW "  ldr", 0xd0
    SHOW "  dfr", 0xe0
    SHOW "  svr", 0xf0
    SHOW "  lvt timer", 0x320
    SHOW "  lvt lint0", 0x350
    SHOW "  lvt lint1", 0x360
    SHOW "  lvt error", 0x370
    SHOW "  initial count", 0x380
    SHOW "  divide", 0x3e0
    SHOW "  isr[0x40-0x5f]", 0x120
    SHOW "  irr[0x40-0x5f]", 0x220
    SHOW "  tmr[0x40-0x5f]", 0x1a0

    ; software disable (SVR bit 8 clear): every LVT entry reads masked and stays masked
    ; (10.4.7.2); then enable with spurious vector 0xff
    WR 0xf0, 0x0ff
    WR 0x370, 0x33
    SHOW "disabled: lvt error after writing 00000033", 0x370
    WR 0xf0, 0x1ff
    SHOW "enabled: svr", 0xf0
    ; LVT fields (10.5.1, figure 10-8): what each entry keeps of 0x0001f7ff
    WR 0x370, 0x1f7ff
    SHOW "lvt error <- 0001f7ff", 0x370
    WR 0x320, 0x1f7ff
    SHOW "lvt timer <- 0001f7ff", 0x320
    WR 0x370, 0x10000 | 0x3f
    WR 0x320, 0x10000 | 0x50
    WR 0xd0, 0x12345678
    SHOW "ldr <- 12345678", 0xd0
    WR 0xd0, 0
    WR 0x80, 0xff
    SHOW "tpr <- ff", 0x80
    WR 0x80, 0x20
    SHOW "tpr <- 20: ppr", 0xa0

    ; a self-IPI (ICR destination shorthand 01 self, fixed, vector 0x44) with IF = 0
    WR 0x80, 0
    WR 0x300, 0x40044
    SHOW "self ipi 44, if=0: irr[0x40-0x5f]", 0x220
    SHOW "  icr", 0x300
    ; the TPR at class 4 holds it back (10.8.3.1: only a class above PPR's is taken)
    WR 0x80, 0x40
    sti
    nop
    nop
    cli
    PUTS "  tpr=40, sti: taken="
    PHEX8 [taken_n]
    NL
    WR 0x80, 0x3f
    sti
    nop
    cli
    PUTS "  tpr=3f, sti: taken="
    PHEX8 [taken_n]
    PUTS " vector="
    PHEX8 [taken]
    PUTS " isr="
    PHEX [isr_seen]
    PUTS " ppr="
    PHEX [ppr_seen]
    NL
    SHOW "  after eoi: isr[0x40-0x5f]", 0x120
    WR 0x80, 0

    ; two pending vectors in different classes: the higher class first (10.8.3)
    mov dword [taken_n], 0
    WR 0x300, 0x40045
    WR 0x300, 0x40075
    SHOW "two self ipis 45, 75: irr[0x60-0x7f]", 0x230
    sti
    nop
    nop
    cli
    PUTS "  taken="
    PHEX8 [taken_n]
    PUTS " first="
    PHEX8 [taken]
    PUTS " second="
    PHEX8 [taken + 1]
    NL

    ; the timer, one-shot (10.5.4): divide by 16, initial count 1000000, vector 0x50
    WR 0x3e0, 0x3
    WR 0x320, 0x50
    WR 0x380, 1000000
    RD 0x390
    PUTS "one-shot: counting="
    xor ecx, ecx
    test eax, eax
    jz .c0
    cmp eax, 1000000
    ja .c0
    inc ecx
.c0:
    PHEX8 ecx
    NL
    sti
.wait1:
    hlt
    cmp dword [ticks], 1
    jb .wait1
    cli
    PUTS "  fired: ticks="
    PHEX [ticks]
    SHOW " current", 0x390
    ; periodic: three interrupts, then stopped by an initial count of 0
    mov dword [ticks], 0
    WR 0x3e0, 0x3                   ; divide by 16
    WR 0x320, 0x20050
    WR 0x380, 2000
    sti
.wait2:
    hlt
    cmp dword [ticks], 3
    jb .wait2
    cli
    WR 0x380, 0
    PUTS "periodic: at least three ticks="
    xor ecx, ecx
    cmp dword [ticks], 3
    setae cl
    PHEX8 ecx
    SHOW " current after stop", 0x390
    WR 0x320, 0x10050

    ; an NMI through the ICR: delivery mode 100 (NMI), physical destination 0 (10.6.1)
    WR 0x310, 0
    WR 0x300, 0x4400
    nop
    PUTS "nmi through the icr: nmis="
    PHEX [nmis]
    NL

    ; the I/O APIC (82093AA, 3.2): IOREGSEL at +0, IOWIN at +0x10
    mov dword [IOAPIC], 0
    PUTS "ioapic id="
    PHEX [IOAPIC + 0x10]
    mov dword [IOAPIC], 1
    PUTS " version="
    PHEX [IOAPIC + 0x10]
    mov dword [IOAPIC], 2
    PUTS " arb="
    PHEX [IOAPIC + 0x10]
    NL
    xor ebx, ebx
.redir:
    PUTS "  pin "
    PHEX8 ebx
    PUTS ": "
    lea eax, [0x11 + ebx*2]
    mov [IOAPIC], eax
    PHEX [IOAPIC + 0x10]
    dec eax
    mov [IOAPIC], eax
    PHEX [IOAPIC + 0x10]
    NL
    inc ebx
    cmp ebx, 24
    jb .redir
    ; the redirection entry's writable bits (3.2.4): all of 0xffffffff low
    mov dword [IOAPIC], 0x10 + 2 * 5
    mov dword [IOAPIC + 0x10], 0xffffffff
    PUTS "pin 05 <- ffffffff: "
    PHEX [IOAPIC + 0x10]
    NL
    mov dword [IOAPIC + 0x10], 0x10000

    ; the PIT's IRQ 0 through pin 2: vector 0x61, fixed, edge, physical destination 0
    mov dword [taken_n], 0
    mov dword [IOAPIC], 0x10 + 2 * 2 + 1
    mov dword [IOAPIC + 0x10], 0
    mov dword [IOAPIC], 0x10 + 2 * 2
    mov dword [IOAPIC + 0x10], 0x61
    mov al, 0x30                    ; PIT channel 0, mode 0, count 1000
    out 0x43, al
    mov al, 0xe8
    out 0x40, al
    mov al, 0x03
    out 0x40, al
    sti
.wait3:
    hlt
    cmp dword [taken_n], 1
    jb .wait3
    cli
    PUTS "pit through ioapic pin 2: vector="
    PHEX8 [taken]
    PUTS " isr in handler="
    PHEX [isr_seen]
    NL
    mov dword [IOAPIC + 0x10], 0x10061

    ; IA32_APIC_BASE[11] clear: the APIC globally disabled (10.4.3): CPUID.1:EDX.APIC reads
    ; 0, and setting the bit again does not bring it back before a reset; the register page
    ; no longer answers (reads float)
    WR 0x80, 0x20
    mov ecx, 0x1b
    rdmsr
    and eax, ~0x800
    wrmsr
    rdmsr
    PUTS "global disable: ia32_apic_base="
    PHEX eax
    mov eax, 1
    cpuid
    shr edx, 9
    and edx, 1
    PUTS " cpuid.1:edx.apic="
    PHEX8 edx
    NL
    mov ecx, 0x1b
    rdmsr
    or eax, 0x800
    wrmsr
    rdmsr
    PUTS "enabled again: ia32_apic_base="
    PHEX eax
    PUTS " svr="
    PHEX [APIC + 0xf0]
    PUTS " tpr="
    PHEX [APIC + 0x80]
    PUTS " lvt lint0="
    PHEX [APIC + 0x350]
    NL
    ret

; a handler for vectors 0x20-0xff: records the vector (from the ISR: the highest bit set),
; the ISR word of the vector's register and PPR, then EOI
vec_handler:
    pushad
    mov esi, 0x170                  ; ISR registers, highest first
.find:
    mov eax, [APIC + esi]
    test eax, eax
    jnz .found
    sub esi, 0x10
    cmp esi, 0x100
    jae .find
    jmp .out
.found:
    bsr ecx, eax
    mov edx, esi
    sub edx, 0x100
    shl edx, 1                      ; (register index) * 32
    add ecx, edx
    mov edi, [taken_n]
    cmp edi, 4
    jae .count
    mov [taken + edi], cl
    mov [isr_seen + edi * 4], eax
    mov eax, [APIC + 0xa0]
    mov [ppr_seen + edi * 4], eax
.count:
    inc dword [taken_n]
.out:
    mov dword [APIC + 0xb0], 0      ; EOI
    popad
    iretd

timer_handler:
    inc dword [ticks]
    mov dword [APIC + 0xb0], 0
    iretd

nmi_handler:
    inc dword [nmis]
    iretd

taken_n:    dd 0
taken:      dd 0
isr_seen:   dd 0, 0, 0, 0
ppr_seen:   dd 0, 0, 0, 0
ticks:      dd 0
nmis:       dd 0

%include "end.inc"
