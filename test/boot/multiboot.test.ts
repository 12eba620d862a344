/**
 * The Multiboot loader's plan against v86's own Multiboot loader (npm v86, a loader
 * nobody here wrote): the same bytes at the same physical addresses and the same entry
 * point, for an a.out-kludge image (nasm), an ELF image built by gcc/ld, and a higher-half
 * ELF whose entry point is virtual. The boot information is read back with the offsets of
 * the Multiboot 0.6.96 spec (3.3); QEMU's layout of it is checked end to end by the
 * mbinfo guest (test/system). A kernel linked at 0x8000 boots as under QEMU. Bad images give
 * errors that say what is wrong.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MultibootError, planMultiboot, type MultibootPlan } from '../../bindings/boot/multiboot.js';
import { v86MultibootState } from '../../bindings/testing/v86.js';
import { Machine } from '../../bindings/machine/machine.js';
import { hasQemu } from '../devices/qemu-probe.js';

const guest = (p: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../guests/systests/${p}`, import.meta.url)));
const RAM = 128 << 20;

/** Every image byte the plan writes (not the boot information, laid out differently by v86). */
function kernelWrites(plan: MultibootPlan) {
  return plan.writes.filter((w) => w.what.startsWith('ELF segment') || w.what.startsWith('a.out'));
}

async function expectSameAsV86(image: Uint8Array): Promise<MultibootPlan> {
  const plan = planMultiboot(image, { ramBytes: RAM });
  const ref = await v86MultibootState(image, RAM);
  expect(plan.entry).toBe(ref.eip);
  expect(plan.regs.eax).toBe(ref.eax);
  // v86 loads CS=0x08 and the data segments with 0x10, as QEMU's option ROM does.
  expect(plan.segments.cs!.selector).toBe(ref.selectors[1]);
  expect(plan.segments.ds!.selector).toBe(ref.selectors[3]);
  const writes = kernelWrites(plan);
  expect(writes.length).toBeGreaterThan(0);
  for (const w of writes) expect(Buffer.from(ref.readPhys(w.addr, w.data.length)).equals(Buffer.from(w.data))).toBe(true);
  return plan;
}

describe('multiboot loader against v86', () => {
  it('loads an a.out-kludge image where v86 does', async () => {
    const plan = await expectSameAsV86(guest('hello.bin'));
    expect(plan.format).toBe('aout-kludge');
  });
  it('loads a gcc/ld ELF image (with .bss) where v86 does', async () => {
    const plan = await expectSameAsV86(guest('elf/elfkernel.elf'));
    expect(plan.format).toBe('elf');
    expect(plan.writes.some((w) => w.what.endsWith('bss') && w.data.every((b) => b === 0))).toBe(true);
  });
  it('starts a higher-half ELF at the physical alias of its virtual entry point, as v86 does', async () => {
    const image = guest('elf/higherhalf.elf');
    const eEntry = new DataView(image.buffer, image.byteOffset).getUint32(24, true);
    expect(eEntry >>> 0).toBeGreaterThanOrEqual(0xc0000000);
    const plan = await expectSameAsV86(image);
    expect(plan.entry).toBeLessThan(0x200000);
  });
});

