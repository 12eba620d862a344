/**
 * The debugging aids of `wasmvisor run` against QEMU running the same firmware image
 * (guests/trace.asm, from the reset vector with no BIOS):
 * - --trace: QEMU with one instruction per translation block and no chaining
 *   (`-singlestep -d exec,cpu,nochain`) logs the CPU state before every instruction; the
 *   sequence of CS:EIP and the registers must be the same line for line, through a
 *   software interrupt, a fault and an external interrupt (the handler's first
 *   instruction is the next line).
 *   Each line's instruction bytes are the ones QEMU's `-d in_asm` shows at that address.
 * - --io-log: QEMU's memory_region_ops_read/write trace events list every port access.
 * - --stats: the POST codes are the writes to ports 0x80 and 0x190 in that list.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliInProcess } from '../helpers/cli.js';
import { hasTool } from '../helpers/tools.js';

const skip = !hasTool('qemu-system-i386') || !hasTool('nasm');

let dir: string;
let rom: string;
/** QEMU's CPU state before each instruction. */
let qemuSteps: Step[];
/** The bytes QEMU's `-d in_asm` shows for each instruction address it translated. */
let qemuBytes: Map<number, string>;
/** QEMU's port accesses in --io-log's format. */
let qemuIo: string[];

interface Step { cs: number; eip: number; regs: Record<string, number> }

/** The registers compared: all but EDX, whose reset value is the processor signature
 *  (SDM vol. 3A, 9.1.4), which differs between QEMU's CPU model and ours. */
const REGS = ['EAX', 'ECX', 'EBX', 'ESP', 'EBP', 'ESI', 'EDI', 'EFL'];

/** A register as both logs print it: EAX=0000abcd. */
const REG = /\b(E[A-Z]{1,2})=([0-9a-f]{8})\b/g;

function parseQemuCpu(log: string): Step[] {
  const steps: Step[] = [];
  for (const block of log.split(/^Trace /m).slice(1)) {
    const regs: Record<string, number> = {};
    for (const m of block.matchAll(REG)) regs[m[1]] = parseInt(m[2], 16);
    const cs = /^CS =([0-9a-f]{4}) /m.exec(block);
    steps.push({ cs: parseInt(cs![1], 16), eip: regs.EIP, regs });
  }
  return steps;
}

function parseOurTrace(text: string): Step[] {
  return text.trim().split('\n').map((line) => {
    const at = /^\d+ ([0-9a-f]{4}):([0-9a-f]{8}) \(([0-9a-f]{8})\)/.exec(line)!;
    const regs: Record<string, number> = {};
    for (const m of line.matchAll(REG)) regs[m[1]] = parseInt(m[2], 16);
    return { cs: parseInt(at[1], 16), eip: parseInt(at[2], 16), regs };
  });
}

const view = (s: Step) => [s.cs.toString(16), s.eip.toString(16),
  ...REGS.map((r) => `${r}=${s.regs[r]?.toString(16)}`)].join(' ');

