/**
 * A GDB stub: the GDB remote serial protocol (GDB manual, appendix E "GDB Remote Serial
 * Protocol") over TCP for one machine, as QEMU's `-gdb tcp::PORT`. The machine starts
 * stopped; GDB reads and writes registers (the i386 target description's order, target.ts)
 * and memory (linear addresses through the guest's paging, as GDB sees a kernel), sets
 * breakpoints (Z0 software, Z1 hardware: both kept by the stub, the guest's memory is never
 * patched), write watchpoints (Z2), single-steps, continues and interrupts (Ctrl-C, 0x03).
 * The one vCPU is thread 1.
 *
 * Breakpoints are the core's own (HOSTDBG in scripts/layout.mjs: it exits before the
 * instruction at one, the guest running in the core meanwhile); a step runs one
 * instruction; watchpoints run the guest one instruction at a time (slow, exact).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Machine, StopReason } from '../machine/machine.js';
import type { Regs, SegName } from '../core/types.js';
import { linearToPhysical } from '../core/linear.js';
import { REGISTERS, TARGET_XML } from './target.js';
import * as L from '../generated/layout.js';

/** Instructions per machine.run() call while continuing (then the socket is read). */
const CHUNK = 200_000;
/** Largest packet we accept and announce (PacketSize, hex digits). */
const PACKET_SIZE = 0x4000;

const GPRS: (keyof Regs)[] = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const SEGS: SegName[] = ['cs', 'ss', 'ds', 'es', 'fs', 'gs'];

const hex8 = (b: number) => b.toString(16).padStart(2, '0');
/** A 32-bit value as target-order (little-endian) hex. */
const le32 = (v: number) => [0, 8, 16, 24].map((s) => hex8((v >>> s) & 0xff)).join('');
const parseLe32 = (h: string) => {
  let v = 0;
  for (let i = 3; i >= 0; i--) v = (v * 256) + parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return v >>> 0;
};
const toHex = (b: Uint8Array) => Array.from(b, hex8).join('');
const fromHex = (h: string) => Uint8Array.from({ length: h.length >> 1 },
  (_, i) => parseInt(h.slice(2 * i, 2 * i + 2), 16));
const strHex = (s: string) => toHex(new TextEncoder().encode(s));

/** The checksum of a packet's data: the sum of its bytes modulo 256 (manual, E.1). */
export function checksum(data: string): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) s = (s + data.charCodeAt(i)) & 0xff;
  return s;
}

