/**
 * The text-mode part of a VGA: the CRT controller's registers at 0x3D4/0x3D5 (cursor shape
 * and location, start address, the display geometry), the miscellaneous output register
 * (write 0x3C2, read 0x3CC), input status #1 (0x3DA), the sequencer and graphics controller
 * index/data pairs as plain register files, and the 80x25 text screen read from the buffer
 * at 0xB8000-0xBFFFF. The buffer itself is guest RAM (the guest writes it directly).
 *
 * Register reference: IBM "VGA Technical Reference" (Personal System/2 Hardware Interface
 * Technical Reference, VGA chapter, "CRT Controller Registers"), as summarised by FreeVGA
 * ("CRT Controller Registers", "External Registers"). The values at power-on are the
 * BIOS's mode 3 (80x25 colour text) values from the same reference's mode tables, as a
 * VGA BIOS leaves the card before any OS runs; no pixels are drawn.
 */
import type { Bus } from './bus.js';
import { DeviceStateError, int, obj } from './state.js';

/** The text buffer of the colour text modes (VGA Technical Reference, memory map select 11b). */
export const TEXT_BASE = 0xb8000;
export const TEXT_BYTES = 0x8000;

/** CRTC register indices (FreeVGA "CRT Controller Registers"). */
export const CR = {
  HORIZONTAL_DISPLAY_END: 0x01,
  OVERFLOW: 0x07,
  MAX_SCAN_LINE: 0x09,
  CURSOR_START: 0x0a,
  CURSOR_END: 0x0b,
  START_HIGH: 0x0c,
  START_LOW: 0x0d,
  CURSOR_HIGH: 0x0e,
  CURSOR_LOW: 0x0f,
  VERTICAL_DISPLAY_END: 0x12,
  VERTICAL_RETRACE_END: 0x11,
} as const;

/** CRTC registers 00h-18h of mode 3 (VGA Technical Reference, mode 3 parameter table). */
const MODE3_CRTC = [
  0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00,
  0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff,
];
/** Miscellaneous output of mode 3: colour I/O addresses (bit 0), RAM enabled, 28 MHz clock. */
const MODE3_MISC = 0x67;
/** Sequencer 00h-04h and graphics controller 00h-08h of mode 3 (same tables). */
const MODE3_SEQ = [0x03, 0x00, 0x03, 0x00, 0x02];
const MODE3_GC = [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff];

/** Input status #1 bits (FreeVGA "External Registers"): display disabled, vertical retrace. */
const ST1_DD = 0x01;
const ST1_VR = 0x08;

/** Code page 437 as Unicode, for the screen as text (0x00 and 0x20 are spaces). */
const CP437 =
  ' ☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼' +
  ' !"#$%&\'()*+,-./0123456789:;<=>?' +
  '@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~⌂' +
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒ' +
  'áíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐' +
  '└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀' +
  'αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

export interface VgaState {
  crtcIndex: number; crtc: number[]; misc: number; seqIndex: number; seq: number[];
  gcIndex: number; gc: number[]; status: number;
}

/** Where the cursor is on the screen, whether it shows, and its first and last scan line. */
export interface Cursor {
  row: number; column: number; visible: boolean; start: number; end: number;
}

export class VgaText {
  crtcIndex = 0;
  readonly crtc = new Uint8Array(256);
  misc = MODE3_MISC;
  seqIndex = 0;
  readonly seq = new Uint8Array(8);
  gcIndex = 0;
  readonly gc = new Uint8Array(16);
  /** Input status #1: the retrace and display-disabled bits toggle on each read. */
  status = 0;

  /** `readMemory` reads guest-physical bytes (the text buffer is RAM). */
  constructor(private readonly readMemory: (addr: number, length: number) => Uint8Array) {
    this.crtc.set(MODE3_CRTC);
    this.seq.set(MODE3_SEQ);
    this.gc.set(MODE3_GC);
  }

  /**
   * CRTC data write. Registers 00h-07h are write-protected while bit 7 of the Vertical
   * Retrace End register (11h) is set, except the line compare bit 4 of the Overflow
   * register 07h (FreeVGA "Vertical Retrace End Register", Protect bit).
   */
  writeCrtc(index: number, v: number): void {
    if (index <= 7 && this.crtc[CR.VERTICAL_RETRACE_END] & 0x80) {
      if (index === CR.OVERFLOW) this.crtc[index] = (this.crtc[index] & ~0x10) | (v & 0x10);
      return;
    }
    this.crtc[index] = v;
  }

  /** Input status #1 read: it also resets the attribute controller's address flip-flop. */
  readStatus(): number {
    // A guest waiting for retrace polls this: each read shows the other phase.
    this.status ^= ST1_DD | ST1_VR;
    return this.status;
  }

  read(port: number): number {
    switch (port) {
      case 0x3d4: return this.crtcIndex;
      case 0x3d5: return this.crtc[this.crtcIndex];
      case 0x3da: return this.readStatus();
      case 0x3cc: return this.misc;
      case 0x3c4: return this.seqIndex;
      case 0x3c5: return this.seq[this.seqIndex & 7];
      case 0x3ce: return this.gcIndex;
      case 0x3cf: return this.gc[this.gcIndex & 15];
      default: return 0xff;
    }
  }