describe('multiboot boot information (spec 3.3 offsets)', () => {
  const plan = planMultiboot(guest('hello.bin'), { ramBytes: RAM, cmdline: 'console=ttyS0 quiet', modules: [{ data: new Uint8Array([1, 2, 3, 4, 5]), string: 'mod0 arg' }] });
  const mem = new Uint8Array(RAM);
  for (const w of plan.writes) mem.set(w.data, w.addr);
  const dv = new DataView(mem.buffer);
  const u32 = (a: number) => dv.getUint32(a, true);
  const cstr = (a: number) => new TextDecoder().decode(mem.subarray(a, mem.indexOf(0, a)));
  const info = plan.regs.ebx!;

  it('passes EAX = 0x2BADB002 and EBX = the information structure', () => {
    expect(plan.regs.eax).toBe(0x2badb002);
    expect(u32(info) & 0x24f).toBe(0x24f); // mem, boot_device, cmdline, mods, mmap, loader name
  });
  it('gives mem_lower/mem_upper in KiB consistent with the memory map', () => {
    expect(u32(info + 4)).toBe(639);
    expect(u32(info + 8) * 1024).toBe(RAM - 0x100000);
    const entries: { base: bigint; len: bigint; type: number }[] = [];
    for (let p = u32(info + 48); p < u32(info + 48) + u32(info + 44); p += u32(p) + 4) {
      entries.push({ base: dv.getBigUint64(p + 4, true), len: dv.getBigUint64(p + 12, true), type: u32(p + 20) });
    }
    const high = entries.find((e) => e.base === 0x100000n)!;
    expect(high.type).toBe(1);
    expect(Number(high.len) / 1024).toBe(u32(info + 8));
    expect(entries[0]).toEqual({ base: 0n, len: BigInt(u32(info + 4) * 1024), type: 1 });
  });
  it('passes the command line, the loader name and the modules', () => {
    expect(cstr(u32(info + 16))).toBe('console=ttyS0 quiet');
    expect(cstr(u32(info + 64))).toBe('wasmvisor');
    expect(u32(info + 20)).toBe(1);
    const mod = u32(info + 24);
    const start = u32(mod);
    expect(start % 4096).toBe(0);
    expect(u32(mod + 4) - start).toBe(5);
    expect(Array.from(mem.subarray(start, start + 5))).toEqual([1, 2, 3, 4, 5]);
    expect(cstr(u32(mod + 8))).toBe('mod0 arg');
    expect(start).toBeGreaterThanOrEqual(plan.kernelEnd);
  });
  it('starts in flat 32-bit protected mode with paging and interrupts off', () => {
    expect(plan.regs.cr0! & 1).toBe(1);
    expect(plan.regs.cr0! & 0x80000000).toBe(0);
    expect(plan.regs.eflags! & 0x200).toBe(0);
    expect(plan.regs.eflags! & 0x20000).toBe(0);
    for (const s of ['cs', 'ds', 'es', 'fs', 'gs', 'ss'] as const) {
      expect(plan.segments[s]!.base).toBe(0);
      expect(plan.segments[s]!.limit >>> 0).toBe(0xffffffff);
    }
    // the GDT written at GDTR holds the descriptors the selectors name
    const gdt = plan.gdtr.base;
    expect(mem[gdt + plan.segments.cs!.selector + 5] & 0x9a).toBe(0x9a);
    expect(mem[gdt + plan.segments.ds!.selector + 5] & 0x92).toBe(0x92);
  });
});

/** No two writes of a plan share a byte. */
function expectNoOverlap(plan: MultibootPlan): void {
  const ws = [...plan.writes].sort((a, b) => a.addr - b.addr);
  for (let i = 1; i < ws.length; i++) {
    const prev = ws[i - 1];
    expect(ws[i].addr, `${prev.what} runs into ${ws[i].what}`).toBeGreaterThanOrEqual(prev.addr + prev.data.length);
  }
}

