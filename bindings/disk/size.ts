/**
 * Sizes as qemu-img reads and prints them: "10G", "512M", "1.5k" with binary suffixes
 * (qemu_strtosz: B, K, M, G, T, P, E, case-insensitive, bytes by default), and
 * "64 MiB"-style output with three significant digits (qemu's size_to_str).
 */

const SUFFIX = 'BKMGTPE';

export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|0x[0-9a-f]+)\s*([bkmgtpe])?\s*$/i.exec(text);
  if (!m || (m[1].startsWith('0x') && m[2] !== undefined && /[.]/.test(m[1]))) {
    throw new RangeError(
      'Invalid image size specified. You may use k, M, G, T, P or E suffixes ' +
        'for kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.',
    );
  }
  const mul = 2 ** (10 * SUFFIX.indexOf((m[2] ?? 'B').toUpperCase()));
  const base = m[1].toLowerCase().startsWith('0x') ? parseInt(m[1], 16) : Number(m[1]);
  if (m[1].includes('.') && mul === 1)
    throw new RangeError(`Invalid image size "${text}": a fraction needs a suffix`);
  const v = Math.floor(base * mul);
  if (!Number.isSafeInteger(v))
    throw new RangeError(`Image size "${text}" is too large (over 2^53 - 1 bytes)`);
  return v;
}

export function formatSize(bytes: number): string {
  // qemu: frexp(val / (1000.0 / 1024.0), &i); i = (i - 1) / 10; switch units at >= 1000.
  const e = bytes === 0 ? 0 : Math.floor(Math.log2(bytes / (1000 / 1024))) + 1;
  const i = Math.max(0, Math.min(Math.trunc((e - 1) / 10), 6));
  const v = bytes / 2 ** (10 * i);
  return `${g3(v)} ${['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'][i]}B`;
}

/** printf's %0.3g for the values size_to_str produces (0.977 .. 999). */
function g3(v: number): string {
  const s = v.toPrecision(3);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}
