/**
 * The intercepted physical interrupt on a whole PC (AMD APM vol. 2, 15.21.3 and 15.13.1:
 * an intercepted INTR is not taken; the interrupt stays pending at the interrupt
 * controller). guests/systests/svm-intr on a Machine with its real PIT and 8259A pair (not
 * the test harness's scripted vector): the L2 guest halts, the PIT's IRQ0 raises INTR, the
 * L1 intercepts it, masks IRQ0 and injects vector 0x20 itself. The lines are the Bochs 2.7
 * fixture's; afterwards the PIC holds IRQ0 requested (IRR bit 0) and not in service (ISR
 * bit 0 clear), as the 8259A is when no INTA cycle took the request (datasheet, "Interrupt
 * Sequence"), and as the guest's comment says of the references.
 */
import { describe, expect, it } from 'vitest';
import { Machine } from '../../bindings/index.js';
import { PicPair } from '../../bindings/devices/pic-pair.js';
import { fixture, guestImage } from '../system/guests.js';

describe('an intercepted INTR stays pending at the PIC', () => {
  it('svm-intr on a Machine prints its fixture; IRQ0 is left requested, not in service',
    async () => {
      let text = '';
      const m = await Machine.create({ ramBytes: 128 << 20, kernel: guestImage('svm-intr'),
        cpu: { svm: true }, serialOut: (b) => { text += String.fromCharCode(b); } });
      expect(m.run(50_000_000)).toMatchObject({ kind: 'exit' });
      expect(text).toBe(fixture('svm-intr').output);
      expect(m.pic.master.isr & 1).toBe(0);
      expect(m.pic.master.irr & 1).toBe(1);
      expect(m.pic.master.imr & 1).toBe(1); // the L1 masked it
    });

  it('PicPair.unack undoes ack: the request is pending again, in service nowhere', () => {
    const pic = new PicPair();
    // ICW1-4 for both chips (edge triggered, vectors 0x20 and 0x28, cascade on IR2).
    const out = (port: number, v: number) => (pic as unknown as {
      write(c: unknown, a0: number, v: number): void;
    }).write(port < 0xa0 ? pic.master : pic.slave, port & 1, v);
    for (const [p, base, icw3] of [[0x20, 0x20, 4], [0xa0, 0x28, 2]]) {
      out(p, 0x11); out(p + 1, base); out(p + 1, icw3); out(p + 1, 1); out(p + 1, 0);
    }
    for (const irq of [0, 9]) {
      pic.line(irq).set(true);
      expect(pic.intr).toBe(true);
      const v = pic.ack();
      expect(v).toBe(irq < 8 ? 0x20 + irq : 0x28 + irq - 8);
      expect(pic.intr).toBe(false);
      pic.unack(v);
      expect(pic.intr).toBe(true);
      expect([pic.master.isr, pic.slave.isr]).toEqual([0, 0]);
      expect(pic.ack()).toBe(v); // taken this time
      pic.line(irq).set(false);
      out(0x20, 0x20); if (irq >= 8) out(0xa0, 0x20); // EOI
    }
  });
});
