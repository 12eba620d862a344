/**
 * The workload lines JeOS prints (guests/jeos/README.md, "Output"):
 *   wl NAME iters=N [key=value ...] cycles=C per_iter=P
 *   wl NAME FAIL reason          wl NAME skipped=why
 * parsed into rows, and the table `wasmvisor run` shows.
 */

export interface WorkloadRow {
  name: string;
  iters?: number;
  cycles?: number;
  perIter?: number;
  /** Other key=value pairs of the line (crc32=, sectors=, ...). */
  extra: Record<string, string>;
  /** 'ok', 'FAIL ...' or 'skipped ...'. */
  status: string;
}

/**
 * Native cycles per operation on a 3.8 GHz Pentium 4 672, from Adams & Agesen, "A
 * Comparison of Software and Hardware Techniques for x86 Virtualization", ASPLOS 2006,
 * Figure 4 (irqmask is their cr8wr, the guest's interrupt-mask write).
 */
export const ADAMS_AGESEN_NATIVE: Record<string, number> = {
  syscall: 242, in: 3209, irqmask: 150, callret: 11, pgfault: 1093, divzero: 889, ptemod: 1,
};

export function parseWorkloadLines(text: string): WorkloadRow[] {
  const rows: WorkloadRow[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line.startsWith('wl ')) continue;
    const [, name, ...rest] = line.split(/\s+/);
    if (!name) continue;
    const row: WorkloadRow = { name, extra: {}, status: 'ok' };
    if (rest[0] === 'FAIL') {
      row.status = rest.join(' ');
      rows.push(row);
      continue;
    }
    for (const kv of rest) {
      const eq = kv.indexOf('=');
      if (eq < 0) continue;
      const k = kv.slice(0, eq);
      const v = kv.slice(eq + 1);
      if (k === 'iters') row.iters = Number(v);
      else if (k === 'cycles') row.cycles = Number(v);
      else if (k === 'per_iter') row.perIter = Number(v);
      else if (k === 'skipped') row.status = `skipped (${v})`;
      else row.extra[k] = v;
    }
    rows.push(row);
  }
  return rows;
}

export function formatWorkloadTable(rows: WorkloadRow[]): string {
  const head = ['workload', 'iterations', 'cycles/iter', 'P4 native (A&A 2006)', 'notes'];
  const body = rows.map((r) => [
    r.name,
    r.iters === undefined ? '' : String(r.iters),
    r.perIter === undefined ? '' : String(r.perIter),
    ADAMS_AGESEN_NATIVE[r.name] === undefined ? '' : String(ADAMS_AGESEN_NATIVE[r.name]),
    r.status !== 'ok' ? r.status : Object.entries(r.extra).map(([k, v]) => `${k}=${v}`).join(' '),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  // The name and the notes are left-aligned, the numbers right-aligned.
  const cell = (c: string, i: number) =>
    (i === 0 || i === 4 ? c.padEnd(widths[i]) : c.padStart(widths[i]));
  const fmt = (cells: string[]) => cells.map(cell).join('  ').trimEnd();
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(fmt)].join('\n');
}
