export interface Bar {
  label: string;
  value: number;
  /** Shown at the end of the bar; the value as a percentage when absent. */
  text?: string;
}

/** Labels longer than this are cut with an ellipsis (the bar's <title> names it in full). */
const MAX_LABEL = 24;

export function shortLabel(label: string): string {
  return label.length > MAX_LABEL ? `${label.slice(0, MAX_LABEL - 1).trimEnd()}…` : label;
}

/** Horizontal bars in plain SVG (weights: fractions of the whole). */
export function BarChart({ bars, label, width = 560 }: { bars: Bar[]; label: string; width?: number }) {
  const rowHeight = 26;
  const labelWidth = 180; // room for "Communication Services" at 12px
  const textWidth = 90;
  const max = Math.max(0, ...bars.map((b) => Math.abs(b.value))) || 1;
  const plot = width - labelWidth - textWidth;
  const height = bars.length * rowHeight + 8;
  return (
    <svg className="bar-chart" viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-label={label}>
      {bars.map((b, i) => {
        const y = 4 + i * rowHeight;
        const w = (Math.abs(b.value) / max) * plot;
        const text = b.text ?? `${(b.value * 100).toFixed(2)} %`;
        return (
          <g key={b.label}>
            <title>{`${b.label}: ${text}`}</title>
            <text x={labelWidth - 8} y={y + 16} textAnchor="end" className="bar-label">
              {shortLabel(b.label)}
            </text>
            <rect x={labelWidth} y={y + 3} width={Math.max(w, 1)} height={rowHeight - 8} rx={3} className={b.value < 0 ? "bar neg" : "bar"} />
            <text x={labelWidth + w + 6} y={y + 16} className="bar-value">
              {text}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
