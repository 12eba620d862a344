/**
 * guests/pv/pvtest.elf under `mode: 'pv'`: a 32-bit PV kernel written to Xen's public
 * headers runs in ring 1 and prints one line per observation. The expected values are
 * Xen's (blkif.h: BLKIF_RSP_OKAY 0, BLKIF_RSP_ERROR -1, the id echoed), from its public headers and the SDM: the start_info magic "xen-3.0-x86_32"
 * (xen.h), error codes as errno.h numbers them (-EINVAL = 0xffffffea, -EPERM = 0xffffffff,
 * -EEXIST = 0xffffffef, -ENOSYS = 0xffffffda), a write to an unmapped page has error code 2
 * (SDM vol. 3A, 4.7: W/R set, P clear, U/S clear from ring 1) and CR2 = the address,
 * int 0x80 reaches the ring-1 handler with CS = FLAT_RING1_CS 0xe019 (xen-x86_32.h)
 * and CLI in ring 3 is a #GP from CS 0xe02b (FLAT_RING3_CS); CPUID 0x40000000 behind
 * Xen's forced emulation prefix answers "XenVMMXenVMM" (arch-x86/cpuid.h).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Machine } from '../../bindings/machine/machine.js';
import { buildPvDomain, readPvElf, PvKernelError } from '../../bindings/vmm/pv/builder.js';
import { createCore } from '../../bindings/core/index.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasTool } from '../helpers/tools.js';

const KERNEL = readFileSync(new URL('../../guests/pv/pvtest.elf', import.meta.url));
const PVDISK = readFileSync(new URL('../../guests/pv/pvdisk.elf', import.meta.url));
const JEOS = readFileSync(new URL('../../guests/jeos/jeos.elf', import.meta.url));

/** The ELF with every SHT_NOTE section header retyped SHT_PROGBITS (ELF32: e_shoff at 32,
 *  e_shentsize at 46, e_shnum at 48, sh_type at 4 in each header): a multiboot-only
 *  kernel, as JeOS was before it carried Xen's notes. */
function withoutNotes(elf: Uint8Array): Uint8Array {
  const out = new Uint8Array(elf);
  const dv = new DataView(out.buffer);
  const shoff = dv.getUint32(32, true), size = dv.getUint16(46, true);
  for (let i = 0; i < dv.getUint16(48, true); i++) {
    if (dv.getUint32(shoff + i * size + 4, true) === 7) dv.setUint32(shoff + i * size + 4, 1, true);
  }
  return out;
}

const EXPECTED = `xen-3.0-x86_32 start
cpuid 0x40000000 signature=XenVMMXenVMM
cpuid 0x40000001 version=00030000
setup ok
shared_info mapped rc=00000000
page directory writable rc=ffffffea
vmm frame mapped rc=ffffffff
trap into vmm region rc=ffffffff
callback into vmm region rc=ffffffff
page fault cr2=a0000000
page fault error code=00000002
after page fault
pin writable page rc=ffffffea
pin read-only page rc=00000000
unpin rc=00000000
mc one
mc two
multicall rc=00000000
multicall third result=ffffffda
mmu_update pde user rc=00000000
int 0x80 from ring 3 eax=00001234
int 0x80 handler cs=0000e019
gp from ring 3 cs=0000e02b
back in ring 1
virq timer port=00000001
bind again rc=ffffffef
timer upcalls=00000003
blkfront bind rc=00000000
blkfront write id=00000077
blkfront write status=00000000
blkfront read status=00000000
blkfront read data=b10c007f
blkfront ungranted status=ffffffff
blkfront rsp_prod=00000003
console_io bad command rc=ffffffda
pv done
`;

/** A disk in memory, for blkback. */
function memoryDisk(bytes: Uint8Array) {
  return {
    size: bytes.length, readOnly: false,
    read: (o: number, d: Uint8Array) => d.set(bytes.subarray(o, o + d.length)),
    write: (o: number, src: Uint8Array) => bytes.set(src, o), flush() {}, close() {},
  };
}

async function run(ramBytes = 32 << 20) {
  let out = '';
  const disk = new Uint8Array(64 << 10);
  const m = await Machine.create({ ramBytes, mode: 'pv', kernel: KERNEL,
    disks: [memoryDisk(disk)], serialOut: (b) => { out += String.fromCharCode(b); } });
  const stop = m.run(50_000_000);
  return { out, stop, stats: m.stats(), disk };
}