  write(port: number, v: number): void {
    switch (port) {
      case 0x3d4: this.crtcIndex = v; break;
      case 0x3d5: this.writeCrtc(this.crtcIndex, v); break;
      case 0x3c2: this.misc = v; break;
      case 0x3c4: this.seqIndex = v; break;
      case 0x3c5: this.seq[this.seqIndex & 7] = v; break;
      case 0x3ce: this.gcIndex = v; break;
      case 0x3cf: this.gc[this.gcIndex & 15] = v; break;
      default: break;
    }
  }

  /** Columns: Horizontal Display End + 1 (character clocks). */
  get columns(): number { return this.crtc[CR.HORIZONTAL_DISPLAY_END] + 1; }

  /**
   * Rows: the displayed scan lines (Vertical Display End, bits 8 and 9 in the Overflow
   * register's bits 1 and 6) divided by the character height (Maximum Scan Line + 1).
   */
  get rows(): number {
    const ov = this.crtc[CR.OVERFLOW];
    const lines = (this.crtc[CR.VERTICAL_DISPLAY_END] | (ov & 0x02) << 7 | (ov & 0x40) << 3) + 1;
    return Math.max(1, Math.floor(lines / ((this.crtc[CR.MAX_SCAN_LINE] & 0x1f) + 1)));
  }

  /** Start Address High/Low: the first displayed character, in cells. */
  get startAddress(): number { return this.crtc[CR.START_HIGH] << 8 | this.crtc[CR.START_LOW]; }

  /** Cursor Location High/Low, relative to the buffer; Cursor Start bit 5 disables it. */
  cursor(): Cursor {
    const at = (this.crtc[CR.CURSOR_HIGH] << 8 | this.crtc[CR.CURSOR_LOW]) - this.startAddress;
    const cols = this.columns;
    return {
      row: Math.floor(at / cols), column: ((at % cols) + cols) % cols,
      visible: !(this.crtc[CR.CURSOR_START] & 0x20),
      start: this.crtc[CR.CURSOR_START] & 0x1f, end: this.crtc[CR.CURSOR_END] & 0x1f,
    };
  }

  /** The character and attribute bytes of the displayed page (wrapping within 32 KiB). */
  screenBytes(): Uint8Array {
    const n = this.columns * this.rows * 2;
    const out = new Uint8Array(n);
    const buf = this.readMemory(TEXT_BASE, TEXT_BYTES);
    const start = (this.startAddress * 2) % TEXT_BYTES;
    for (let i = 0; i < n; i++) out[i] = buf[(start + i) % TEXT_BYTES];
    return out;
  }

  /** The screen as text: one line per row, code page 437, trailing blanks dropped. */
  screenText(): string {
    return textOfScreen(this.screenBytes(), this.columns);
  }

  attach(bus: Bus): void {
    const ranges: [number, number][] =
      [[0x3c2, 1], [0x3c4, 2], [0x3cc, 1], [0x3ce, 2], [0x3d4, 2], [0x3da, 1]];
    for (const [base, length] of ranges) {
      bus.register({ space: 'pio', base, length, width: 1, device: {
        name: 'vga', read: (o) => this.read(base + o), write: (o, _s, v) => this.write(base + o, v),
      } });
    }
  }

  state(): VgaState {
    return {
      crtcIndex: this.crtcIndex, crtc: [...this.crtc], misc: this.misc, seqIndex: this.seqIndex,
      seq: [...this.seq], gcIndex: this.gcIndex, gc: [...this.gc], status: this.status,
    };
  }

  static fromState(s: unknown, readMemory: (addr: number, length: number) => Uint8Array): VgaText {
    const o = obj(s, 'vga');
    const v = new VgaText(readMemory);
    for (const k of ['crtcIndex', 'misc', 'seqIndex', 'gcIndex', 'status'] as const) {
      v[k] = int(o, k, 'vga', 0, 255);
    }
    for (const [k, arr] of [['crtc', v.crtc], ['seq', v.seq], ['gc', v.gc]] as const) {
      const a = o[k];
      const bytes = Array.isArray(a) && a.length === arr.length
        && Array.from(a).every((x) => Number.isInteger(x) && x >= 0 && x <= 255);
      if (!bytes) {
        throw new DeviceStateError(`vga.${k}`, `expected ${arr.length} bytes`);
      }
      arr.set(a);
    }
    return v;
  }
}

/** Text of character/attribute pairs laid out `columns` wide (code page 437). */
export function textOfScreen(bytes: Uint8Array, columns: number): string {
  const lines: string[] = [];
  for (let at = 0; at + 1 < bytes.length; at += columns * 2) {
    let line = '';
    for (let c = 0; c < columns && at + 2 * c < bytes.length; c++) {
      line += CP437[bytes[at + 2 * c]];
    }
    lines.push(line.replace(/[ \u00a0]+$/, ''));
  }
  return lines.join('\n') + '\n';
}
