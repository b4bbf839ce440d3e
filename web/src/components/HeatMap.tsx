import { CategoryScale, Chart, Tooltip, type ChartConfiguration, type ChartType, type Plugin } from "chart.js";
import { MatrixController, MatrixElement } from "chartjs-chart-matrix";
import { useMemo } from "react";
import { useChart } from "./useChart";

Chart.register(MatrixController, MatrixElement, CategoryScale, Tooltip);

export interface GridResult {
  params: Record<string, unknown>;
  stats: Record<string, unknown>;
}

function key(v: unknown): string {
  return typeof v === "number" || typeof v === "string" || typeof v === "boolean" ? String(v) : JSON.stringify(v);
}

function sortValues(values: unknown[]): string[] {
  const unique = [...new Set(values.map(key))];
  return unique.sort((a, b) => {
    const na = Number(a);
    const nb = Number(b);
    return Number.isFinite(na) && Number.isFinite(nb) ? na - nb : a.localeCompare(b);
  });
}

/** Red (worst, 0) through pale yellow to green (best, 1). */
export function heatColor(t: number): string {
  const clamped = Math.min(1, Math.max(0, t));
  const hue = clamped * 120;
  return `hsl(${hue.toFixed(0)}, 65%, ${(78 - Math.abs(clamped - 0.5) * 30).toFixed(0)}%)`;
}

/** A combination that was skipped (or has no such statistic). */
export const BLANK_COLOR = "#e2e8f0";
const CELL_WIDTH = 64;
const CELL_HEIGHT = 30;

export interface HeatMapProps {
  results: GridResult[];
  x: string;
  y: string;
  stat: string;
  /** The statistic's name for people (the key when absent). */
  label?: string;
  /** Smaller is better (drawdown, volatility): the smallest value is the best cell, green. */
  lowerIsBetter?: boolean;
  format?: (value: number) => string;
}

export interface HeatCell {
  x: string;
  y: string;
  /** The best value where other parameters vary; null where no result exists. */
  value: number | null;
  /** Written in the cell: the formatted value, or "–". */
  text: string;
  /** The tooltip: "fast 10, slow 40: 0.50" or "…: no result". */
  title: string;
  color: string;
}

export interface HeatGrid {
  xs: string[];
  ys: string[];
  /** Row by row (ys in order), each row across xs in order: every pair, blanks included. */
  cells: HeatCell[];
}

const defaultFormat = (v: number) => v.toFixed(3);

/** One cell per (x, y) parameter pair, coloured by the statistic (green is best); blank where no result exists. */
export function heatGrid({ results, x, y, stat, lowerIsBetter = false, format = defaultFormat }: HeatMapProps): HeatGrid {
  const better = lowerIsBetter ? Math.min : Math.max;
  const xs = sortValues(results.map((r) => r.params[x]));
  const ys = sortValues(results.map((r) => r.params[y]));
  const values = new Map<string, number | null>();
  for (const r of results) {
    const raw = r.stats[stat];
    const value = typeof raw === "number" && Number.isFinite(raw) ? raw : null;
    const k = `${key(r.params[x])}|${key(r.params[y])}`;
    // Several results may share (x, y) when other parameters vary: keep the best.
    const prev = values.get(k);
    values.set(k, prev === undefined || prev === null ? value : value === null ? prev : better(prev, value));
  }
  const present = [...values.values()].filter((v): v is number => v !== null);
  const min = Math.min(...present);
  const max = Math.max(...present);
  const cells = ys.flatMap((yv) =>
    xs.map((xv): HeatCell => {
      const value = values.get(`${xv}|${yv}`) ?? null;
      if (value === null) return { x: xv, y: yv, value, text: "–", title: `${x} ${xv}, ${y} ${yv}: no result`, color: BLANK_COLOR };
      const up = max > min ? (value - min) / (max - min) : 0.5;
      const text = format(value);
      return { x: xv, y: yv, value, text, title: `${x} ${xv}, ${y} ${yv}: ${text}`, color: heatColor(lowerIsBetter ? 1 - up : up) };
    }),
  );
  return { xs, ys, cells };
}

