/**
 * A plain-text table of benchmark results: one line per guest, columns padded to their
 * widest cell, numbers right-aligned. Browser-safe.
 */
export interface Column {
  title: string;
  /** Right-align (numbers). */
  right?: boolean;
}

export function formatTable(columns: Column[], rows: string[][]): string {
  const widths = columns.map((c, i) =>
    Math.max(c.title.length, ...rows.map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((s, i) => (columns[i].right ? s.padStart(widths[i]) : s.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return (
    [
      line(columns.map((c) => c.title)),
      line(widths.map((w) => '-'.repeat(w))),
      ...rows.map(line),
    ].join('\n') + '\n'
  );
}

/** MIPS with one decimal, or '-' when there is no figure. */
export function fmtMips(m: number | null | undefined): string {
  return m === null || m === undefined || !Number.isFinite(m) ? '-' : m.toFixed(1);
}

/** a / b as "1.79x", or '-' when either is missing. */
export function fmtRatio(a: number | null | undefined, b: number | null | undefined): string {
  return a && b && Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}x` : '-';
}

/** A count with thousands separators (60,000,002). */
export function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}
