/**
 * A firmware image that reports the power-on state of the 8259A pair and the 8254, run from
 * the reset vector with nothing before it (QEMU's -bios, Bochs' romimage, wasmvisor's
 * firmware). It points all 256 interrupt vectors at stubs that report their number, reads
 * the master's IRR and IMR and the slave's IMR, then executes STI and waits until the RTC's seconds
 * have changed twice (at least a second: many 18.2 Hz timer periods). Then, with CLI: the
 * master's IRR again, and PIT counter 0's OUT from 1000 read-back status bytes each ORed
 * and ANDed (80h 80h: always high; a counting counter toggles). Last comes 0xFF if no
 * interrupt came, or the vector if one did. Each byte goes to the 0xE9 debug console (Bochs'
 * port_e9_hack); the probe exits through isa-debug-exit, then Bochs' shutdown port 0x8900.
 */
import { Asm16 } from './asm16.js';
import { romFromBody } from './qemu-probe.js';

/** Bytes the probe reports: IRR, IMR, slave IMR, IRR after, OUT0 OR, OUT0 AND, the end byte. */
export const POWER_ON_BYTES = 7;

/** Where the vector stubs start in the ROM (F000:STUBS), 8 bytes each. */
const STUBS = 0x1000;

export function powerOnProbe(): Uint8Array {
  const a = new Asm16(0);
  a.b(0xfa, 0xfc); // cli; cld
  a.b(0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0); // xor ax,ax; mov ds,ax; mov es,ax; mov ss,ax
  a.b(0xbc).w(0x7000); // mov sp, 0x7000
  // The interrupt vector table: vector v -> F000:STUBS + 8v.
  a.b(0x31, 0xff, 0xb8).w(STUBS).b(0xb9).w(256); // xor di,di; mov ax,STUBS; mov cx,256
  a.label('ivt').b(0xab); // stosw
  a.b(0x50, 0xb8).w(0xf000).b(0xab, 0x58); // push ax; mov ax,0xf000; stosw; pop ax
  a.b(0x05).w(8); // add ax, 8
  a.jmp8(0xe2, 'ivt');
  a.inb(0x20).call('report'); // in al,0x20 (IRR after reset); call report
  a.inb(0x21).call('report');
  a.inb(0xa1).call('report');
  a.b(0xfb); // sti
  // Wait for the RTC's seconds to change twice (at least one second: many timer periods).
  a.b(0xb3, 2); // mov bl, 2
  a.outb(0x70, 0x00).inb(0x71).b(0x88, 0xc7); // CMOS seconds; mov bh, al
  a.label('spin').outb(0x70, 0x00).inb(0x71).b(0x38, 0xf8).jmp8(0x74, 'spin'); // cmp al,bh; je
  a.b(0x88, 0xc7, 0xfe, 0xcb).jmp8(0x75, 'spin'); // mov bh,al; dec bl; jnz spin
  a.b(0xfa).inb(0x20).call('report'); // cli; IRR after the wait
  a.b(0xb9).w(1000).b(0x30, 0xdb); // mov cx, 1000; xor bl, bl: OR of OUT0 samples
  a.label('samp').b(0xb0, 0xe2, 0xe6, 0x43).inb(0x40).b(0x08, 0xc3).jmp8(0xe2, 'samp'); // or bl, al
  a.b(0x88, 0xd8, 0x24, 0x80).call('report'); // OUT0 ever high
  a.b(0xb9).w(1000).b(0xb3, 0xff); // mov cx, 1000; mov bl, 0xff: AND of OUT0 samples
  a.label('samp2').b(0xb0, 0xe2, 0xe6, 0x43).inb(0x40);
  a.b(0x20, 0xc3).jmp8(0xe2, 'samp2'); // and bl, al
  a.b(0x88, 0xd8, 0x24, 0x80).call('report'); // OUT0 always high
  a.b(0xb0, 0xff); // mov al, 0xff: no interrupt
  a.label('done').b(0xfa).call('report');
  a.b(0xb0, 0x00, 0xe6, 0xf4); // isa-debug-exit
  // Bochs: the string "Shutdown" to port 0x8900.
  a.b(0xba).w(0x8900);
  for (const ch of 'Shutdown') a.b(0xb0, ch.charCodeAt(0), 0xee);
  a.label('hang').b(0xf4).jmp8(0xeb, 'hang');
  a.label('report').b(0xe6, 0xe9, 0xc3); // out 0xe9, al; ret
  const code = a.finish();
  if (code.length > STUBS) throw new Error('probe too long');
  const body = new Uint8Array(STUBS + 256 * 8).fill(0xf4);
  body.set(code);
  const done = a.offsetOf('done');
  for (let v = 0; v < 256; v++) {
    // mov al, v; jmp near done
    const at = STUBS + 8 * v;
    const rel = done - (at + 5);
    body.set([0xb0, v, 0xe9, rel & 0xff, (rel >> 8) & 0xff], at);
  }
  return romFromBody(body);
}
