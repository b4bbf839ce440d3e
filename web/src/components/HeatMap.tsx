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

/** One cell per (x, y) parameter pair, coloured by a statistic; blank where no result exists. */
export function HeatMap({ results, x, y, stat, label = stat, lowerIsBetter = false, format = (v) => v.toFixed(3) }: HeatMapProps) {
  const better = lowerIsBetter ? Math.min : Math.max;
  const xs = sortValues(results.map((r) => r.params[x]));
  const ys = sortValues(results.map((r) => r.params[y]));
  const cells = new Map<string, number | null>();
  for (const r of results) {
    const raw = r.stats[stat];
    const value = typeof raw === "number" && Number.isFinite(raw) ? raw : null;
    const k = `${key(r.params[x])}|${key(r.params[y])}`;
    // Several results may share (x, y) when other parameters vary: keep the best.
    const prev = cells.get(k);
    cells.set(k, prev === undefined || prev === null ? value : value === null ? prev : better(prev, value));
  }
  const values = [...cells.values()].filter((v): v is number => v !== null);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const cw = 64;
  const ch = 30;
  const left = 70;
  const top = 30;
  const width = left + xs.length * cw + 10;
  const height = top + ys.length * ch + 34;
  if (!results.length) return <p className="muted">No results to draw.</p>;
  return (
    <svg className="heat-map" viewBox={`0 0 ${width} ${height}`} width={Math.min(width, 900)} role="img" aria-label={`${label} by ${x} and ${y}`}>
      <text x={left + (xs.length * cw) / 2} y={height - 6} textAnchor="middle" className="axis-title">
        {x}
      </text>
      <text x={12} y={top + (ys.length * ch) / 2} textAnchor="middle" className="axis-title" transform={`rotate(-90 12 ${top + (ys.length * ch) / 2})`}>
        {y}
      </text>
      {xs.map((xv, i) => (
        <text key={`x${xv}`} x={left + i * cw + cw / 2} y={top + ys.length * ch + 14} textAnchor="middle" className="axis-label">
          {xv}
        </text>
      ))}
      {ys.map((yv, j) => (
        <text key={`y${yv}`} x={left - 6} y={top + j * ch + ch / 2 + 4} textAnchor="end" className="axis-label">
          {yv}
        </text>
      ))}
      {ys.map((yv, j) =>
        xs.map((xv, i) => {
          const v = cells.get(`${xv}|${yv}`);
          const has = v !== undefined && v !== null;
          const up = has && max > min ? (v - min) / (max - min) : 0.5;
          const t = lowerIsBetter ? 1 - up : up;
          const text = has ? format(v) : "–";
          return (
            <g key={`${xv}|${yv}`} data-testid="heat-cell" data-x={xv} data-y={yv}>
              <title>{`${x} ${xv}, ${y} ${yv}: ${has ? text : "no result"}`}</title>
              <rect x={left + i * cw} y={top + j * ch} width={cw - 2} height={ch - 2} rx={2} fill={has ? heatColor(t) : "#e2e8f0"} />
              <text x={left + i * cw + cw / 2 - 1} y={top + j * ch + ch / 2 + 4} textAnchor="middle" className="cell-value">
                {text}
              </text>
            </g>
          );
        }),
      )}
    </svg>
  );
}
