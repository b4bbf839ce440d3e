import { Chart, type ChartConfiguration, type ChartType } from "chart.js";
import { useEffect, useRef } from "react";

// Chart.js is tree-shaken: each chart component registers only the controllers, elements,
// scales and plugins it draws with. These are the defaults both share (the dashboard's font).
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
Chart.defaults.font.size = 12;
Chart.defaults.color = "#0f172a";

/**
 * A Chart.js chart on the returned canvas ref: created in an effect, destroyed on cleanup.
 * A later config (keep it memoised) updates the same chart rather than drawing a new one, so a
 * parent's re-render neither flickers nor drops an open tooltip.
 * Without a 2D context (tests under happy-dom, very old browsers) nothing is drawn; the canvas
 * keeps its role and accessible name.
 */
export function useChart<T extends ChartType>(config: ChartConfiguration<T>) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const chartRef = useRef<Chart<T> | null>(null);
  const configRef = useRef(config);

  // Declared first, so on mount it runs before the chart is created (and does nothing).
  useEffect(() => {
    configRef.current = config;
    const chart = chartRef.current;
    if (!chart || chart.config.data === config.data) return;
    chart.data = config.data;
    if (config.options) chart.options = config.options;
    chart.update();
  }, [config]);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    let chart: Chart<T>;
    try {
      if (!canvas.getContext("2d")) return;
      chart = new Chart(canvas, configRef.current);
    } catch {
      return;
    }
    chartRef.current = chart;
    return () => {
      chartRef.current = null;
      chart.destroy();
    };
  }, []);

  return canvasRef;
}
