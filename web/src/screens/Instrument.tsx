import { useQuery } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";
import { useNavigate, useParams } from "react-router";
import { api, call } from "../api/client";
import { ErrorBox, Loading, QueryView } from "../components/Status";
import { TimeChart, type ChartSeries, type Marker } from "../components/TimeChart";
import { clampedRangeStart, num, toNumber, type Range } from "../lib/format";
import { RangePicker } from "./Overview";

const INDICATORS: { name: string; label: string; columns: string[]; colors: string[] }[] = [
  { name: "sma_20", label: "SMA 20", columns: ["sma_20"], colors: ["#2563eb"] },
  { name: "sma_50", label: "SMA 50", columns: ["sma_50"], colors: ["#7c3aed"] },
  { name: "sma_200", label: "SMA 200", columns: ["sma_200"], colors: ["#0f766e"] },
  { name: "ema_20", label: "EMA 20", columns: ["ema_20"], colors: ["#db2777"] },
  { name: "bbands_20_2", label: "Bollinger 20, 2", columns: ["bbands_20_2_upper", "bbands_20_2_middle", "bbands_20_2_lower"], colors: ["#94a3b8", "#64748b", "#94a3b8"] },
];

function TickerSearch({ initial }: { initial?: string }) {
  const [value, setValue] = useState(initial ?? "");
  const navigate = useNavigate();
  function go(e: FormEvent) {
    e.preventDefault();
    const t = value.trim().toUpperCase();
    if (t) navigate(`/instruments/${encodeURIComponent(t)}`);
  }
  return (
    <form className="inline-form" onSubmit={go} role="search">
      <label htmlFor="ticker-search">Ticker</label>
      <input id="ticker-search" value={value} onChange={(e) => setValue(e.target.value)} size={10} />
      <button type="submit">Show</button>
    </form>
  );
}

