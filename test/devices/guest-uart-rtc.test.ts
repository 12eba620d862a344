/**
 * Interrupt-driven guests for the UART and the RTC, on the machine and under QEMU.
 *
 * UART: the guest transmits a string one byte per THRE interrupt (IER ETBEI, IIR C2h with
 * FIFOs on; PC16550D Table IV) and then echoes what the host sends, taken on the
 * character-timeout interrupt (IIR CCh) below the 14-byte trigger level.
 * RTC: the guest counts K periodic interrupts at 1024 Hz (register A RS = 0110) on IRQ8,
 * reading register C in the handler as the MC146818A requires to re-arm IRQ.
 */
import { describe, it, expect } from 'vitest';
import { Machine } from '../../bindings/machine/machine.js';
import { Asm16 } from './asm16.js';
import { floppyImage, hasQemu, romFromBody, runQemuFloppy } from './qemu-probe.js';

const TEXT = 'THRE says hi\n';
const B = 0x3f8;

/** Sets up DS=ES=SS=0, a stack, and the IVT entry for `vector`; programs the PIC pair. */
function prologue(a: Asm16, cs: number, vector: number, masterMask: number, slaveMask: number): void {
  a.b(0xfa, 0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, 0xbc).w(0x7000);
  a.b(0xc7, 0x06).w(vector * 4).addr('handler').movMemImm16(vector * 4 + 2, cs);
  a.movMemImm16(0x500, 0).movMemImm16(0x502, 0).movMemImm16(0x504, 0);
  for (const [p, v] of [[0x20, 0x11], [0x21, 0x08], [0x21, 0x04], [0x21, 0x01], [0xa0, 0x11], [0xa1, 0x70], [0xa1, 0x02], [0xa1, 0x01], [0x21, masterMask], [0xa1, slaveMask]]) a.outb(p, v);
}

/** Sleeps (STI;HLT) until word [flagAddr] reaches `target` (an imm8). */
function waitFor(a: Asm16, name: string, flagAddr: number, target: number): void {
  a.label(name).b(0xfa).b(0x83, 0x3e).w(flagAddr).b(target).jmp8(0x73, `${name}_done`).b(0xfb, 0xf4).jmp8(0xeb, name).label(`${name}_done`);
}

/** THRE-driven transmit of TEXT; IIR values logged at 0x600.. ([0x504] entries). */
function uartTx(cs: number, base: number, textAt: number): number[] {
  const a = new Asm16(base);
  prologue(a, cs, 0x0c, 0xef, 0xff);
  for (const [p, v] of [[B + 3, 0x80], [B, 0x01], [B + 1, 0x00], [B + 3, 0x03], [B + 2, 0xc7], [B + 4, 0x0b]]) a.outb(p, v);
  a.outb(B + 1, 0x02); // ETBEI: the first THRE interrupt comes at once
  waitFor(a, 'tx', 0x502, TEXT.length); // [502h] = bytes sent
  a.b(0xfa).b(0xa0).w(0x504).report(); // interrupts taken
  a.b(0xbe).w(0x600).b(0x8b, 0x0e).w(0x504).label('log').b(0xac).report().jmp8(0xe2, 'log'); // the IIR log
  a.b(0xb0, 0x00, 0xe6, 0xf4, 0xf4);
  // handler: log IIR; if THRE, send the next byte or disable ETBEI when done; EOI.
  a.label('handler').b(0x50, 0x53, 0x56);
  a.inb(B + 2).b(0x8b, 0x1e).w(0x504).b(0x88, 0x87).w(0x600).b(0xff, 0x06).w(0x504); // mov bx,[504h]; mov [bx+600h],al; inc word [504h]
  a.b(0x8b, 0x36).w(0x502).b(0x83, 0xfe, TEXT.length).jmp8(0x73, 'off'); // mov si,[502h]; cmp si,len; jae off
  a.b(0x2e, 0x8a, 0x84).w(textAt).b(0xba).w(B).b(0xee).b(0xff, 0x06).w(0x502).jmp8(0xeb, 'eoi'); // mov al,cs:[si+text]; out; inc
  a.label('off').outb(B + 1, 0x00);
  a.label('eoi').b(0xb0, 0x20, 0xe6, 0x20, 0x5e, 0x5b, 0x58, 0xcf);
  const code = a.finish();
  const out = code.slice();
  while (out.length < textAt - base) out.push(0x90);
  out.push(...[...TEXT].map((c) => c.charCodeAt(0)));
  return out;
}

/** Counts K RTC periodic interrupts; reports register C as read in the first handler run. */
function rtcTicks(cs: number, base: number, k: number): number[] {
  const a = new Asm16(base);
  prologue(a, cs, 0x70, 0xfb, 0xfe);
  a.outb(0x70, 0x0a).outb(0x71, 0x26).outb(0x70, 0x0b).outb(0x71, 0x42); // 1024 Hz, PIE, 24-hour BCD
  a.outb(0x70, 0x0c).inb(0x71); // clear flags
  waitFor(a, 'tick', 0x500, k);
  a.b(0xfa).outb(0x70, 0x0b).outb(0x71, 0x02);
  a.b(0xa0).w(0x500).report().b(0xa0).w(0x502).report();
  a.b(0xb0, 0x00, 0xe6, 0xf4, 0xf4);
  a.label('handler').b(0x50).outb(0x70, 0x0c).inb(0x71).b(0x24, 0xc0).b(0x08, 0x06).w(0x502) // C & C0h ORed into [502h]
    .b(0xff, 0x06).w(0x500).b(0xb0, 0x20, 0xe6, 0xa0, 0xe6, 0x20, 0x58, 0xcf);
  return a.finish();
}

