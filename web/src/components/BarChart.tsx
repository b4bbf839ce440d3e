import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip, type ChartConfiguration, type ChartType, type Plugin } from "chart.js";
import { useMemo } from "react";
import { useChart } from "./useChart";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

export interface Bar {
  label: string;
  value: number;
  /** Shown at the end of the bar; the value as a percentage when absent. */
  text?: string;
}

/** Labels longer than this are cut with an ellipsis (the bar's tooltip names it in full). */
const MAX_LABEL = 24;

export function shortLabel(label: string): string {
  return label.length > MAX_LABEL ? `${label.slice(0, MAX_LABEL - 1).trimEnd()}…` : label;
}

export const BAR_COLOR = "#3b82f6";
export const NEG_COLOR = "#b91c1c"; // --neg
const ROW_HEIGHT = 26;
/** Room right of the longest bar for its text. */
const TEXT_WIDTH = 90;

export function barText(bar: Bar): string {
  return bar.text ?? `${(bar.value * 100).toFixed(2)} %`;
}

interface BarTextOptions {
  texts: string[];
}

declare module "chart.js" {
  interface PluginOptionsByType<TType extends ChartType> {
    /** Text drawn after each bar (the bar chart's own plugin). */
    barText?: BarTextOptions;
  }
}

/** Writes each bar's text just past its end. */
const barTextPlugin: Plugin<"bar", BarTextOptions> = {
  id: "barText",
  afterDatasetsDraw(chart, _args, options) {
    const { ctx } = chart;
    const texts = options.texts ?? [];
    ctx.save();
    ctx.font = `${Chart.defaults.font.size}px ${Chart.defaults.font.family}`;
    ctx.fillStyle = String(Chart.defaults.color);
    ctx.textBaseline = "middle";
    ctx.textAlign = "left";
    chart.getDatasetMeta(0).data.forEach((el, i) => {
      const { x, y } = el.getProps(["x", "y"], true);
      if (texts[i]) ctx.fillText(texts[i], x + 6, y);
    });
    ctx.restore();
  },
};

/** Chart.js's config for horizontal bars: lengths are |value| (negatives in red), labels cut, the full name in the tooltip. */
export function barChartConfig(bars: Bar[]): ChartConfiguration<"bar"> {
  const max = Math.max(0, ...bars.map((b) => Math.abs(b.value))) || 1;
  const texts = bars.map(barText);
  const colors = bars.map((b) => (b.value < 0 ? NEG_COLOR : BAR_COLOR));
  return {
    type: "bar",
    data: {
      labels: bars.map((b) => shortLabel(b.label)),
      datasets: [
        {
          data: bars.map((b) => Math.abs(b.value)),
          backgroundColor: colors,
          hoverBackgroundColor: colors,
          borderRadius: 3,
          minBarLength: 1,
          categoryPercentage: 1,
          barPercentage: (ROW_HEIGHT - 8) / ROW_HEIGHT,
        },
      ],
    },
    options: {
      indexAxis: "y",
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      layout: { padding: { right: TEXT_WIDTH, top: 4, bottom: 4 } },
      scales: {
        x: { type: "linear", display: false, min: 0, max },
        y: { type: "category", grid: { display: false }, border: { display: false } },
      },
      plugins: {
        barText: { texts },
        tooltip: {
          displayColors: false,
          callbacks: {
            title: (items) => (items[0] ? bars[items[0].dataIndex].label : ""),
            label: (item) => texts[item.dataIndex],
          },
        },
      },
    },
    plugins: [barTextPlugin],
  };
}

/** Horizontal bars drawn by Chart.js (weights: fractions of the whole). At most `width` pixels wide. */
export function BarChart({ bars, label, width = 560 }: { bars: Bar[]; label: string; width?: number }) {
  const config = useMemo(() => barChartConfig(bars), [bars]);
  const canvasRef = useChart(config);
  const height = bars.length * ROW_HEIGHT + 8;
  return (
    <div className="bar-chart" style={{ position: "relative", height, maxWidth: width }}>
      <canvas ref={canvasRef} role="img" aria-label={label} />
    </div>
  );
}
