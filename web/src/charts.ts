/**
 * The charts, loaded after the page is up (a VM boots without them): chart.js with only
 * the pieces the page draws (lines over time, grouped bars on a log scale).
 */
import {
  Chart, LineController, LineElement, PointElement, LinearScale, LogarithmicScale,
  BarController, BarElement, CategoryScale, Legend, Tooltip,
} from 'chart.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale,
  BarController, BarElement, CategoryScale, Legend, Tooltip);

export const COLORS = ['#0b5cad', '#c2410c', '#15803d', '#7e22ce', '#b91c1c', '#0e7490',
  '#a16207', '#be185d', '#4d7c0f', '#334155'];

export interface Series { label: string; points: { x: number; y: number }[] }

/** A line chart over time (seconds on x), `unit` on y. */
export class TimeChart {
  private chart: Chart<'line', { x: number; y: number }[]>;
  constructor(private canvas: HTMLCanvasElement, unit: string) {
    this.chart = new Chart(canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, parsing: false,
        normalized: true,
        elements: { point: { radius: 0 }, line: { borderWidth: 2 } },
        scales: {
          x: { type: 'linear', title: { display: true, text: 'running time (s)' } },
          y: { type: 'linear', beginAtZero: true, title: { display: true, text: unit } },
        },
        plugins: { legend: { labels: { boxWidth: 12 } } },
      },
    });
  }

  update(series: Series[]): void {
    const ds = this.chart.data.datasets;
    series.forEach((s, i) => {
      const c = COLORS[i % COLORS.length];
      if (!ds[i]) ds[i] = { label: s.label, data: [], borderColor: c, backgroundColor: c };
      ds[i].label = s.label;
      ds[i].data = s.points;
    });
    ds.length = series.length;
    this.chart.update('none');
    let n = 0;
    for (const s of series) n += s.points.length;
    this.canvas.dataset.points = String(n);
  }

  destroy(): void { this.chart.destroy(); }
}

/** Grouped bars: one group per label, one bar per dataset, on a log scale. */
export class BarChart {
  private chart: Chart<'bar', (number | null)[]>;
  constructor(private canvas: HTMLCanvasElement, unit: string) {
    this.chart = new Chart(canvas, {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        scales: { y: { type: 'logarithmic', title: { display: true, text: unit } } },
        plugins: { legend: { labels: { boxWidth: 12 } } },
      },
    });
  }

  update(labels: string[], sets: { label: string; data: (number | null)[]; color: string }[]):
    void {
    this.chart.data.labels = labels;
    this.chart.data.datasets = sets.map((s) => ({
      label: s.label, data: s.data, backgroundColor: s.color, borderColor: s.color,
    }));
    this.chart.update('none');
    this.canvas.dataset.points = String(sets.reduce((n, s) =>
      n + s.data.filter((v) => v !== null).length, 0));
  }
}
