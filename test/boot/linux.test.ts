/**
 * The Linux boot protocol loader (bindings/boot/linux.ts) on bytes: a synthetic bzImage
 * header with the fields of the kernel's Documentation/x86/boot.rst, checked against what
 * boot.rst and zero-page.rst say a boot loader must write. The Debian kernel itself boots
 * in test/linux/debian.test.ts.
 */
import { describe, it, expect } from 'vitest';
import { planLinux, isLinuxKernel, LinuxBootError, ZERO_PAGE_ADDR, CMDLINE_ADDR,
  KERNEL_ADDR } from '../../bindings/boot/linux.js';

/** A bzImage: `setupSects` setup sectors, then `kernelBytes` of protected-mode code. */
function bzImage(o: { version?: number; setupSects?: number; loadflags?: number;
  initrdMax?: number; pref?: number; initSize?: number; kernelBytes?: number } = {}) {
  const setupSects = o.setupSects ?? 4;
  const img = new Uint8Array((setupSects + 1) * 512 + (o.kernelBytes ?? 4096));
  const v = new DataView(img.buffer);
  img[0x1f1] = setupSects;
  v.setUint16(0x1fe, 0xaa55, true);
  img[0x200] = 0xeb; img[0x201] = 0x6a; // jump: the header ends at 0x202 + 0x6a = 0x26c
  v.setUint32(0x202, 0x53726448, true); // "HdrS"
  v.setUint16(0x206, o.version ?? 0x020f, true);
  img[0x211] = o.loadflags ?? 1;
  v.setUint32(0x214, 0x100000, true); // code32_start
  v.setUint32(0x22c, o.initrdMax ?? 0x7fffffff, true);
  v.setUint32(0x230, 0x1000000, true); // kernel_alignment
  img[0x234] = 1; // relocatable
  v.setUint32(0x238, 2047, true); // cmdline_size
  v.setBigUint64(0x258, BigInt(o.pref ?? 0x1000000), true);
  v.setUint32(0x260, o.initSize ?? 0x1000000, true);
  img.fill(0xcc, (setupSects + 1) * 512);
  return img;
}

const MiB = 1 << 20;
const at = (plan: ReturnType<typeof planLinux>, addr: number) =>
  plan.writes.find((w) => w.addr === addr)!.data;

describe('Linux boot protocol loader', () => {
  it('zero page, command line, initrd and the 32-bit entry state (boot.rst)', () => {
    const img = bzImage();
    expect(isLinuxKernel(img)).toBe(true);
    const initrd = new Uint8Array(10_000).fill(7);
    const plan = planLinux(img, { ramBytes: 128 * MiB, cmdline: 'console=ttyS0', initrd });
    const zp = new DataView(at(plan, ZERO_PAGE_ADDR).buffer);
    // "32-bit Boot Protocol": the setup header copied from 0x1f1 to its end (0x26c).
    expect(at(plan, ZERO_PAGE_ADDR).subarray(0x202, 0x206)).toEqual(img.subarray(0x202, 0x206));
    expect(zp.getUint16(0x206, true)).toBe(0x020f);
    // type_of_loader 0xFF (undefined), cmd_line_ptr, the initrd's address and size.
    expect(zp.getUint8(0x210)).toBe(0xff);
    expect(zp.getUint32(0x228, true)).toBe(CMDLINE_ADDR);
    expect(new TextDecoder().decode(at(plan, CMDLINE_ADDR))).toBe('console=ttyS0\0');
    // The initrd as high as RAM allows, page aligned ("initrd_addr_max"; QEMU does this).
    const initrdAddr = zp.getUint32(0x218, true);
    expect(initrdAddr % 4096).toBe(0);
    expect(initrdAddr + 10_000).toBeLessThanOrEqual(128 * MiB);
    expect(128 * MiB - (initrdAddr + 10_000)).toBeLessThan(4096);
    expect(zp.getUint32(0x21c, true)).toBe(10_000);
    // zero-page.rst: e820_entries at 0x1e8, e820_table at 0x2d0 (20-byte entries).
    expect(zp.getUint8(0x1e8)).toBe(4);
    const e = (i: number) => [Number(zp.getBigUint64(0x2d0 + 20 * i, true)),
      Number(zp.getBigUint64(0x2d0 + 20 * i + 8, true)), zp.getUint32(0x2d0 + 20 * i + 16, true)];
    expect(e(0)).toEqual([0, 0x9fc00, 1]);
    expect(e(3)).toEqual([MiB, 127 * MiB, 1]);
    // The protected-mode kernel from (setup_sects + 1) * 512, at 1 MiB.
    expect(at(plan, KERNEL_ADDR)[0]).toBe(0xcc);
    expect(at(plan, KERNEL_ADDR).length).toBe(4096);
    // CS = __BOOT_CS (0x10), DS = ES = SS = __BOOT_DS (0x18), ESI = the zero page,
    // EBP = EDI = EBX = 0, IF = 0, paging off.
    expect(plan.segments.cs!.selector).toBe(0x10);
    expect(plan.segments.ss!.selector).toBe(0x18);
    expect(plan.regs).toMatchObject({ esi: ZERO_PAGE_ADDR, ebp: 0, edi: 0, ebx: 0,
      eip: 0x100000, eflags: 2 });
    expect(plan.regs.cr0! & 0x80000001).toBe(1);
  });

  it('refuses what it cannot boot, naming why', () => {
    expect(() => planLinux(bzImage({ version: 0x0201 }), { ramBytes: 64 * MiB }))
      .toThrow(/older than 2\.02/);
    expect(() => planLinux(bzImage({ loadflags: 0 }), { ramBytes: 64 * MiB }))
      .toThrow(/zImage/);
    // init_size at pref_address must fit: 16 MiB + 16 MiB > 24 MiB.
    expect(() => planLinux(bzImage(), { ramBytes: 24 * MiB })).toThrow(LinuxBootError);
    expect(() => planLinux(bzImage(), { ramBytes: 64 * MiB, cmdline: 'x'.repeat(3000) }))
      .toThrow(/cmdline_size/);
    // An initrd that cannot go above the kernel's decompression area.
    expect(() => planLinux(bzImage({ initrdMax: 0x1ffffff }),
      { ramBytes: 64 * MiB, initrd: new Uint8Array(MiB) })).toThrow(/initrd/);
    expect(isLinuxKernel(new Uint8Array(100))).toBe(false);
  });
});
