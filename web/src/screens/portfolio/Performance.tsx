import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { api, call, type Schemas } from "../../api/client";
import { QueryView } from "../../components/Status";
import { TimeChart, type ChartSeries, type Point } from "../../components/TimeChart";
import { num, pct, rangeStart, signClass, toNumber, type Range } from "../../lib/format";
import { usePortfolioContext } from "../../lib/portfolios";
import { RangePicker } from "../Overview";

type SeriesPoint = Schemas["SeriesPoint"];

/** Cumulative returns since the range's start as an index that starts at 100. */
export function rebase(series: SeriesPoint[], field: "twr_cumulative" | "benchmark_cumulative"): Point[] {
  return series.flatMap((p) => {
    const v = toNumber(p[field]);
    return v === null ? [] : [{ time: p.date, value: 100 * (1 + v) }];
  });
}

export function drawdown(index: Point[]): Point[] {
  let peak = -Infinity;
  return index.map((p) => {
    peak = Math.max(peak, p.value);
    return { time: p.time, value: p.value / peak - 1 };
  });
}

/** Month by month returns from the cumulative series: {year: {month(1-12): return}}. */
export function monthlyReturns(series: SeriesPoint[]): Map<number, Map<number, number>> {
  const out = new Map<number, Map<number, number>>();
  let prevEnd: number | null = null;
  let current: string | null = null;
  let last: number | null = null;
  const close = () => {
    if (current && last !== null && prevEnd !== null) {
      const [y, m] = current.split("-").map(Number);
      if (!out.has(y)) out.set(y, new Map());
      out.get(y)!.set(m, last / prevEnd - 1);
    }
  };
  for (const p of series) {
    const v = toNumber(p.twr_cumulative);
    if (v === null) continue;
    const month = p.date.slice(0, 7);
    if (month !== current) {
      close();
      prevEnd = last ?? 1; // cumulative returns start from 1 at the range's start
      current = month;
    }
    last = 1 + v;
  }
  close();
  return out;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function Figures({ perf }: { perf: Schemas["PerformanceRead"] }) {
  const rows: [string, keyof Schemas["BenchmarkPerformance"] & keyof Schemas["PerformanceRead"], boolean][] = [
    ["Time-weighted return", "twr", true],
    ["TWR annualised", "twr_annualized", true],
    ["Money-weighted (XIRR)", "xirr", true],
    ["Max drawdown", "max_drawdown", true],
    ["Volatility (annualised)", "volatility", true],
    ["Sharpe ratio", "sharpe", false],
  ];
  return (
    <table className="figures-table">
      <thead>
        <tr>
          <th scope="col">Figure</th>
          <th scope="col" className="num">
            Portfolio
          </th>
          <th scope="col" className="num">
            {perf.benchmark.ticker}
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([label, key, isPct]) => {
          const a = perf[key] as string | null;
          const b = perf.benchmark[key] as string | null;
          return (
            <tr key={key}>
              <th scope="row">{label}</th>
              <td className={`num ${signClass(a)}`}>{isPct ? pct(a) : num(a, 2, 2)}</td>
              <td className={`num ${signClass(b)}`}>{isPct ? pct(b) : num(b, 2, 2)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function MonthlyTable({ series }: { series: SeriesPoint[] }) {
  const months = monthlyReturns(series);
  const years = [...months.keys()].sort();
  if (!years.length) return null;
  return (
    <div className="table-wrap">
      <table className="monthly">
        <caption>Monthly returns (time-weighted)</caption>
        <thead>
          <tr>
            <th scope="col">Year</th>
            {MONTHS.map((m) => (
              <th key={m} scope="col" className="num">
                {m}
              </th>
            ))}
            <th scope="col" className="num">
              Year
            </th>
          </tr>
        </thead>
        <tbody>
          {years.map((y) => {
            const row = months.get(y)!;
            const year = [...row.values()].reduce((acc, r) => acc * (1 + r), 1) - 1;
            return (
              <tr key={y}>
                <th scope="row">{y}</th>
                {MONTHS.map((m, i) => {
                  const r = row.get(i + 1);
                  return (
                    <td key={m} className={`num ${r === undefined ? "" : signClass(r)}`}>
                      {r === undefined ? "" : pct(r, 1)}
                    </td>
                  );
                })}
                <td className={`num ${signClass(year)}`}>{pct(year, 1)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export default function Performance() {
  const { portfolio } = usePortfolioContext();
  const slug = portfolio.slug;
  const [range, setRange] = useState<Range>("1Y");
  const [benchmark, setBenchmark] = useState(portfolio.benchmark);
  const [benchmarkDraft, setBenchmarkDraft] = useState(portfolio.benchmark);
  const start = rangeStart(range);
  const perf = useQuery({
    queryKey: ["performance", slug, start, "day", benchmark],
    queryFn: () =>
      call(api.GET("/portfolios/{slug}/performance", { params: { path: { slug }, query: { ...(start ? { start } : {}), benchmark } } })),
  });
  const charts = useMemo(() => {
    const s = perf.data?.series ?? [];
    const nav = rebase(s, "twr_cumulative");
    const bench = rebase(s, "benchmark_cumulative");
    const main: ChartSeries[] = [
      { id: "nav", kind: "line", label: `${portfolio.name} (rebased to 100)`, data: nav, color: "#2563eb" },
      { id: "bench", kind: "line", label: `${benchmark} (rebased to 100)`, data: bench, color: "#f59e0b" },
    ];
    const dd: ChartSeries[] = [{ id: "dd", kind: "area", label: "Drawdown", data: drawdown(nav).map((p) => ({ ...p, value: 100 * p.value })), color: "#b91c1c", percent: true }];
    return { main, dd };
  }, [perf.data, portfolio.name, benchmark]);

  return (
    <section className="stack" aria-labelledby="perf-title">
      <div className="section-head">
        <h2 id="perf-title">Performance</h2>
        <RangePicker value={range} onChange={setRange} />
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (benchmarkDraft.trim()) setBenchmark(benchmarkDraft.trim().toUpperCase());
          }}
        >
          <label htmlFor="perf-benchmark">Benchmark</label>
          <input id="perf-benchmark" value={benchmarkDraft} onChange={(e) => setBenchmarkDraft(e.target.value)} size={8} />
          <button type="submit">Compare</button>
        </form>
      </div>
      <QueryView query={perf} isEmpty={(d) => d.series.length === 0} empty="No history in this range.">
        {(d) => (
          <>
            {d.reason && <p className="warning">{d.reason}</p>}
            <TimeChart series={charts.main} label={`${portfolio.name} against ${benchmark}, rebased to 100`} />
            <TimeChart series={charts.dd} height={160} label="Drawdown of the portfolio" />
            <Figures perf={d} />
            {d.xirr_reason && <p className="muted small">XIRR: {d.xirr_reason}</p>}
            <MonthlyTable series={d.series} />
          </>
        )}
      </QueryView>
    </section>
  );
}
