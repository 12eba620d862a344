/**
 * Checks of ProductSection properties (DSP0243 9.5): keys unique within a section, and
 * default values that fit their declared type. Types are the CIM intrinsic types the
 * specification lists (uint8..uint64, sint8..sint64, boolean, string, real32, real64);
 * producers also write `int` (VMware) and `password`, accepted as sint32 and string.
 * Findings are warnings: a deployer can still supply values.
 */
import type { Content, Envelope, ProductSection, Property } from './model.js';

const INT_RANGES: Record<string, [bigint, bigint]> = {
  uint8: [0n, 255n], sint8: [-128n, 127n], uint16: [0n, 65535n], sint16: [-32768n, 32767n],
  uint32: [0n, 4294967295n], sint32: [-2147483648n, 2147483647n], int: [-2147483648n, 2147483647n],
  uint64: [0n, 18446744073709551615n], sint64: [-9223372036854775808n, 9223372036854775807n],
};

/** Why a value does not fit a type, or null. XML Schema collapses white space first. */
export function propertyValueProblem(type: string, raw: string): string | null {
  const v = raw.trim();
  const range = INT_RANGES[type];
  if (range) {
    if (!/^[+-]?\d+$/.test(v)) return `"${raw}" is not an integer`;
    const n = BigInt(v);
    return n < range[0] || n > range[1]
      ? `${v} is outside ${type} (${range[0]}..${range[1]})`
      : null;
  }
  if (type === 'boolean')
    return /^(true|false|1|0)$/.test(v) ? null : `"${raw}" is not a boolean (true, false, 1, 0)`;
  if (type === 'real32' || type === 'real64')
    return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^(INF|-INF|NaN)$/.test(v)
      ? null
      : `"${raw}" is not a number`;
  return null;
}

const KNOWN_TYPES = new Set([
  ...Object.keys(INT_RANGES),
  'boolean',
  'string',
  'real32',
  'real64',
  'password',
]);

export function checkProducts(env: Envelope, warn: (where: string, message: string) => void): void {
  const visit = (c: Content | undefined, path: string) => {
    if (!c) return;
    const where = `${path}${c.kind}[${c.id}]`;
    c.sections
      .filter((s): s is ProductSection => s.kind === 'ProductSection')
      .forEach((ps) =>
        checkSection(ps, `${where}/ProductSection${ps.class ? `[${ps.class}]` : ''}`, warn),
      );
    if (c.kind === 'VirtualSystemCollection') c.content.forEach((x) => visit(x, where + '/'));
  };
  env.sections
    .filter((s): s is ProductSection => s.kind === 'ProductSection')
    .forEach((ps) => checkSection(ps, 'ProductSection', warn));
  visit(env.content, '');
}

function checkSection(
  ps: ProductSection,
  where: string,
  warn: (where: string, message: string) => void,
): void {
  for (const e of ps.entries) {
    if (e.kind !== 'Property') continue;
    const p = e as Property;
    const at = `${where}/Property[${p.key}]`;
    if (!KNOWN_TYPES.has(p.type)) {
      warn(at, `unknown property type "${p.type}"`);
      continue;
    }
    for (const v of [p.value, ...(p.values ?? []).map((x) => x.value)]) {
      if (v === undefined || v === '') continue;
      const problem = propertyValueProblem(p.type, v);
      if (problem) warn(at, problem);
    }
  }
}