describe('a PV guest under mode pv', () => {
  it('prints what Xen\'s interface says, and powers off with SCHEDOP_shutdown', async () => {
    const { out, stop } = await run();
    expect(out).toBe(EXPECTED);
    expect(stop).toEqual({ kind: 'poweroff' });
  });

  it('counts hypercalls by Xen name, bounced traps, timer events and upcalls', async () => {
    const { stats } = await run();
    const pv = stats.vmm?.pv;
    expect(stats.mode).toBe('pv');
    expect(pv).toBeDefined();
    expect(pv!.hypercalls.console_io).toBeGreaterThan(20);
    expect(pv!.hypercalls.multicall).toBe(1);
    expect(pv!.hypercalls.set_trap_table).toBe(2);
    // int 0x80 went straight to ring 1 through its own gate: never through the VMM.
    expect(pv!.traps['128']).toBeUndefined();
    expect(pv!.traps['14']).toBe(1);
    expect(pv!.traps['13']).toBe(1);
    expect(pv!.upcalls).toBe(3);
    expect(pv!.timerEvents).toBeGreaterThanOrEqual(3);
    expect(pv!.errors.EPERM).toBe(3);
    expect(pv!.mmuext.pin_l1_table).toBe(1);
  });

  it('blkback: the write reached the disk image through the granted buffer', async () => {
    const { disk, stats } = await run();
    const dv = new DataView(disk.buffer, 2 * 512, 512);
    expect(dv.getUint32(0, true)).toBe(0xb10c0000);
    expect(dv.getUint32(508, true)).toBe(0xb10c007f);
    expect(disk.subarray(0, 1024).every((b) => b === 0)).toBe(true);
    const pv = stats.vmm!.pv!;
    expect(pv.ringRequests).toBe(3); // the lying producer index stopped the ring at 3
    expect(pv.frontNotifications).toBe(3);
    // rsp_event stayed 1: the first response batch notified, the second did not
    // (ring.h RING_PUSH_RESPONSES_AND_CHECK_NOTIFY).
    expect(pv.notificationsSent).toBe(1);
    expect(pv.notificationsSuppressed).toBe(1);
  });

  it('pvdisk: 1 MiB written and read back over the blkif ring, 8 segments a request', async () => {
    let out = '';
    const disk = new Uint8Array(2 << 20);
    const m = await Machine.create({ ramBytes: 16 << 20, mode: 'pv', kernel: PVDISK,
      disks: [memoryDisk(disk)], serialOut: (b) => { out += String.fromCharCode(b); } });
    expect(m.run(100_000_000)).toEqual({ kind: 'poweroff' });
    expect(out).toMatch(/^wl pvdisk sectors=2048 write_cycles=\d+ read_cycles=\d+ verify=ok\n$/);
    const dv = new DataView(disk.buffer);
    for (const lba of [64, 1000, 64 + 2047]) {
      expect(dv.getUint32(lba * 512, true)).toBe((lba << 16) >>> 0);
      expect(dv.getUint32(lba * 512 + 508, true)).toBe(((lba << 16) | 127) >>> 0);
    }
    expect(dv.getUint32(63 * 512, true)).toBe(0);
    expect(dv.getUint32((64 + 2048) * 512, true)).toBe(0);
    const pv = m.stats().vmm!.pv!;
    expect(pv.ringRequests).toBe(64);
    expect(pv.frontNotifications).toBe(64);
  });

  it('runs the same in a smaller memory (the VMM frames move with the top of RAM)', async () => {
    const { out } = await run(8 << 20);
    expect(out).toBe(EXPECTED);
  });

  it.skipIf(!hasTool('nasm') || !hasTool('ld'))('is built from its source (build.sh)', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pvtest-')), 'pvtest.elf');
    execFileSync(new URL('../../guests/pv/build.sh', import.meta.url).pathname, [out]);
    expect(Buffer.compare(readFileSync(out), KERNEL)).toBe(0);
    expect(Buffer.compare(readFileSync(join(out, '..', 'pvdisk.elf')), PVDISK)).toBe(0);
  });

  it('refuses a kernel without XEN_ELFNOTE_ENTRY (JeOS with its note section hidden)', async () => {
    expect(readPvElf(JEOS).entry).toBeGreaterThan(0x100000);
    const plain = withoutNotes(JEOS);
    expect(() => readPvElf(plain)).toThrow(PvKernelError);
    await expect(Machine.create({ ramBytes: 32 << 20, mode: 'pv', kernel: plain }))
      .rejects.toThrow(/XEN_ELFNOTE_ENTRY/);
    const core = await createCore({ ramBytes: 8 << 20 });
    expect(() => buildPvDomain(core, new Uint8Array(10), '', () => {}, () => 0))
      .toThrow(/not a 32-bit/);
  });
});
