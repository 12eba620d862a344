/**
 * The ACPI power-management tables a Linux boot gets (bindings/devices/apic/tables.ts),
 * against the ACPI specification's layouts: the FADT revision 1 (ACPI 6.x 5.2.9, table
 * 5-33: field offsets), the FACS (5.2.10: 64 bytes, 64-byte aligned), the DSDT (5.2.11.1)
 * whose AML names \_S5 as QEMU's DSDT does ("Name (_S5, Package (0x04) { Zero, Zero, Zero,
 * Zero })", AML 08 5F 53 35 5F 12 06 04 00 00 00 00: chapter 20, NameOp, PackageOp,
 * PkgLength, NumElements, ZeroOp), each table's checksum summing to 0 (5.2.6). That the
 * kernel powers off with them is test/linux/debian.test.ts's "reboot: Power down".
 */
import { describe, it, expect } from 'vitest';
import {
  writePlatformTables, TABLES_PHYS, DSDT_AML,
} from '../../bindings/devices/apic/tables.js';

const mem = new Uint8Array(0x100000);
writePlatformTables((a, d) => mem.set(d, a), {
  cpu: { signature: 0x680, features: 0 }, apic: false, power: { base: 0x600, sci: 9 },
});
const dv = new DataView(mem.buffer);
const sig = (at: number) => String.fromCharCode(...mem.subarray(at, at + 4));
const sum = (at: number, len: number) => mem.subarray(at, at + len).reduce((a, b) => a + b, 0);

function find(s: string): number {
  for (let a = 0xe0000; a < 0x100000; a += 16) {
    if (String.fromCharCode(...mem.subarray(a, a + 8)) === s) return a;
  }
  return -1;
}

describe('ACPI power tables (ACPI 6.x 5.2)', () => {
  const rsdp = find('RSD PTR ');
  const rsdt = dv.getUint32(rsdp + 16, true);
  const fadt = dv.getUint32(rsdt + 36, true);

  it('the RSDP in the BIOS area names an RSDT that lists the FADT only (no APIC)', () => {
    expect(rsdp).toBeGreaterThanOrEqual(TABLES_PHYS);
    expect(sum(rsdp, 20) & 0xff).toBe(0);
    expect(sig(rsdt)).toBe('RSDT');
    expect(dv.getUint32(rsdt + 4, true)).toBe(40);
    expect(sum(rsdt, 40) & 0xff).toBe(0);
    expect(sig(fadt)).toBe('FACP');
    expect(find('_MP_')).toBe(-1);
  });

  it('FADT revision 1: 116 bytes, the PM blocks, SCI 9, no SMI_CMD (table 5-33)', () => {
    expect(dv.getUint32(fadt + 4, true)).toBe(116);
    expect(mem[fadt + 8]).toBe(1);
    expect(sum(fadt, 116) & 0xff).toBe(0);
    expect(dv.getUint16(fadt + 46, true)).toBe(9); // SCI_INT
    expect(dv.getUint32(fadt + 48, true)).toBe(0); // SMI_CMD
    expect(dv.getUint32(fadt + 56, true)).toBe(0x600); // PM1a_EVT_BLK
    expect(dv.getUint32(fadt + 64, true)).toBe(0x604); // PM1a_CNT_BLK
    expect(dv.getUint32(fadt + 76, true)).toBe(0x608); // PM_TMR_BLK
    expect(dv.getUint32(fadt + 80, true)).toBe(0); // GPE0_BLK
    expect([...mem.subarray(fadt + 88, fadt + 92)]).toEqual([4, 2, 0, 4]); // lengths
    expect(dv.getUint16(fadt + 96, true)).toBeGreaterThan(100); // C2 not supported
    expect(dv.getUint16(fadt + 98, true)).toBeGreaterThan(1000); // C3 not supported
  });

  it('the FACS: 64 bytes on a 64-byte boundary', () => {
    const facs = dv.getUint32(fadt + 36, true);
    expect(facs % 64).toBe(0);
    expect(sig(facs)).toBe('FACS');
    expect(dv.getUint32(facs + 4, true)).toBe(64);
  });

  it('the DSDT: its AML names \\_S5 as QEMU\'s and a PNP0A03 root bridge', () => {
    const dsdt = dv.getUint32(fadt + 40, true);
    expect(sig(dsdt)).toBe('DSDT');
    const len = dv.getUint32(dsdt + 4, true);
    expect(len).toBe(36 + DSDT_AML.length);
    expect(sum(dsdt, len) & 0xff).toBe(0);
    const aml = [...mem.subarray(dsdt + 36, dsdt + len)].map((b) => b.toString(16)
      .padStart(2, '0')).join(' ');
    expect(aml).toContain('08 5f 53 35 5f 12 06 04 00 00 00 00');
    // EISAID ("PNP0A03") is 0x030AD041 (ACPI 19.6.35 EISAID: the compressed ID).
    expect(aml).toContain('08 5f 48 49 44 0c 41 d0 0a 03');
    // Each PkgLength covers the rest of its object (20.2.4): the Scope ends with the AML's
    // Device and the Device with _ADR.
    expect(DSDT_AML[1]).toBe(1 + 4 + 2 + DSDT_AML[8]);
  });
});
