/**
 * Checks for device snapshots. `fromState()` never trusts a snapshot: it may come from a
 * file, another version, or a hostile peer in a migration, so every field is re-checked
 * here and a bad one is reported with its path (e.g. `uart.fifo[3]: expected 0..255`).
 */

/** A snapshot field is missing, of the wrong type, or out of range. */
export class DeviceStateError extends Error {
  constructor(public readonly path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.name = 'DeviceStateError';
  }
}

/** Reads a snapshot object; throws if `s` is not a plain object. */
export function obj(s: unknown, path: string): Record<string, unknown> {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) {
    throw new DeviceStateError(path, 'expected an object');
  }
  return s as Record<string, unknown>;
}

/** An integer field in [min, max]. */
export function int(
  o: Record<string, unknown>, key: string, path: string, min: number, max: number,
): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new DeviceStateError(`${path}.${key}`,
      `expected an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function bool(o: Record<string, unknown>, key: string, path: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') {
    throw new DeviceStateError(`${path}.${key}`, `expected a boolean, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** One of a fixed set of strings. */
export function oneOf<T extends string>(
  o: Record<string, unknown>, key: string, path: string, allowed: readonly T[],
): T {
  const v = o[key];
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new DeviceStateError(`${path}.${key}`,
      `expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

/** An array of integers in [min, max] with at most `maxLen` entries. */
export function intArray(
  o: Record<string, unknown>, key: string, path: string, min: number, max: number, maxLen: number,
): number[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length > maxLen) {
    throw new DeviceStateError(`${path}.${key}`, `expected an array of at most ${maxLen} integers`);
  }
  v.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) {
      throw new DeviceStateError(`${path}.${key}[${i}]`,
        `expected an integer in ${min}..${max}, got ${JSON.stringify(x)}`);
    }
  });
  return v as number[];
}

/** Bytes as base64 (browser and Node both have btoa/atob). */
export function encodeBytes(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return btoa(s);
}

export function bytes(
  o: Record<string, unknown>, key: string, path: string, length: number,
): Uint8Array<ArrayBuffer> {
  const v = o[key];
  let raw: string;
  try {
    if (typeof v !== 'string') throw new Error('not a string');
    raw = atob(v);
  } catch {
    throw new DeviceStateError(`${path}.${key}`, 'expected base64 bytes');
  }
  if (raw.length !== length) {
    throw new DeviceStateError(`${path}.${key}`, `expected ${length} bytes, got ${raw.length}`);
  }
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = raw.charCodeAt(i);
  return out;
}