/** COM1 output of a kernel under QEMU's -kernel (as guests/systests/run-qemu.sh runs it). */
function qemuKernel(path: string): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wv-mb-'));
  try {
    const r = spawnSync('qemu-system-i386', ['-accel', 'tcg', '-display', 'none',
      '-serial', `file:${join(dir, 'com1')}`, '-nic', 'none', '-no-reboot', '-m', '128',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-kernel', path], { timeout: 30_000 });
    return { status: r.status, out: readFileSync(join(dir, 'com1'), 'latin1') };
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

describe('a kernel linked at 0x8000, over the low boot information area', () => {
  const path = fileURLToPath(new URL('guests/low8000.bin', import.meta.url));
  const image = new Uint8Array(readFileSync(path));
  it('is loaded with its boot information after it, nothing overlapping', () => {
    const plan = planMultiboot(image, { ramBytes: RAM, cmdline: 'x' });
    expect(kernelWrites(plan)[0].addr).toBe(0x8000);
    expect(plan.kernelEnd).toBeGreaterThan(0xa000);
    expectNoOverlap(plan);
    expect(plan.infoAddr).toBeGreaterThanOrEqual(plan.kernelEnd);
    expect(plan.gdtr.base).toBeGreaterThanOrEqual(plan.kernelEnd);
  });
  it.skipIf(!hasQemu)('prints what it prints under QEMU -kernel, and exits the same', async () => {
    const q = qemuKernel(path);
    expect(q.out).toContain('code at 0x9400 ran');
    const out: number[] = [];
    const m = await Machine.create({ ramBytes: RAM, kernel: image, serialOut: (b) => out.push(b) });
    const stop = m.run(10_000_000);
    expect(Buffer.from(out).toString('latin1')).toBe(q.out);
    expect(stop).toEqual({ kind: 'exit', status: q.status });
  });
});

describe('multiboot loader errors', () => {
  const hello = guest('hello.bin');
  const err = (image: Uint8Array, ramBytes = RAM) => {
    try {
      planMultiboot(image, { ramBytes });
    } catch (e) {
      expect(e).toBeInstanceOf(MultibootError);
      return (e as Error).message;
    }
    throw new Error('no error');
  };
  it('says when there is no header', () => {
    expect(err(new Uint8Array(10000))).toMatch(/no multiboot header .* first 8192 bytes/);
  });
  it('says when the checksum is wrong', () => {
    const bad = hello.slice();
    bad[8] ^= 1;
    expect(err(bad)).toMatch(/offset 0x0 has a bad checksum/);
  });
  it('says when the image does not fit in RAM', () => {
    expect(err(guest('elf/elfkernel.elf'), 2 << 20)).toMatch(/ELF segment 0 \[0x200000, 0x2021d0\) lies outside guest RAM \(0x200000 bytes\)/);
    const big = hello.slice();
    new DataView(big.buffer).setUint32(24, 0x10000000, true); // bss_end_addr far beyond RAM
    expect(err(big)).toMatch(/outside guest RAM/);
  });
  it('moves the boot information after the strings when modules of a low kernel cover 0x9000', () => {
    const low = hello.slice();
    const dv = new DataView(low.buffer);
    const fileLength = dv.getUint32(20, true) - dv.getUint32(16, true);
    dv.setUint32(12, 0x1000, true); // header_addr (the header is the file's first bytes)
    dv.setUint32(16, 0x1000, true); // load_addr
    dv.setUint32(20, 0x1000 + fileLength, true); // load_end_addr
    dv.setUint32(24, 0, true); // bss_end_addr: none
    dv.setUint32(28, 0x1000 + (dv.getUint32(28, true) - 0x100000), true); // entry_addr
    expect(planMultiboot(low, { ramBytes: RAM }).infoAddr).toBe(0x9500); // QEMU's place, free
    const plan = planMultiboot(low, { ramBytes: RAM, modules: [{ data: new Uint8Array(0x20000) }] });
    expectNoOverlap(plan);
    const mod = plan.writes.find((w) => w.what === 'module 0')!;
    expect(plan.infoAddr).toBeGreaterThan(plan.kernelEnd);
    expect(plan.infoAddr + 88).toBeLessThanOrEqual(mod.addr);
  });
  it('still refuses modules that would run into the legacy area below 1 MiB', () => {
    const low = hello.slice();
    const dv = new DataView(low.buffer);
    const fileLength = dv.getUint32(20, true) - dv.getUint32(16, true);
    dv.setUint32(12, 0x1000, true); dv.setUint32(16, 0x1000, true);
    dv.setUint32(20, 0x1000 + fileLength, true); dv.setUint32(24, 0, true);
    dv.setUint32(28, 0x1000 + (dv.getUint32(28, true) - 0x100000), true);
    expect(() => planMultiboot(low, { ramBytes: RAM, modules: [{ data: new Uint8Array(0xa0000) }] })).toThrow(
      /module 0 \[0x3000, 0xa3000\) would overlap the legacy area \[0x9fc00, 0x100000\)/,
    );
  });
  it('refuses required features it does not know', () => {
    const bad = hello.slice();
    const dv = new DataView(bad.buffer);
    const flags = dv.getUint32(4, true) | 0x8;
    dv.setUint32(4, flags, true);
    dv.setUint32(8, (-(0x1badb002 + flags)) >>> 0, true);
    expect(err(bad)).toMatch(/unsupported features \(flags bits 0x8\)/);
  });
  it('says when an ELF image is 64-bit', () => {
    const elf = guest('elf/elfkernel.elf').slice();
    elf[4] = 2;
    expect(err(elf)).toMatch(/ELFCLASS32/);
  });
  it('says when a segment lies outside the file', () => {
    const elf = guest('elf/elfkernel.elf').slice();
    const dv = new DataView(elf.buffer);
    const ph = dv.getUint32(28, true);
    dv.setUint32(ph + 16, 0x100000, true); // p_filesz
    dv.setUint32(ph + 20, 0x100000, true); // p_memsz
    expect(err(elf)).toMatch(/ELF segment 0: file range .* outside the file/);
  });
});