interface CellTextOptions {
  texts: string[];
}

declare module "chart.js" {
  interface PluginOptionsByType<TType extends ChartType> {
    /** Text written in each cell (the heat map's own plugin). */
    cellText?: CellTextOptions;
  }
}

/** Writes each cell's value (or "–") in its middle. */
const cellTextPlugin: Plugin<"matrix", CellTextOptions> = {
  id: "cellText",
  afterDatasetsDraw(chart, _args, options) {
    const { ctx } = chart;
    const texts = options.texts ?? [];
    ctx.save();
    ctx.font = `11px ${Chart.defaults.font.family}`;
    ctx.fillStyle = String(Chart.defaults.color);
    ctx.textBaseline = "middle";
    ctx.textAlign = "center";
    chart.getDatasetMeta(0).data.forEach((el, i) => {
      const { x, y } = el.tooltipPosition(true);
      if (texts[i] && x !== null && y !== null) ctx.fillText(texts[i], x, y);
    });
    ctx.restore();
  },
};

/** Chart.js's config for the grid: a matrix dataset over two category axes (the first y value on top). */
export function heatMapConfig(grid: HeatGrid, x: string, y: string): ChartConfiguration<"matrix"> {
  const { xs, ys, cells } = grid;
  const colors = cells.map((c) => c.color);
  return {
    type: "matrix",
    data: {
      datasets: [
        {
          data: cells.map((c) => ({ x: c.x, y: c.y, v: c.value ?? undefined })),
          backgroundColor: colors,
          hoverBackgroundColor: colors,
          borderWidth: 0,
          hoverBorderWidth: 2,
          hoverBorderColor: "#0f172a",
          borderRadius: 2,
          width: ({ chart }) => Math.max(0, (chart.chartArea?.width ?? 0) / xs.length - 2),
          height: ({ chart }) => Math.max(0, (chart.chartArea?.height ?? 0) / ys.length - 2),
        },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        x: { type: "category", labels: xs, offset: true, grid: { display: false }, border: { display: false }, title: { display: true, text: x, font: { weight: "bold" } } },
        y: { type: "category", labels: ys, offset: true, reverse: false, grid: { display: false }, border: { display: false }, title: { display: true, text: y, font: { weight: "bold" } } },
      },
      plugins: {
        cellText: { texts: cells.map((c) => c.text) },
        tooltip: {
          displayColors: false,
          callbacks: {
            title: () => "",
            label: (item) => cells[item.dataIndex]?.title ?? "",
          },
        },
      },
    },
    plugins: [cellTextPlugin],
  };
}

/** One cell per (x, y) parameter pair, coloured by a statistic; blank where no result exists. */
export function HeatMap(props: HeatMapProps) {
  if (!props.results.length) return <p className="muted">No results to draw.</p>;
  return <HeatMapChart {...props} />;
}

// Its own component so the canvas (and the chart on it) lives exactly as long as the hook.
function HeatMapChart({ results, x, y, stat, label = stat, lowerIsBetter = false, format = defaultFormat }: HeatMapProps) {
  const grid = useMemo(() => heatGrid({ results, x, y, stat, lowerIsBetter, format }), [results, x, y, stat, lowerIsBetter, format]);
  const config = useMemo(() => heatMapConfig(grid, x, y), [grid, x, y]);
  const canvasRef = useChart(config);
  // Room for the axis labels and titles around the cells, as before.
  const width = Math.min(70 + grid.xs.length * CELL_WIDTH + 10, 900);
  const height = 30 + grid.ys.length * CELL_HEIGHT + 34;
  return (
    <div className="heat-map" style={{ position: "relative", width, maxWidth: "100%", height }}>
      <canvas ref={canvasRef} role="img" aria-label={`${label} by ${x} and ${y}`} />
    </div>
  );
}
