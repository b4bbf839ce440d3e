import {
  AreaSeries,
  CandlestickSeries,
  ColorType,
  createChart,
  createSeriesMarkers,
  HistogramSeries,
  LineSeries,
  type IChartApi,
  type ISeriesApi,
  type SeriesMarker,
  type SeriesType,
  type Time,
} from "lightweight-charts";
import { useEffect, useRef } from "react";

export interface Point {
  time: string;
  value: number;
  color?: string;
}

export interface Candle {
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
}

export type Marker = SeriesMarker<Time>;

interface Common {
  id: string;
  label: string;
  color?: string;
  /** 0 is the main pane; 1 and up are panes below it. */
  pane?: number;
  markers?: Marker[];
  /** A separate price scale (volume under candles). */
  overlay?: boolean;
  /** Values in percent points (-4.5 for -4.5 %), shown with a % sign. */
  percent?: boolean;
}

export type ChartSeries =
  | (Common & { kind: "line" | "area" | "histogram"; data: Point[] })
  | (Common & { kind: "candles"; data: Candle[] });

/** A lightweight-charts time-series chart, created in an effect and removed on cleanup. */
export function TimeChart({
  series,
  height = 320,
  label,
  priceFormatter,
}: {
  series: ChartSeries[];
  height?: number;
  label: string;
  /** The price axis's and crosshair's numbers (keep it stable: a new function redraws the chart). */
  priceFormatter?: (price: number) => string;
}) {
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = container.current;
    if (!el) return;
    let chart: IChartApi;
    try {
      chart = createChart(el, {
        height,
        autoSize: true,
        layout: { background: { type: ColorType.Solid, color: "#ffffff" }, textColor: "#334155", attributionLogo: false },
        grid: { vertLines: { color: "#eef2f7" }, horzLines: { color: "#eef2f7" } },
        rightPriceScale: { borderColor: "#cbd5e1" },
        timeScale: { borderColor: "#cbd5e1" },
        ...(priceFormatter ? { localization: { priceFormatter } } : {}),
      });
    } catch {
      return; // no canvas (tests, very old browsers): the legend still says what is drawn
    }
    for (const s of series) {
      let api: ISeriesApi<SeriesType>;
      const priceFormat = s.percent ? { type: "percent" as const } : undefined;
      if (s.kind === "candles") {
        const c = chart.addSeries(CandlestickSeries, { upColor: "#15803d", downColor: "#b91c1c", wickUpColor: "#15803d", wickDownColor: "#b91c1c", borderVisible: false }, s.pane ?? 0);
        c.setData(s.data);
        api = c;
      } else if (s.kind === "histogram") {
        const h = chart.addSeries(HistogramSeries, { color: s.color ?? "#94a3b8", priceScaleId: s.overlay ? s.id : undefined, priceFormat: s.overlay ? { type: "volume" } : priceFormat }, s.pane ?? 0);
        if (s.overlay) h.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
        h.setData(s.data);
        api = h;
      } else if (s.kind === "area") {
        const a = chart.addSeries(AreaSeries, { lineColor: s.color ?? "#2563eb", topColor: "rgba(185,28,28,0.05)", bottomColor: "rgba(185,28,28,0.35)", lineWidth: 1, priceFormat, invertFilledArea: false }, s.pane ?? 0);
        a.setData(s.data);
        api = a;
      } else {
        const l = chart.addSeries(LineSeries, { color: s.color ?? "#2563eb", lineWidth: 2, priceFormat, title: s.label }, s.pane ?? 0);
        l.setData(s.data);
        api = l;
      }
      if (s.markers?.length) createSeriesMarkers(api, [...s.markers].sort((a, b) => String(a.time).localeCompare(String(b.time))));
    }
    chart.timeScale().fitContent();
    return () => chart.remove();
  }, [series, height, priceFormatter]);

  return (
    <figure className="chart">
      <div ref={container} className="chart-canvas" style={{ height }} role="img" aria-label={label} />
      <figcaption className="legend">
        {series.map((s) => (
          <span key={s.id} className="legend-item">
            <span className="swatch" style={{ background: s.color ?? "#2563eb" }} aria-hidden="true" />
            {s.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