export default function Instrument() {
  const { ticker: raw } = useParams();
  const ticker = raw?.toUpperCase();
  const [range, setRange] = useState<Range>("1Y");
  const [chosen, setChosen] = useState<string[]>(["sma_20", "sma_50"]);
  const window = { start: clampedRangeStart(range) };

  const info = useQuery({
    queryKey: ["ticker", ticker],
    queryFn: () => call(api.GET("/market/tickers/{ticker}", { params: { path: { ticker: ticker! } } })),
    enabled: !!ticker,
  });
  const prices = useQuery({
    queryKey: ["prices", ticker, window.start],
    queryFn: () => call(api.GET("/market/tickers/{ticker}/prices", { params: { path: { ticker: ticker! }, query: window } })),
    enabled: !!ticker,
  });
  const actions = useQuery({
    queryKey: ["actions", ticker, window.start],
    queryFn: () => call(api.GET("/market/tickers/{ticker}/actions", { params: { path: { ticker: ticker! }, query: window } })),
    enabled: !!ticker,
  });
  const indicators = useQuery({
    queryKey: ["indicators", ticker, window.start, chosen.join(",")],
    queryFn: () => call(api.GET("/market/tickers/{ticker}/indicators", { params: { path: { ticker: ticker! }, query: { ...window, names: chosen.join(",") } } })),
    enabled: !!ticker && chosen.length > 0,
  });

  const hasSplit = (actions.data?.items ?? []).some((a) => a.type === "split");
  const rows = useMemo(() => indicators.data?.items ?? [], [indicators.data]);
  // Indicators are computed on split-adjusted bars: with a split in the range, draw the candles
  // from those same adjusted bars so that the lines sit on them.
  const adjusted = hasSplit && rows.length > 0;

  const series = useMemo<ChartSeries[]>(() => {
    const bars = adjusted
      ? rows.map((r) => ({ date: r.date, open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume }))
      : (prices.data?.items ?? []);
    const markers: Marker[] = (actions.data?.items ?? []).map((a) =>
      a.type === "split"
        ? { time: a.ex_date, position: "aboveBar", shape: "arrowDown", color: "#7c3aed", text: `Split ${a.split_to}:${a.split_from}` }
        : { time: a.ex_date, position: "belowBar", shape: "circle", color: "#0f766e", text: `Div ${num(a.cash_amount, 4)}` },
    );
    const dates = new Set(bars.map((b) => b.date));
    const out: ChartSeries[] = [
      {
        id: "candles",
        kind: "candles",
        label: `${ticker} daily`,
        color: "#15803d",
        data: bars.map((b) => ({ time: b.date, open: Number(b.open), high: Number(b.high), low: Number(b.low), close: Number(b.close) })),
        markers: markers.filter((m) => dates.has(String(m.time))),
      },
      {
        id: "volume",
        kind: "histogram",
        label: "Volume",
        overlay: true,
        color: "#cbd5e1",
        data: bars.map((b) => ({ time: b.date, value: b.volume, color: Number(b.close) >= Number(b.open) ? "rgba(21,128,61,0.35)" : "rgba(185,28,28,0.35)" })),
      },
    ];
    for (const ind of INDICATORS.filter((i) => chosen.includes(i.name))) {
      ind.columns.forEach((col, i) => {
        out.push({
          id: col,
          kind: "line",
          label: col.replace(/_/g, " "),
          color: ind.colors[i],
          data: rows.flatMap((r) => {
            const v = toNumber(r[col]);
            return v === null || !dates.has(r.date) ? [] : [{ time: r.date, value: v }];
          }),
        });
      });
    }
    return out;
  }, [prices.data, actions.data, rows, adjusted, chosen, ticker]);

  if (!ticker) {
    return (
      <section className="stack">
        <h1>Instruments</h1>
        <TickerSearch />
      </section>
    );
  }

  const toggle = (name: string) => setChosen((c) => (c.includes(name) ? c.filter((x) => x !== name) : [...c, name]));

  return (
    <section className="stack" aria-labelledby="inst-title">
      <div className="section-head">
        <h1 id="inst-title">{ticker}</h1>
        <TickerSearch key={ticker} initial={ticker} />
      </div>
      {info.error ? (
        <ErrorBox error={info.error} />
      ) : info.data ? (
        <p className="muted">
          {info.data.name} · {info.data.exchange ?? "exchange unknown"} · {info.data.asset_type ?? ""} · sector {info.data.sector} · {info.data.currency} · data from{" "}
          {info.data.provider}
          {info.data.stale && <strong> (stale)</strong>}
        </p>
      ) : (
        <Loading />
      )}
      <div className="section-head">
        <RangePicker value={range} onChange={setRange} />
        <fieldset className="checks">
          <legend>Indicators</legend>
          {INDICATORS.map((i) => (
            <span key={i.name} className="check">
              <input type="checkbox" id={`ind-${i.name}`} checked={chosen.includes(i.name)} onChange={() => toggle(i.name)} />
              <label htmlFor={`ind-${i.name}`}>{i.label}</label>
            </span>
          ))}
        </fieldset>
      </div>
      <ErrorBox error={actions.error} title="Corporate actions" />
      <ErrorBox error={indicators.error} title="Indicators" />
      <QueryView query={prices} isEmpty={(d) => d.items.length === 0} empty="No prices in this range.">
        {(d) => (
          <>
            {d.stale && <p className="warning">These prices are stale: the provider could not be reached.</p>}
            <TimeChart series={series} height={420} label={`${ticker} daily candles and volume${chosen.length ? ` with ${chosen.join(", ")}` : ""}`} />
            <p className="muted small">
              {d.items.length} bars from {d.provider}
              {adjusted ? ", split-adjusted to match the indicators" : ""}. Split and dividend ex-dates are marked on the candles.
            </p>
          </>
        )}
      </QueryView>
      {actions.data && actions.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption>Corporate actions</caption>
            <thead>
              <tr>
                <th scope="col">Ex-date</th>
                <th scope="col">Type</th>
                <th scope="col">Detail</th>
                <th scope="col">Pay date</th>
              </tr>
            </thead>
            <tbody>
              {actions.data.items.map((a) => (
                <tr key={`${a.type}-${a.ex_date}`}>
                  <td>{a.ex_date}</td>
                  <td>{a.type === "split" ? "Split" : "Cash dividend"}</td>
                  <td className="num">{a.type === "split" ? `${a.split_to} for ${a.split_from}` : `${num(a.cash_amount, 4)} ${a.currency}`}</td>
                  <td>{a.pay_date ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
