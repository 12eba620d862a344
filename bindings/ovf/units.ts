/**
 * Allocation units: the DMTF "programmatic units" of DSP0004 (CIM Infrastructure,
 * 2.x, ANNEX C.1) that OVF uses for disk capacity (DSP0243 1.1 section 9.1, 2.1 section
 * 9.1: `ovf:capacityAllocationUnits`, default bytes) and for RASD AllocationUnits
 * (DSP0243 1.1 and 2.1 section 8.3, virtual hardware elements), e.g. `byte * 2^30`, `byte*2^20`,
 * `hertz * 10^6`. Real producers also write the older names `MegaBytes`, `GigaBytes`,
 * `KiloBytes`, `Bytes` (DSP0243 1.0 examples, VirtualBox) and `MB`/`GB`: accepted too.
 */
import { OvfError, type OvfErrorWhere } from './errors.js';

/**
 * The largest disk capacity accepted: 64 TiB (2^46 bytes). It is the largest virtual disk
 * mainstream formats define (VHDX: 64 TB, MS-VHDX section 2.2.2; vSphere VMDK: 62 TB) and
 * far below 2^53, where byte offsets in JavaScript numbers stop being exact. A descriptor
 * claiming more (e.g. 2^60 bytes) is lying or broken and is rejected.
 */
export const MAX_DISK_CAPACITY_BYTES = 2 ** 46;

/**
 * The largest memory size accepted from a descriptor: 1 TiB. Bigger requests are not
 * appliances; the VM configuration then limits what wasmvisor itself can give (see
 * bindings/config).
 */
export const MAX_MEMORY_BYTES = 2 ** 40;

/** A parsed programmatic unit: base unit and an exact integer multiplier. */
export interface ProgrammaticUnit {
  base: 'byte' | 'bit' | 'hertz' | 'count' | string;
  multiplier: bigint;
}

const NAMED_BYTE_UNITS: Record<string, bigint> = {
  byte: 1n, bytes: 1n, b: 1n,
  kilobyte: 1n << 10n, kilobytes: 1n << 10n, kb: 1n << 10n, kib: 1n << 10n,
  megabyte: 1n << 20n, megabytes: 1n << 20n, mb: 1n << 20n, mib: 1n << 20n,
  gigabyte: 1n << 30n, gigabytes: 1n << 30n, gb: 1n << 30n, gib: 1n << 30n,
  terabyte: 1n << 40n, terabytes: 1n << 40n, tb: 1n << 40n, tib: 1n << 40n,
};

const NAMED_HERTZ_UNITS: Record<string, bigint> = {
  hertz: 1n, hz: 1n, kilohertz: 10n ** 3n, khz: 10n ** 3n,
  megahertz: 10n ** 6n, mhz: 10n ** 6n, gigahertz: 10n ** 9n, ghz: 10n ** 9n,
};

/**
 * Parses a programmatic unit (DSP0004 ANNEX C.1: `base-unit *( "*" factor )` where a
 * factor is an integer or `integer^integer`), or one of the legacy names. Returns null
 * when the text is not a unit this code understands.
 */
export function parseUnit(text: string): ProgrammaticUnit | null {
  const t = text.trim();
  if (!t) return null;
  const lower = t.toLowerCase();
  if (lower in NAMED_BYTE_UNITS) return { base: 'byte', multiplier: NAMED_BYTE_UNITS[lower] };
  if (lower in NAMED_HERTZ_UNITS) return { base: 'hertz', multiplier: NAMED_HERTZ_UNITS[lower] };
  // DSP0004 ANNEX C.1 allows white space between the elements and operators of a
  // programmatic unit (`byte * 2 ^ 30`, `byte*2^ 30`): it carries no meaning.
  const factors = lower.replace(/\s*\^\s*/g, '^').split('*').map((f) => f.trim());
  const base = factors.shift()!;
  if (!/^[a-z][a-z-]*$/.test(base)) return null;
  let multiplier = 1n;
  for (const f of factors) {
    const m = /^(\d{1,4})(?:\^(\d{1,3}))?$/.exec(f);
    if (!m) return null;
    const b = BigInt(m[1]);
    const e = m[2] === undefined ? 1n : BigInt(m[2]);
    if (e > 200n) return null;
    multiplier *= b ** e;
  }
  const baseName = base === 'bytes' ? 'byte' : base === 'bits' ? 'bit' : base;
  return { base: baseName, multiplier };
}

/**
 * Bytes per unit for a byte-valued quantity. `units` absent means bytes (DSP0243 9.1),
 * unless `defaultUnit` says otherwise.
 */
export function bytesPerUnit(
  units: string | undefined,
  where: OvfErrorWhere,
  defaultUnit = 'byte',
): bigint {
  const u = parseUnit(units ?? defaultUnit);
  if (!u) throw new OvfError('invalid', `unknown allocation units "${units}"`, where);
  if (u.base === 'byte') return u.multiplier;
  if (u.base === 'bit' && u.multiplier % 8n === 0n) return u.multiplier / 8n;
  throw new OvfError('invalid', `allocation units "${units}" are not a size in bytes`, where);
}

/** Parses a non-negative xs:unsignedLong-style integer, or throws with `where`. */
export function parseCount(text: string | undefined, what: string, where: OvfErrorWhere): bigint {
  const t = (text ?? '').trim();
  if (!/^\+?\d{1,30}$/.test(t))
    throw new OvfError('invalid', `${what} "${text ?? ''}" is not a non-negative integer`, where);
  return BigInt(t.replace(/^\+/, ''));
}

/**
 * A size in bytes from a quantity and its units, checked against `limit`.
 * Throws `capacity` errors for sizes beyond the limit so that lying descriptors stop here.
 */
export function sizeInBytes(
  value: string | undefined,
  units: string | undefined,
  what: string,
  limit: number,
  where: OvfErrorWhere,
  defaultUnit = 'byte',
): number {
  const n = parseCount(value, what, where) * bytesPerUnit(units, where, defaultUnit);
  if (n > BigInt(limit)) {
    throw new OvfError(
      'capacity',
      `${what} of ${n} bytes is beyond the limit of ${limit} bytes`,
      where,
    );
  }
  return Number(n);
}

/** The unit string the writer uses for a byte multiplier (`byte * 2^20` style, DSP0004 C.1). */
export function byteUnitString(shift: number): string {
  return shift === 0 ? 'byte' : `byte * 2^${shift}`;
}