beforeAll(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'wv-trace-'));
  rom = join(dir, 'trace.bin');
  const source = join(__dirname, 'guests/trace.asm');
  const asm = spawnSync('nasm', ['-f', 'bin', '-o', rom, source], { encoding: 'utf8' });
  expect(asm.status, asm.stderr).toBe(0);
  const qemu = (extra: string[], log: string) => {
    // No local APIC, as on this machine: QEMU's APIC keeps LINT0 masked until firmware
    // programs it, and no firmware runs before this guest (it takes IRQ1 from the 8259A).
    const r = spawnSync('qemu-system-i386', ['-display', 'none', '-nodefaults', '-no-reboot',
      '-cpu', 'qemu32,-apic', '-bios', rom,
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-D', join(dir, log), ...extra],
    { timeout: 60_000 });
    expect(r.status).toBe(1); // the guest wrote 0 to isa-debug-exit
    return readFileSync(join(dir, log), 'utf8');
  };
  qemuSteps = parseQemuCpu(qemu(['-singlestep', '-d', 'exec,cpu,nochain'], 'cpu.log'));
  // With -singlestep each TB is one instruction; QEMU logs it once, when it translates it:
  //   0x000f0001:  31 c0                    xorw     %ax, %ax
  qemuBytes = new Map();
  const asmLog = qemu(['-singlestep', '-d', 'in_asm,nochain'], 'asm.log');
  for (const m of asmLog.matchAll(/^0x([0-9a-f]{8}):  ((?:[0-9a-f]{2} )+)/gm)) {
    qemuBytes.set(parseInt(m[1], 16), m[2].trim());
  }
  qemuIo = [];
  const access = new RegExp(/^memory_region_ops_(read|write) cpu \d+ mr \S+ /.source
    + /addr 0x([0-9a-f]+) value 0x([0-9a-f]+) size (\d)/.source, 'gm');
  for (const m of qemu(['-trace', 'memory_region_ops_*'], 'io.log').matchAll(access)) {
    const size = Number(m[4]);
    const value = BigInt('0x' + m[3]) & ((1n << BigInt(8 * size)) - 1n);
    qemuIo.push(`${m[1] === 'read' ? 'in' : 'out'} 0x${m[2].padStart(4, '0')} ${'?bw?l'[size]} `
      + `0x${value.toString(16).padStart(2 * size, '0')}`);
  }
});
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe.skipIf(skip)('run --trace, --io-log and the POST codes, as QEMU', () => {
  it('--trace logs every instruction with the state QEMU logs before it', async () => {
    const trace = join(dir, 'trace.txt');
    const r = await runCliInProcess(['run', '--bios', rom, '--trace', trace]);
    expect(r.status).toBe(1);
    const ours = parseOurTrace(readFileSync(trace, 'utf8'));
    // Real mode, a call loop, INT 0x30, a #DE, IRQ1 and their handlers, protected mode.
    expect(qemuSteps.length).toBeGreaterThan(80);
    expect(ours.map(view)).toEqual(qemuSteps.map(view));
  });

  it('--trace shows each instruction\'s bytes as QEMU\'s -d in_asm does', async () => {
    const trace = join(dir, 'bytes.txt');
    const r = await runCliInProcess(['run', '--bios', rom, '--trace', trace]);
    expect(r.status).toBe(1);
    const lines = readFileSync(trace, 'utf8').trim().split('\n');
    expect(qemuBytes.size).toBeGreaterThan(60);
    const ours = lines.map((line) => {
      const m = /^\d+ \S+ \(([0-9a-f]{8})\) .* EFL=[0-9a-f]{8} \| ((?:[0-9a-f]{2} ?)+)$/
        .exec(line);
      expect(m, line).not.toBeNull();
      return `${m![1]} ${m![2]}`;
    });
    const theirs = lines.map((line) => {
      const at = /\(([0-9a-f]{8})\)/.exec(line)![1];
      return `${at} ${qemuBytes.get(parseInt(at, 16))}`;
    });
    expect(ours).toEqual(theirs);
    // Every address QEMU translated is one we traced, and the other way round.
    expect(new Set(ours.map((l) => parseInt(l.split(' ')[0], 16))))
      .toEqual(new Set(qemuBytes.keys()));
  });

  it('--trace-limit keeps the first N lines and the run goes on to its end', async () => {
    const trace = join(dir, 'limited.txt');
    const r = await runCliInProcess(['run', '--bios', rom, '--trace', trace,
      '--trace-limit', '10']);
    expect(r.status).toBe(1);
    const ours = parseOurTrace(readFileSync(trace, 'utf8'));
    expect(ours.map(view)).toEqual(qemuSteps.slice(0, 10).map(view));
  });

  it('--io-log lists the port accesses QEMU performs, in order, with their values', async () => {
    const log = join(dir, 'io.txt');
    const r = await runCliInProcess(['run', '--bios', rom, '--io-log', log]);
    expect(r.status).toBe(1);
    expect(qemuIo.length).toBeGreaterThan(3);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(qemuIo);
  });

  it('--stats lists the POST codes written to ports 0x80 and 0x190, in order', async () => {
    const stats = join(dir, 'stats.json');
    const r = await runCliInProcess(['run', '--bios', rom, '--stats', stats]);
    expect(r.status).toBe(1);
    const s = JSON.parse(readFileSync(stats, 'utf8'));
    const want = qemuIo.filter((l) => /^out 0x0(080|190) b/.test(l))
      .map((l) => ({ port: parseInt(l.split(' ')[1], 16), code: parseInt(l.split(' ')[3], 16) }));
    expect(want.map((p) => p.port)).toEqual(expect.arrayContaining([0x80, 0x190]));
    expect(s.postCodes).toEqual(want);
    expect(s.postCodesDropped).toBe(0);
  });

  it('answers an unwritable --trace or --io-log, a bad --trace-limit with status 2', async () => {
    const nowhere = join(dir, 'no/such/dir/t.txt');
    let r = await runCliInProcess(['run', '--bios', rom, '--trace', nowhere]);
    expect(r.status).toBe(2);
    expect(r.err).toContain(`cannot write --trace ${nowhere}: ENOENT`);
    r = await runCliInProcess(['run', '--bios', rom, '--io-log', nowhere]);
    expect(r.status).toBe(2);
    expect(r.err).toContain(`cannot write --io-log ${nowhere}: ENOENT`);
    r = await runCliInProcess(['run', '--bios', rom, '--trace', join(dir, 't.txt'),
      '--trace-limit', 'many']);
    expect(r.status).toBe(2);
    expect(r.err).toContain('--trace-limit many: not a whole number');
  });
});

