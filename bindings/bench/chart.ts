/**
 * A grouped bar chart as an SVG document (the shape of Adams & Agesen's figure 4): one
 * group per workload, one bar per series, a logarithmic axis of cycles. Browser-safe.
 */
export interface ChartSeries {
  name: string;
  /** One value per group (undefined: no bar). */
  values: (number | undefined)[];
  /** Published figures are drawn lighter, with their value as the bar's title. */
  published?: boolean;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function groupedBarChart(title: string, groups: string[], series: ChartSeries[]): string {
  const legendRows = Math.ceil(series.length / 2);
  const W = Math.max(120 + groups.length * (series.length * 14 + 24), 70 + 2 * 200);
  const H = 340 + legendRows * 18;
  const left = 70, top = 40, bottom = 300;
  const all = series.flatMap((s) => s.values).filter((v): v is number => !!v && v > 0);
  const max = Math.max(10, ...all), min = 1;
  const decades = Math.ceil(Math.log10(max));
  const y = (v: number): number =>
    bottom - (Math.log10(Math.max(v, min)) / decades) * (bottom - top);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" ` +
      `font-family="sans-serif" font-size="11">`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  for (let d = 0; d <= decades; d++) {
    const yy = y(10 ** d);
    out.push(`<line x1="${left}" x2="${W - 10}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${yy + 4}" text-anchor="end">${10 ** d}</text>`);
  }
  out.push(`<text x="14" y="${(top + bottom) / 2}" transform="rotate(-90 14 ${(top + bottom) / 2})"`
    + ` text-anchor="middle">cycles per iteration (log)</text>`);
  groups.forEach((g, gi) => {
    const x0 = left + 12 + gi * (series.length * 14 + 24);
    series.forEach((s, si) => {
      const v = s.values[gi];
      if (v === undefined || !(v > 0)) return;
      const color = PALETTE[si % PALETTE.length];
      const yy = y(v);
      const opacity = s.published ? ' fill-opacity="0.35" stroke="' + color + '"' : '';
      out.push(`<rect x="${x0 + si * 14}" y="${yy.toFixed(1)}" width="12" ` +
        `height="${(bottom - yy).toFixed(1)}" fill="${color}"${opacity}>` +
        `<title>${esc(`${g} ${s.name}: ${Math.round(v)}`)}</title></rect>`);
    });
    out.push(`<text x="${x0 + (series.length * 14) / 2}" y="${bottom + 16}" ` +
      `text-anchor="middle">${esc(g)}</text>`);
  });
  series.forEach((s, si) => {
    const color = PALETTE[si % PALETTE.length];
    const lx = left + (si % 2) * 200, ly = bottom + 40 + Math.floor(si / 2) * 18;
    const opacity = s.published ? ' fill-opacity="0.35"' : '';
    out.push(`<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${color}"${opacity}/>`);
    out.push(`<text x="${lx + 14}" y="${ly}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
