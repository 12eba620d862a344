/**
 * The GDB stub at the packet level, each expected reply from the GDB manual's description
 * of the remote protocol (appendix E): framing and checksums (E.1, with the example
 * exchange of E.10 "Examples": `$m4015bc,2#5a`, `$2f86#06`), acknowledgments, the empty
 * reply to an unknown packet, `S05` / `T05` stop replies and `W00` for an exit with status 0
 * (E.3), `E NN` errors, Ctrl-C answered with SIGINT (2). Memory bytes come from the ELF file.
 */
import { describe, it, expect, beforeEach } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../../bindings/machine/machine.js';
import { jeos } from '../../bindings/node.js';
import { GdbStub, checksum, frame } from '../../bindings/gdb/stub.js';

const elf = readFileSync(join(__dirname, '..', '..', 'guests/jeos/jeos.elf'));
/** The file bytes at virtual address `va` (ELF32 program headers, System V ABI). */
function elfBytes(va: number, n: number): Uint8Array {
  const dv = new DataView(elf.buffer, elf.byteOffset);
  const phoff = dv.getUint32(28, true), phentsize = dv.getUint16(42, true);
  for (let i = 0; i < dv.getUint16(44, true); i++) {
    const p = phoff + i * phentsize;
    if (dv.getUint32(p, true) !== 1) continue; // PT_LOAD
    const off = dv.getUint32(p + 4, true), vaddr = dv.getUint32(p + 8, true);
    const filesz = dv.getUint32(p + 16, true);
    if (va >= vaddr && va + n <= vaddr + filesz) return elf.subarray(off + va - vaddr, off + va - vaddr + n);
  }
  throw new Error('not in the file');
}
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** ide_read's address, from the ELF's symbol table as `nm` lists it. */
/** A symbol's value from the ELF's symbol table (System V ABI, "Symbol Table"). */
function symbol(name: string): number {
  const dv = new DataView(elf.buffer, elf.byteOffset);
  const shoff = dv.getUint32(32, true), shentsize = dv.getUint16(46, true);
  for (let i = 0; i < dv.getUint16(48, true); i++) {
    const sh = shoff + i * shentsize;
    if (dv.getUint32(sh + 4, true) !== 2) continue; // SHT_SYMTAB
    const off = dv.getUint32(sh + 16, true), size = dv.getUint32(sh + 20, true);
    const strs = shoff + dv.getUint32(sh + 24, true) * shentsize; // sh_link: its strtab
    const strOff = dv.getUint32(strs + 16, true);
    for (let s = off; s < off + size; s += 16) {
      const at = strOff + dv.getUint32(s, true);
      const end = elf.indexOf(0, at);
      if (elf.subarray(at, end).toString('latin1') === name) return dv.getUint32(s + 4, true);
    }
  }
  throw new Error(`no symbol ${name}`);
}
const IDE_READ = symbol('ide_read');

describe('framing (GDB manual E.1, E.10)', () => {
  it('checksums and frames as the manual\'s example exchange', () => {
    expect(frame('m4015bc,2')).toBe('$m4015bc,2#5a');
    expect(frame('2f86')).toBe('$2f86#06');
    expect(checksum('')).toBe(0);
    expect(frame('')).toBe('$#00');
    // '}' escapes '#', '$', '}' and '*' as the character XOR 0x20.
    expect(frame('a}b#')).toBe(`$a}]b}\x03#${checksum('a}]b}\x03').toString(16).padStart(2, '0')}`);
  });
});

