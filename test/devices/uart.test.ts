/**
 * 16550A UART against the PC16550D datasheet (National Semiconductor, June 1995): Table II
 * (registers), Table III (reset states), Table IV (interrupt control), the FIFO and
 * loopback sections; and against QEMU's 16550A register by register where the sequence is
 * deterministic.
 */
import { describe, it, expect, beforeEach } from 'vitest';
import { Bus } from '../../bindings/devices/bus.js';
import { VirtualClock } from '../../bindings/devices/clock.js';
import { RecordingIrqLine } from '../../bindings/devices/irq.js';
import { Uart16550, COM1 } from '../../bindings/devices/uart16550.js';
import { io } from './helpers.js';
import { hasQemu, runQemu, runLocal, outb as qo, inb as qi } from './qemu-probe.js';

const B = COM1.base;
let clock: VirtualClock, irq: RecordingIrqLine, uart: Uart16550, bus: Bus, p: ReturnType<typeof io>, sent: number[];
beforeEach(() => {
  clock = new VirtualClock(); irq = new RecordingIrqLine(); bus = new Bus(); sent = [];
  uart = new Uart16550(clock, irq, (b) => sent.push(b)); uart.attach(bus, B); p = io(bus);
});

describe('reset state (Table III)', () => {
  it('IER 0, IIR 0x01, LCR 0, MCR 0, LSR 0x60, MSR deltas 0', () => {
    expect(p.inb(B + 1)).toBe(0);
    expect(p.inb(B + 2)).toBe(0x01);
    expect(p.inb(B + 3)).toBe(0);
    expect(p.inb(B + 4)).toBe(0);
    expect(p.inb(B + 5)).toBe(0x60);
    expect(p.inb(B + 6) & 0x0f).toBe(0);
  });
});

describe('registers (Table II)', () => {
  it('DLAB selects the divisor latch at offsets 0 and 1', () => {
    p.outb(B + 1, 0x05);
    p.outb(B + 3, 0x83); p.outb(B + 0, 0x01); p.outb(B + 1, 0x00);
    expect(p.inb(B + 0)).toBe(0x01); expect(p.inb(B + 1)).toBe(0x00);
    p.outb(B + 3, 0x03);
    expect(p.inb(B + 1)).toBe(0x05);
    expect(p.inb(B + 3)).toBe(0x03);
  });

  it('the scratch register holds any byte; IER keeps bits 0-3 only', () => {
    p.outb(B + 7, 0xa5); expect(p.inb(B + 7)).toBe(0xa5);
    p.outb(B + 1, 0xff); expect(p.inb(B + 1)).toBe(0x0f);
  });

  it('THR bytes go to the host; THRE and TEMT stay set', () => {
    for (const c of 'OK') p.outb(B, c.charCodeAt(0));
    expect(String.fromCharCode(...sent)).toBe('OK');
    expect(p.inb(B + 5) & 0x60).toBe(0x60);
  });
});

describe('interrupts (Table IV)', () => {
  it('enabling ETBEI with THR empty reports THRE (IIR 0x02); reading IIR clears it; a THR write sets it again', () => {
    p.outb(B + 4, 0x08); // OUT2: IRQ to the bus
    p.outb(B + 1, 0x02);
    expect(irq.level).toBe(true);
    expect(p.inb(B + 2)).toBe(0x02);
    expect(p.inb(B + 2)).toBe(0x01);
    expect(irq.level).toBe(false);
    p.outb(B, 0x41);
    expect(p.inb(B + 2)).toBe(0x02);
  });

  it('received data available (IIR 0x04) in 16450 mode: one holding register', () => {
    p.outb(B + 4, 0x08); p.outb(B + 1, 0x01);
    expect(uart.receive([0x61, 0x62])).toBe(1);
    expect(p.inb(B + 5) & 0x01).toBe(1);
    expect(p.inb(B + 2)).toBe(0x04);
    expect(irq.level).toBe(true);
    expect(p.inb(B)).toBe(0x61);
    expect(p.inb(B + 2)).toBe(0x01);
    expect(p.inb(B + 5) & 0x01).toBe(0);
  });

  it('line status (IIR 0x06) outranks received data, and reading LSR clears OE', () => {
    p.outb(B + 4, 0x18); p.outb(B + 1, 0x05); // loopback, ERBFI | ELSI
    p.outb(B, 1); p.outb(B, 2); // the second overruns the holding register
    expect(p.inb(B + 2)).toBe(0x06);
    expect(p.inb(B + 5) & 0x03).toBe(0x03);
    expect(p.inb(B + 5) & 0x02).toBe(0);
    expect(p.inb(B + 2)).toBe(0x04);
    expect(p.inb(B)).toBe(2);
  });

  it('modem status (IIR 0x00) on a CTS change; reading MSR clears the deltas', () => {
    p.outb(B + 1, 0x08);
    uart.setModemInputs(0xa0); // CTS drops
    expect(p.inb(B + 2)).toBe(0x00);
    expect(p.inb(B + 6)).toBe(0xa1);
    expect(p.inb(B + 2)).toBe(0x01);
  });

  it('MCR OUT2 gates the interrupt onto the ISA line (PC adapters)', () => {
    p.outb(B + 1, 0x02);
    expect(irq.level).toBe(false);
    p.outb(B + 4, 0x08);
    expect(irq.level).toBe(true);
  });
});