describe.skipIf(skip)('the machine\'s onInstruction hook', () => {
  it('set again after it removed itself, reports from the next instruction on', async () => {
    const { Machine } = await import('../../bindings/machine/machine.js');
    const firmware = new Uint8Array(readFileSync(rom));
    type M = InstanceType<typeof Machine>;
    const linear = (m: M) => m.core.getSegment('cs').base + m.core.getRegs().eip;
    const whole = await Machine.create({ ramBytes: 4 << 20, firmware });
    const all: number[] = [];
    whole.onInstruction = () => all.push(linear(whole));
    expect(whole.run(10_000)).toEqual({ kind: 'exit', status: 1 });
    // Cut at the first OUT (E6 ib, real mode at F000:xxxx): it exits to the host mid-way.
    const isOut = (a: number) => a >= 0xf0000 && a < 0x100000 && firmware[a - 0xf0000] === 0xe6;
    const n = all.findIndex(isOut) + 1;
    expect(n).toBeGreaterThan(1);
    const m = await Machine.create({ ramBytes: 4 << 20, firmware });
    const parts: number[] = [];
    m.onInstruction = () => {
      parts.push(linear(m));
      if (parts.length === n) m.onInstruction = undefined;
    };
    expect(m.run(n).kind).toBe('limit');
    m.onInstruction = () => parts.push(linear(m));
    expect(m.run(10_000)).toEqual({ kind: 'exit', status: 1 });
    expect(parts).toEqual(all);
  });
});

describe('POST codes beyond what the stats keep', () => {
  it('keeps the last 256 in order and counts the ones dropped', async () => {
    const { Machine } = await import('../../bindings/machine/machine.js');
    // out 0x80, al; inc al; loop; then HLT with IF=0 (the run ends): 300 codes 0..299 & 0xff.
    const rom = new Uint8Array(0x10000).fill(0xf4);
    rom.set([0xfa, 0x31, 0xc0, 0xb9, 0x2c, 0x01, 0xe6, 0x80, 0xfe, 0xc0, 0xe2, 0xfa, 0xf4], 0);
    rom.set([0xea, 0x00, 0x00, 0x00, 0xf0], 0xfff0); // jmp f000:0000
    const m = await Machine.create({ ramBytes: 4 << 20, firmware: rom });
    expect(m.run(100_000).kind).toBe('halted');
    const s = m.stats();
    expect(s.postCodesDropped).toBe(300 - 256);
    const last256 = Array.from({ length: 256 }, (_, i) => (i + 44) & 0xff);
    expect(s.postCodes.map((p) => p.code)).toEqual(last256);
    expect(s.postCodes.every((p) => p.port === 0x80)).toBe(true);
  });
});