describe('the stub answering packets', () => {
  let m: Machine;
  let stub: GdbStub;
  let sent: string[];
  const reply = async (): Promise<string> => {
    for (let i = 0; i < 2000; i++) {
      const f = sent.find((s) => s.startsWith('$'));
      if (f) { sent.splice(sent.indexOf(f), 1); return f.slice(1, f.lastIndexOf('#')); }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('no reply');
  };
  beforeEach(async () => {
    const { kernel, disk } = jeos();
    m = await Machine.create({ ramBytes: 64 << 20, kernel, disks: [disk] });
    stub = new GdbStub(m);
    sent = [];
    stub.output = (t) => sent.push(t);
  });

  it('acknowledges a good packet with + and a bad checksum with -', async () => {
    stub.receive('$?#3f');
    expect(sent[0]).toBe('+');
    expect(await reply()).toBe('S05');
    sent = [];
    stub.receive('$?#00');
    expect(sent).toEqual(['-']);
  });

  it('answers an unknown packet with an empty reply', () => {
    expect(stub.handle('qNoSuchThing')).toBe('');
    expect(stub.handle('vMustReplyEmpty')).toBe('');
  });

  it('offers its features and the i386 target description', () => {
    const q = stub.handle('qSupported:multiprocess+;swbreak+;hwbreak+')!;
    expect(q).toMatch(/PacketSize=[0-9a-f]+/);
    expect(q).toContain('qXfer:features:read+');
    let xml = '';
    for (let off = 0; ; off += 0x100) {
      const r = stub.handle(`qXfer:features:read:target.xml:${off.toString(16)},100`)!;
      xml += r.slice(1);
      if (r[0] === 'l') break;
      expect(r[0]).toBe('m');
    }
    expect(xml).toContain('<architecture>i386</architecture>');
    expect(xml).toContain('<feature name="org.gnu.gdb.i386.core">');
    const names = [...xml.matchAll(/<reg name="(\w+)"/g)].map((x) => x[1]);
    // gdb/features/i386/32bit-core.xml's order.
    expect(names.slice(0, 16)).toEqual(['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi',
      'eip', 'eflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs']);
    expect(names.slice(16)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `st${i}`)
      .concat(['fctrl', 'fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop']));
  });

  it('reads registers in that order, little-endian, the x87 ones unavailable', () => {
    const g = stub.handle('g')!;
    const r = m.core.getRegs();
    const le = (v: number) => hex(Uint8Array.of(v, v >>> 8, v >>> 16, v >>> 24));
    expect(g.slice(0, 8)).toBe(le(r.eax));
    expect(g.slice(64, 72)).toBe(le(0x100010)); // EIP: the ELF's entry point
    expect(stub.handle('p8')).toBe(le(0x100010));
    expect(g.slice(80, 88)).toBe(le(m.core.getSegment('cs').selector));
    expect(g.length).toBe(2 * (16 * 4 + 8 * 10 + 8 * 4));
    expect(g.slice(128, 148)).toBe('x'.repeat(20));
    expect(stub.handle('P0=78563412')).toBe('OK');
    expect(m.core.getRegs().eax).toBe(0x12345678);
  });

  it('reads and writes memory; a bad address is E NN', () => {
    expect(stub.handle(`m${IDE_READ.toString(16)},6`)).toBe(hex(elfBytes(IDE_READ, 6)));
    expect(stub.handle('mf0000000,4')).toMatch(/^E[0-9a-f]{2}$/);
    expect(stub.handle('M200000,4:deadbeef')).toBe('OK');
    expect(stub.handle('m200000,4')).toBe('deadbeef');
    expect(stub.handle('Mf0000000,1:00')).toMatch(/^E[0-9a-f]{2}$/);
    // X carries binary data: two bytes 'a' 'b'; a length that disagrees is refused.
    expect(stub.handle('X200004,2:ab')).toBe('OK');
    expect(stub.handle('m200004,2')).toBe('6162');
    expect(stub.handle('X200004,3:ab')).toBe('E01');
  });

  it('stops at a breakpoint before the instruction, steps one, runs to W00', async () => {
    stub.handle('qSupported:swbreak+');
    expect(stub.handle(`Z0,${IDE_READ.toString(16)},1`)).toBe('OK');
    expect(stub.handle('c')).toBeUndefined();
    expect(await reply()).toBe('T05swbreak:;thread:01;');
    expect(m.core.getRegs().eip).toBe(IDE_READ);
    const before = m.core.instructions();
    stub.handle('s');
    expect(await reply()).toBe('T05thread:01;');
    expect(m.core.instructions()).toBe(before + 1);
    expect(m.core.getRegs().eip).toBe(IDE_READ + 1); // push ebp: one byte
    expect(stub.handle(`z0,${IDE_READ.toString(16)},1`)).toBe('OK');
    stub.handle('vCont;c');
    // JeOS powers off when every check passed: exit status 0.
    expect(await reply()).toBe('W00');
  }, 60_000);

  it('a hardware breakpoint, and Ctrl-C answered with SIGINT', async () => {
    expect(stub.handle(`Z1,${IDE_READ.toString(16)},1`)).toBe('OK');
    stub.handle('c');
    expect(await reply()).toBe('T05hwbreak:;thread:01;');
    stub.handle(`z1,${IDE_READ.toString(16)},1`);
    stub.handle('c');
    stub.receive('\x03');
    expect(await reply()).toBe('T02thread:01;');
    expect(stub.handle('?')).toBe('T02thread:01;');
  }, 60_000);

  it('a write watchpoint reports the address after the write', async () => {
    const pid = symbol('next_pid');
    expect(stub.handle(`Z2,${pid.toString(16)},4`)).toBe('OK');
    const old = stub.handle(`m${pid.toString(16)},4`)!;
    stub.handle('c');
    expect(await reply()).toBe(`T05watch:${pid.toString(16)};thread:01;`);
    expect(stub.handle(`m${pid.toString(16)},4`)).not.toBe(old);
    expect(stub.handle('Z3,10f004,4')).toBe(''); // read watchpoints: not supported
  }, 60_000);

  it('physical memory as QEMU offers it (maintenance packet Qqemu.PhyMemMode:1)', async () => {
    // Paging on: stop at ide_read, long after JeOS enabled it (identity-mapped kernel).
    stub.handle(`Z1,${IDE_READ.toString(16)},1`);
    stub.handle('c');
    await reply();
    expect(m.core.getRegs().cr0 >>> 31).toBe(1);
    expect(stub.handle('qqemu.PhyMemMode')).toBe('0');
    expect(stub.handle('Qqemu.PhyMemMode:1')).toBe('OK');
    expect(stub.handle('qqemu.PhyMemMode')).toBe('1');
    expect(stub.handle(`m${IDE_READ.toString(16)},6`)).toBe(hex(elfBytes(IDE_READ, 6)));
    expect(stub.handle('M300000,2:1234')).toBe('OK');
    expect(hex(m.core.readPhys(0x300000, 2))).toBe('1234');
    expect(stub.handle(`m${(64 << 20).toString(16)},4`)).toMatch(/^E[0-9a-f]{2}$/);
    expect(stub.handle('Qqemu.PhyMemMode:0')).toBe('OK');
  }, 60_000);

  it('one thread, the vCPU', () => {
    expect(stub.handle('qfThreadInfo')).toBe('m01');
    expect(stub.handle('qsThreadInfo')).toBe('l');
    expect(stub.handle('qC')).toBe('QC01');
    expect(stub.handle('Hg1')).toBe('OK');
    expect(stub.handle('T01')).toBe('OK');
  });
});
