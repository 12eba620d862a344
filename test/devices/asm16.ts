/**
 * A very small real-mode assembler for device test guests: bytes, labels, short jumps and
 * 16-bit absolute label addresses. Encodings are the Intel SDM vol. 2 ones, noted by each
 * helper.
 */
export class Asm16 {
  readonly code: number[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixes: { at: number; label: string; kind: 'rel8' | 'rel16' | 'abs16' }[] = [];

  /** `base`: the offset in CS of the first byte. */
  constructor(readonly base: number) {}

  b(...x: number[]): this { this.code.push(...x.map((v) => v & 0xff)); return this; }
  w(v: number): this { return this.b(v, v >> 8); }
  label(name: string): this { this.labels.set(name, this.code.length); return this; }
  /** A short jump or Jcc (opcode given) to `label`. */
  jmp8(opcode: number, label: string): this { this.b(opcode); this.fixes.push({ at: this.code.length, label, kind: 'rel8' }); return this.b(0); }
  /** call near `label` (E8 cw). */
  call(label: string): this { this.b(0xe8); this.fixes.push({ at: this.code.length, label, kind: 'rel16' }); return this.w(0); }
  /** The position of `label` in the code. */
  offsetOf(label: string): number {
    const at = this.labels.get(label);
    if (at === undefined) throw new Error(`undefined label ${label}`);
    return at;
  }
  /** The 16-bit offset of `label` in CS. */
  addr(label: string): this { this.fixes.push({ at: this.code.length, label, kind: 'abs16' }); return this.w(0); }
  /** mov word [mem], imm16 (C7 /0). */
  movMemImm16(mem: number, v: number): this { return this.b(0xc7, 0x06).w(mem).w(v); }
  /** out port, al with al = v (B0 ib; E6 ib, or BA iw; EE for ports above 0xFF). */
  outb(port: number, v: number): this {
    this.b(0xb0, v);
    return port < 0x100 ? this.b(0xe6, port) : this.b(0xba).w(port).b(0xee);
  }
  /** out port, eax with eax = v (BA iw; 66 B8 id; 66 EF). */
  outl(port: number, v: number): this { return this.b(0xba).w(port).b(0x66, 0xb8).w(v & 0xffff).w(v >>> 16).b(0x66, 0xef); }
  /** in al, port (E4 ib, or BA iw; EC). */
  inb(port: number): this { return port < 0x100 ? this.b(0xe4, port) : this.b(0xba).w(port).b(0xec); }
  /** out 0xE9, al: report AL on the debug console. */
  report(): this { return this.b(0xe6, 0xe9); }

  finish(): number[] {
    for (const f of this.fixes) {
      const at = this.labels.get(f.label);
      if (at === undefined) throw new Error(`undefined label ${f.label}`);
      if (f.kind === 'rel8') {
        const d = at - (f.at + 1);
        if (d < -128 || d > 127) throw new Error(`jump to ${f.label} out of range`);
        this.code[f.at] = d & 0xff;
      } else if (f.kind === 'rel16') {
        const d = at - (f.at + 2);
        this.code[f.at] = d & 0xff; this.code[f.at + 1] = (d >> 8) & 0xff;
      } else {
        const a = this.base + at;
        this.code[f.at] = a & 0xff; this.code[f.at + 1] = (a >> 8) & 0xff;
      }
    }
    return this.code;
  }
}
