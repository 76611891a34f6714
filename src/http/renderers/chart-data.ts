import type { ChartConfig } from '../../config/schema.js';
import type { Cell, TableOutput } from '../../core/result.js';
import { escapeHtml } from './html.js';

interface ChartData {
  type: ChartConfig['type'];
  labels: string[];
  datasets: { label: string; data: (number | null)[] }[];
}

const toNumber = (cell: Cell | undefined): number | null => {
  if (typeof cell === 'number') return cell;
  if (typeof cell === 'string' && cell.trim() !== '' && Number.isFinite(Number(cell))) return Number(cell);
  return null;
};

/**
 * Turns a result table into chart data as the action's `chart:` describes it. With a
 * `series` column, each distinct value becomes its own dataset over the shared x labels.
 */
export function chartData(table: TableOutput, chart: ChartConfig): ChartData | { missing: string[] } {
  const index = (name: string) => table.columns.findIndex((c) => c.name === name);
  const wanted = [chart.x, ...chart.y, ...(chart.series ? [chart.series] : [])];
  const missing = wanted.filter((name) => index(name) === -1);
  if (missing.length > 0) return { missing };
  const xi = index(chart.x);
  const ys = chart.y.map((name) => ({ name, i: index(name) }));
  if (!chart.series) {
    return {
      type: chart.type,
      labels: table.rows.map((row) => String(row[xi] ?? '')),
      datasets: ys.map(({ name, i }) => ({ label: name, data: table.rows.map((row) => toNumber(row[i])) })),
    };
  }
  const labels = [...new Set(table.rows.map((row) => String(row[xi] ?? '')))];
  const si = index(chart.series);
  const series = [...new Set(table.rows.map((row) => String(row[si] ?? '')))];
  const datasets = series.flatMap((s) => {
    const rows = table.rows.filter((row) => String(row[si] ?? '') === s);
    return ys.map(({ name, i }) => {
      const byLabel = new Map(rows.map((row) => [String(row[xi] ?? ''), toNumber(row[i])]));
      return { label: chart.y.length > 1 ? `${s} ${name}` : s, data: labels.map((label) => byLabel.get(label) ?? null) };
    });
  });
  return { type: chart.type, labels, datasets };
}

/** A canvas the script draws on; the table stays on the page for people without JavaScript. */
export function chartHtml(table: TableOutput, chart: ChartConfig, title: string): string {
  const data = chartData(table, chart);
  if ('missing' in data) return `<p class="error">The chart needs column${data.missing.length > 1 ? 's' : ''} ${data.missing.map((m) => `"${escapeHtml(m)}"`).join(', ')}, which the result does not have.</p>`;
  return `<figure class="chart"><canvas role="img" aria-label="${escapeHtml(`${chart.type} chart of ${title}`)}" data-chart="${escapeHtml(JSON.stringify(data))}"></canvas></figure>`;
}