/** `$data#cs` with the data's special characters escaped (manual, E.1: `}` then c ^ 0x20). */
export function frame(data: string): string {
  const esc = data.replace(/[#$}*]/g, (c) => '}' + String.fromCharCode(c.charCodeAt(0) ^ 0x20));
  return `$${esc}#${hex8(checksum(esc))}`;
}

interface Watch { addr: number; len: number; last: Uint8Array }

export interface GdbStubEvents {
  /** The guest ended (the stub replied W or X). */
  onEnd?: (stop: StopReason) => void;
  /** GDB detached ('D'): the machine should run on without the debugger. */
  onDetach?: () => void;
  /** GDB killed the target ('k'). */
  onKill?: () => void;
}

export class GdbStub {
  private readonly breaks = new Map<number, 'sw' | 'hw'>();
  private readonly watches = new Map<number, Watch>();
  private lastStop = 'S05';
  private interrupt = false;
  private running = false;
  private swbreak = false;
  /** After QStartNoAckMode: no `+`/`-` either way. */
  noAck = false;
  private ended: StopReason | undefined;
  private send: (frameText: string) => void = () => {};

  constructor(readonly machine: Machine, private readonly events: GdbStubEvents = {}) {}

  /** The guest's end, once it has ended under the debugger. */
  get end(): StopReason | undefined { return this.ended; }

  // ---- registers and memory ----

  private linearEip(): number {
    return (this.machine.core.getSegment('cs').base + this.machine.core.getRegs().eip) >>> 0;
  }

  private readRegister(n: number): string {
    const core = this.machine.core;
    if (n < 8) return le32(core.getRegs()[GPRS[n]]);
    if (n === 8) return le32(core.getRegs().eip);
    if (n === 9) return le32(core.getRegs().eflags);
    if (n < 16) return le32(core.getSegment(SEGS[n - 10]).selector);
    if (n < 32) return 'x'.repeat(2 * REGISTERS[n].size); // the x87 state: unavailable
    return '';
  }

  private writeRegister(n: number, h: string): boolean {
    const core = this.machine.core;
    if (h.length !== 8 || !/^[0-9a-fA-F]+$/.test(h)) return false;
    const v = parseLe32(h);
    if (n < 8) core.setRegs({ [GPRS[n]]: v });
    else if (n === 8) core.setRegs({ eip: v });
    else if (n === 9) core.setRegs({ eflags: v });
    else if (n < 16) {
      // A selector alone would leave its hidden part stale: only the same value is taken.
      return core.getSegment(SEGS[n - 10]).selector === v;
    } else return false;
    return true;
  }

  private paging() {
    const r = this.machine.core.getRegs();
    const dv = new DataView(this.machine.core.saveState().buffer);
    return { cr0: r.cr0, cr3: r.cr3, cr4: r.cr4, a20Mask: dv.getUint32(L.S_A20_MASK, true) };
  }

  /** QEMU's `maintenance packet Qqemu.PhyMemMode:1`: m, M and X use physical addresses. */
  private physical = false;

  private readMemory(addr: number, len: number, phys = this.physical): Uint8Array {
    if (!phys) return this.machine.core.readLinear(addr >>> 0, len);
    const n = Math.max(0, Math.min(len, this.machine.config.ramBytes - addr));
    return n > 0 ? this.machine.core.readPhys(addr, n) : new Uint8Array(0);
  }

  /** Writes through the guest's paging into RAM; false if any byte does not translate. */
  private writeMemory(addr: number, data: Uint8Array): boolean {
    const core = this.machine.core;
    const ram = this.machine.config.ramBytes;
    if (this.physical) {
      if (addr + data.length > ram) return false;
      core.writePhys(addr, data);
      return true;
    }
    const s = this.paging();
    const read32 = (pa: number) => pa + 4 <= ram
      ? new DataView(core.readPhys(pa, 4).buffer).getUint32(0, true) : undefined;
    const pas: number[] = [];
    for (let i = 0; i < data.length; i++) {
      const pa = linearToPhysical(s, (addr + i) >>> 0, read32);
      if (pa === undefined || pa >= ram) return false;
      pas.push(pa);
    }
    for (let i = 0; i < data.length; i++) core.writePhys(pas[i], data.subarray(i, i + 1));
    for (const w of this.watches.values()) w.last = this.readMemory(w.addr, w.len, false);
    return true;
  }

  // ---- execution ----

  private stopReply(stop: StopReason): string {
    switch (stop.kind) {
      case 'exit': return `W${hex8(stop.status & 0xff)}`;
      case 'poweroff': case 'halted': return 'W00';
      case 'reset': return 'X0f'; // SIGTERM: the guest reset the CPU, the run ends
      default: return 'X06'; // SIGABRT: triple fault, invalid state
    }
  }

  /** Puts the breakpoints in the core; `skip` (the current EIP) is passed once. */
  private syncBreakpoints(skip?: number): void {
    this.machine.core.setHostBreakpoints?.([...this.breaks.keys()], skip);
  }

  /** The watchpoint whose bytes changed since the last look, if any. */
  private changedWatch(): Watch | undefined {
    for (const w of this.watches.values()) {
      const now = this.readMemory(w.addr, w.len, false);
      if (now.length !== w.last.length || now.some((b, i) => b !== w.last[i])) {
        w.last = now;
        return w;
      }
    }
    return undefined;
  }

  /**
   * Runs until a breakpoint, a watchpoint, the end of a step, Ctrl-C or the guest's end.
   * Breakpoints are the core's (it exits before the instruction at one, at full speed);
   * a step is one instruction (machine.run(1)); with watchpoints the machine runs one
   * instruction at a time and compares the watched bytes after each.
   */
  private async resume(step: boolean): Promise<void> {
    if (this.ended) { this.reply(this.stopReply(this.ended)); return; }
    this.interrupt = false;
    this.running = true;
    this.syncBreakpoints(this.linearEip());
    const single = step || this.watches.size > 0;
    let reply: string | undefined;
    for (let n = 0; reply === undefined; n++) {
      const stop = this.machine.run(single ? 1 : CHUNK);
      if (stop.kind === 'debug') {
        const kind = this.breaks.get(this.linearEip());
        reply = `T05${kind === 'sw' && this.swbreak ? 'swbreak' : 'hwbreak'}:;thread:01;`;
      } else if (stop.kind !== 'limit') {
        this.ended = stop;
        reply = this.stopReply(stop);
      } else {
        const w = single ? this.changedWatch() : undefined;
        if (w) reply = `T05watch:${w.addr.toString(16)};thread:01;`;
        else if (step) reply = 'T05thread:01;';
        else if (this.interrupt) reply = 'T02thread:01;';
        else if (!single || n % 20_000 === 0) {
          await new Promise((r) => setImmediate(r));
          if (this.interrupt) reply = 'T02thread:01;';
        }
      }
    }
    this.running = false;
    this.lastStop = reply;
    this.reply(reply);
    if (this.ended) this.events.onEnd?.(this.ended);
  }

  private reply(data: string): void { this.send(frame(data)); }

  /** Ctrl-C from GDB (a 0x03 byte outside a packet). */
  interruptRequest(): void { if (this.running) this.interrupt = true; }

  /**
   * One packet's data (no `$`, no checksum): the reply's data, or undefined when the reply
   * comes later (c, s: the stop reply) or none is due. Exposed for protocol tests.
   */
  handle(p: string): string | undefined {
    const core = this.machine.core;
    const c = p[0];
    if (p.startsWith('qSupported')) {
      this.swbreak = /swbreak\+/.test(p);
      return `PacketSize=${PACKET_SIZE.toString(16)};qXfer:features:read+;` +
        'QStartNoAckMode+;swbreak+;hwbreak+;vContSupported+';
    }
    if (p === 'QStartNoAckMode') return 'OK';
    if (p === 'Qqemu.PhyMemMode:1' || p === 'Qqemu.PhyMemMode:0') {
      this.physical = p.endsWith('1');
      return 'OK';
    }
    if (p === 'qqemu.PhyMemMode') return this.physical ? '1' : '0';
    if (p.startsWith('qXfer:features:read:target.xml:')) {
      const [off, len] = p.slice(31).split(',').map((x) => parseInt(x, 16));
      const chunk = TARGET_XML.slice(off, off + len);
      return (off + len >= TARGET_XML.length ? 'l' : 'm') + chunk;
    }
    if (p.startsWith('qXfer:')) return 'E00';
    if (p === '?') return this.lastStop;
    if (p === 'qAttached') return '1';
    if (p === 'qC') return 'QC01';
    if (p === 'qfThreadInfo') return 'm01';
    if (p === 'qsThreadInfo') return 'l';
    if (p.startsWith('qThreadExtraInfo')) return strHex('vCPU 0');
    if (p.startsWith('qSymbol')) return 'OK';
    if (p[0] === 'H' || (p[0] === 'T' && /^T0*1$/.test(p))) return 'OK';
    if (p === 'vCont?') return 'vCont;c;C;s;S';
    if (p.startsWith('vCont;')) {
      const action = p.slice(6).split(';')[0][0];
      if (action === 'c' || action === 'C') { void this.resume(false); return undefined; }
      if (action === 's' || action === 'S') { void this.resume(true); return undefined; }
      return 'E01';
    }
    if (c === 'c' || c === 's') {
      if (p.length > 1) core.setRegs({ eip: parseInt(p.slice(1), 16) >>> 0 });
      void this.resume(c === 's');
      return undefined;
    }
    if (p === 'g') {
      return REGISTERS.map((_, i) => this.readRegister(i)).join('');
    }
    if (c === 'G') {
      const h = p.slice(1);
      let at = 0;
      for (let i = 0; i < 10 && at + 8 <= h.length; i++, at += 8) {
        if (!this.writeRegister(i, h.slice(at, at + 8))) return 'E01';
      }
      return 'OK';
    }
    if (c === 'p') {
      const n = parseInt(p.slice(1), 16);
      return n < REGISTERS.length ? this.readRegister(n) : 'E00';
    }
    if (c === 'P') {
      const [n, v] = p.slice(1).split('=');
      return this.writeRegister(parseInt(n, 16), v) ? 'OK' : 'E01';
    }
    if (c === 'm') {
      const [a, l] = p.slice(1).split(',').map((x) => parseInt(x, 16));
      if (!Number.isFinite(a) || !Number.isFinite(l)) return 'E01';
      const bytes = this.readMemory(a, Math.min(l, PACKET_SIZE / 2));
      return bytes.length ? toHex(bytes) : 'E14'; // EFAULT
    }
    if (c === 'M') {
      const m = /^M([0-9a-fA-F]+),([0-9a-fA-F]+):([0-9a-fA-F]*)$/.exec(p);
      if (!m || m[3].length !== 2 * parseInt(m[2], 16)) return 'E01';
      return this.writeMemory(parseInt(m[1], 16), fromHex(m[3])) ? 'OK' : 'E14';
    }
    if (c === 'X') {
      const i = p.indexOf(':');
      const [a, l] = p.slice(1, i).split(',').map((x) => parseInt(x, 16));
      const data = Uint8Array.from(p.slice(i + 1), (ch) => ch.charCodeAt(0) & 0xff);
      if (data.length !== l) return 'E01';
      return l === 0 || this.writeMemory(a, data) ? 'OK' : 'E14';
    }
    if (c === 'Z' || c === 'z') {
      const [type, a, k] = p.slice(1).split(',');
      const addr = parseInt(a, 16) >>> 0, len = parseInt(k, 16);
      if (type === '0' || type === '1') {
        if (c === 'Z' && !this.breaks.has(addr) && this.breaks.size >= L.HOSTDBG_MAX) {
          return 'E28'; // ENOSPC: the core keeps 64
        }
        if (c === 'Z') this.breaks.set(addr, type === '0' ? 'sw' : 'hw');
        else this.breaks.delete(addr);
        this.syncBreakpoints();
        return 'OK';
      }
      if (type === '2') {
        if (!(len >= 1 && len <= 8)) return 'E01';
        if (c === 'Z') {
          this.watches.set(addr, { addr, len, last: this.readMemory(addr, len, false) });
        }
        else this.watches.delete(addr);
        return 'OK';
      }
      return ''; // read and access watchpoints: not supported
    }
    if (p === 'D' || p.startsWith('D;')) {
      this.breaks.clear();
      this.watches.clear();
      this.syncBreakpoints();
      setImmediate(() => this.events.onDetach?.());
      return 'OK';
    }
    if (p === 'k' || p.startsWith('vKill')) {
      setImmediate(() => this.events.onKill?.());
      return p === 'k' ? undefined : 'OK';
    }
    return '';
  }

  /** Feeds bytes from the connection: packets, acks and Ctrl-C. */
  private buffer = '';
  receive(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const b = this.buffer;
      if (!b.length) return;
      if (b[0] === '\x03') { this.buffer = b.slice(1); this.interruptRequest(); continue; }
      if (b[0] === '+' || b[0] === '-') { this.buffer = b.slice(1); continue; }
      if (b[0] !== '$') { this.buffer = b.slice(1); continue; }
      const end = b.indexOf('#');
      if (end < 0 || b.length < end + 3) return;
      const raw = b.slice(1, end);
      const sum = parseInt(b.slice(end + 1, end + 3), 16);
      this.buffer = b.slice(end + 3);
      if (!this.noAck) {
        if (checksum(raw) !== sum) { this.send('-'); continue; }
        this.send('+');
      }
      const data = raw.replace(/\}(.)/gs, (_, ch: string) =>
        String.fromCharCode(ch.charCodeAt(0) ^ 0x20));
      const r = this.handle(data);
      if (r !== undefined) this.reply(r);
      if (data === 'QStartNoAckMode') this.noAck = true;
    }
  }

  /** Serves one GDB connection at a time on `port` (0: any); resolves with the port. */
  async listen(port: number, host = '127.0.0.1'): Promise<{ server: Server; port: number }> {
    const server = createServer((sock: Socket) => {
      sock.setNoDelay(true);
      sock.setEncoding('latin1');
      this.noAck = false;
      this.send = (t) => { if (!sock.destroyed) sock.write(t, 'latin1'); };
      sock.on('data', (d: string) => this.receive(d));
      sock.on('error', () => {});
    });
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(port, host, () => ok());
    });
    return { server, port: (server.address() as AddressInfo).port };
  }

  /** For tests without a socket: where framed replies go. */
  set output(fn: (frameText: string) => void) { this.send = fn; }
}