describe('FIFOs ("FIFO Interrupt Mode Operation")', () => {
  it('FCR 0xC7: IIR bits 7-6 set, 16 bytes taken, RDA at the 14-byte trigger level', () => {
    p.outb(B + 2, 0xc7); p.outb(B + 1, 0x01);
    expect(p.inb(B + 2)).toBe(0xc1);
    expect(uart.receive(new Uint8Array(13).fill(0x30))).toBe(13);
    expect(p.inb(B + 2)).toBe(0xc1);
    expect(uart.receive(new Uint8Array(7).fill(0x31))).toBe(3);
    expect(p.inb(B + 2)).toBe(0xc4);
    p.inb(B); p.inb(B); p.inb(B);
    expect(p.inb(B + 2)).toBe(0xc1); // below the trigger level again
  });

  it('character timeout (IIR 0xCC) after four character times with data below the trigger', () => {
    p.outb(B + 3, 0x80); p.outb(B, 1); p.outb(B + 1, 0); p.outb(B + 3, 0x03); // 115200 8N1
    p.outb(B + 2, 0xc1); p.outb(B + 1, 0x01);
    uart.receive([0x7a]);
    // 4 characters x 10 bits x 16 clocks / 1.8432 MHz = 347.2 us
    clock.advanceTo(347_000);
    expect(p.inb(B + 2)).toBe(0xc1);
    clock.advanceTo(348_000);
    expect(p.inb(B + 2)).toBe(0xcc);
    expect(p.inb(B)).toBe(0x7a);
    expect(p.inb(B + 2)).toBe(0xc1);
  });

  it('FCR bit 1 clears the receiver FIFO', () => {
    p.outb(B + 2, 0x01); uart.receive([1, 2, 3]);
    p.outb(B + 2, 0x03);
    expect(p.inb(B + 5) & 0x01).toBe(0);
  });
});

describe('loopback (MCR bit 4)', () => {
  it('transmitted bytes come back, not to the host; modem outputs loop to inputs', () => {
    p.outb(B + 2, 0x01);
    p.outb(B + 4, 0x10 | 0x0f);
    expect(p.inb(B + 6) & 0xf0).toBe(0xf0);
    p.outb(B, 0x55); p.outb(B, 0xaa);
    expect(sent).toEqual([]);
    expect(p.inb(B)).toBe(0x55); expect(p.inb(B)).toBe(0xaa);
    p.outb(B + 4, 0x10 | 0x01); // RTS, OUT1, OUT2 drop
    expect(p.inb(B + 6)).toBe(0x20 | 0x01 | 0x04 | 0x08); // DSR; DCTS, TERI, DDCD
    expect(uart.receive([1])).toBe(0); // the receiver is disconnected from the host
  });
});

describe('snapshots', () => {
  it('round-trips with a pending timeout and a FIFO', () => {
    p.outb(B + 2, 0xc1); p.outb(B + 1, 0x01); uart.receive([9, 8]);
    const s = JSON.parse(JSON.stringify({ c: clock.state(), u: uart.state() }));
    const c2 = VirtualClock.fromState(s.c);
    const u2 = Uart16550.fromState(s.u, c2, new RecordingIrqLine(), () => {});
    c2.advanceTo(10_000_000);
    expect(u2.read(2)).toBe(0xcc);
    expect(u2.read(0)).toBe(9);
    s.u.trigger = 3;
    expect(() => Uart16550.fromState(s.u, c2, new RecordingIrqLine(), () => {})).toThrow(/uart\.trigger/);
  });
});

describe.skipIf(!hasQemu)('against QEMU (serial 16550A)', () => {
  it('the same register values through divisor, scratch, FIFO, loopback and interrupt identification', () => {
    const ops = [
      qo(B + 1, 0x00), qo(B + 3, 0x80), qo(B + 0, 0x03), qo(B + 1, 0x00), qi(B + 0), qi(B + 1),
      qo(B + 3, 0x03), qi(B + 3), qo(B + 7, 0x5a), qi(B + 7),
      qo(B + 2, 0x00), qi(B + 2), qo(B + 2, 0xc7), qi(B + 2),
      qo(B + 4, 0x1b), qi(B + 4), qi(B + 6), qi(B + 6),
      qo(B + 1, 0x0f), qi(B + 2), qi(B + 2),
      qo(B + 0, 0x41), qo(B + 0, 0x42), qi(B + 5), qi(B + 0), qi(B + 0), qi(B + 5), qi(B + 0),
      // Not compared: MSR after leaving MCR bits in loopback. The datasheet keeps the delta
      // bits working in loopback (tested above); QEMU computes MSR from MCR without them.
      qo(B + 4, 0x10), qi(B + 2),
      qo(B + 1, 0x00), qo(B + 4, 0x00), qo(B + 2, 0x00), qi(B + 2), qi(B + 5),
      qo(B + 4, 0x10), qo(B + 0, 0x5a), qi(B + 5), qi(B + 0), qi(B + 5), qi(B + 0), // 16450 mode: RBR keeps 5Ah
    ];
    const q = runQemu(ops, ['-serial', 'null']).bytes;
    expect(runLocal(ops, (port, size) => bus.read('pio', port, size), (port, size, v) => bus.write('pio', port, size, v))).toEqual(q);
  });
});