describe('UART guest: THRE-driven transmit', () => {
  const expected = [TEXT.length + 1, ...new Array(TEXT.length + 1).fill(0xc2)];

  it('sends the text with one THRE interrupt per byte plus the first', async () => {
    const out: number[] = []; const serial: number[] = [];
    const m = await Machine.create({ ramBytes: 16 << 20, firmware: romFromBody(uartTx(0xf000, 0, 0x400)), debugcon: (x) => out.push(x), serialOut: (x) => serial.push(x) });
    expect(m.run(20_000_000)).toEqual({ kind: 'exit', status: 1 });
    expect(String.fromCharCode(...serial)).toBe(TEXT);
    expect(out).toEqual(expected);
  });

  it.skipIf(!hasQemu)('QEMU sends the same bytes with the same interrupts', () => {
    const r = runQemuFloppy(floppyImage(uartTx(0, 0x7e00, 0x7e00 + 0x400)), ['-serial', 'file:@DIR@/com1.txt'], {}, ['com1.txt']);
    expect(r.status).toBe(1);
    expect(r.bytes).toEqual(expected);
    expect(new TextDecoder().decode(r.files['com1.txt'])).toBe(TEXT);
  });
});

describe('UART guest: receive on the character timeout', () => {
  it('takes host bytes below the trigger level after four character times (IIR CCh)', async () => {
    const a = new Asm16(0);
    prologue(a, 0xf000, 0x0c, 0xef, 0xff);
    for (const [p, v] of [[B + 3, 0x80], [B, 0x01], [B + 1, 0x00], [B + 3, 0x03], [B + 2, 0xc7], [B + 4, 0x0b], [B + 1, 0x01]]) a.outb(p, v);
    a.outb(0x80, 0x42); // ready: the host may type now (earlier bytes would be cleared by FCR)
    waitFor(a, 'rx', 0x502, 5);
    a.b(0xfa).b(0xbe).w(0x700).b(0xb9).w(5).label('echo').b(0xac).report().jmp8(0xe2, 'echo');
    a.b(0xa0).w(0x600).report().b(0xa0).w(0x504).report();
    a.b(0xb0, 0x00, 0xe6, 0xf4, 0xf4);
    // handler: log the first IIR at 600h; drain RBR while LSR.DR into 700h.. ([502h] bytes)
    a.label('handler').b(0x50, 0x53).inb(B + 2).b(0x83, 0x3e).w(0x504).b(0x00).jmp8(0x75, 'seen').b(0xa2).w(0x600).label('seen').b(0xff, 0x06).w(0x504);
    a.label('drain').inb(B + 5).b(0xa8, 0x01).jmp8(0x74, 'done').inb(B).b(0x8b, 0x1e).w(0x502).b(0x88, 0x87).w(0x700).b(0xff, 0x06).w(0x502).jmp8(0xeb, 'drain');
    a.label('done').b(0xb0, 0x20, 0xe6, 0x20, 0x5b, 0x58, 0xcf);
    const out: number[] = [];
    const m = await Machine.create({ ramBytes: 16 << 20, firmware: romFromBody(a.finish()), debugcon: (x) => out.push(x) });
    for (let k = 0; k < 100 && m.post.last !== 0x42; k++) m.run(5);
    m.input(new TextEncoder().encode('hello'));
    expect(m.run(20_000_000)).toEqual({ kind: 'exit', status: 1 });
    expect(String.fromCharCode(...out.slice(0, 5))).toBe('hello');
    expect(out.slice(5)).toEqual([0xcc, 1]); // one interrupt: the timeout, all five bytes drained
  });
});

describe('RTC guest: periodic interrupts', () => {
  const K = 50;

  it('counts K interrupts at 1024 Hz of virtual time; register C shows IRQF and PF', async () => {
    const out: number[] = [];
    const m = await Machine.create({ ramBytes: 16 << 20, firmware: romFromBody(rtcTicks(0xf000, 0, K)), debugcon: (x) => out.push(x) });
    expect(m.run(50_000_000)).toEqual({ kind: 'exit', status: 1 });
    expect(out).toEqual([K, 0xc0]);
    const ns = m.stats().virtualNs;
    expect(ns).toBeGreaterThan((K - 1) * 976_562);
    expect(ns).toBeLessThan((K + 1) * 976_563);
  });

  it.skipIf(!hasQemu)('QEMU counts the same and reads the same register C', () => {
    const r = runQemuFloppy(floppyImage(rtcTicks(0, 0x7e00, K)));
    expect(r.status).toBe(1);
    expect(r.bytes).toEqual([K, 0xc0]);
  });
});
