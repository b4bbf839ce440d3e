import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { useOutletContext } from "react-router";
import { api, call, type Schemas } from "../api/client";
import { Field } from "../components/Field";
import { HeatMap } from "../components/HeatMap";
import { ErrorBox, Loading, QueryView } from "../components/Status";
import { TimeChart, type ChartSeries, type Marker } from "../components/TimeChart";
import { canTrade, type User } from "../lib/auth";
import { dateTime, isoDate, money, num, pct, signClass, today, toNumber } from "../lib/format";
import { KIND_PARAMS, KINDS } from "./Strategies";

type Backtest = Schemas["BacktestRead"];
type Kind = (typeof KINDS)[number];
const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
const PERCENT_STATS = new Set(["total_return", "buy_hold_return", "annualized_return", "volatility", "max_drawdown", "win_rate", "best_trade", "worst_trade", "avg_trade", "exposure"]);
const MONEY_STATS = new Set(["commissions", "equity_final", "equity_peak", "expectancy"]);

/** Statistics where lower is better (a heat map's green, a ranking's first). */
export const LOWER_IS_BETTER = new Set(["max_drawdown", "volatility"]);
const STAT_LABELS: Record<string, string> = {
  total_return: "Total return",
  buy_hold_return: "Buy & hold return",
  annualized_return: "Annualized return",
  volatility: "Volatility (annualized)",
  sharpe: "Sharpe ratio",
  sortino: "Sortino ratio",
  max_drawdown: "Max drawdown",
  max_drawdown_peak: "Max drawdown peak",
  max_drawdown_trough: "Max drawdown trough",
  calmar: "Calmar ratio",
  trades: "Trades",
  win_rate: "Win rate",
  best_trade: "Best trade",
  worst_trade: "Worst trade",
  avg_trade: "Average trade",
  profit_factor: "Profit factor",
  expectancy: "Expectancy",
  sqn: "SQN",
  exposure: "Exposure",
  commissions: "Commissions",
  equity_final: "Final equity",
  equity_peak: "Peak equity",
};

export function statLabel(name: string): string {
  const words = name.replace(/_/g, " ");
  return STAT_LABELS[name] ?? words.charAt(0).toUpperCase() + words.slice(1);
}

/** A statistic for display; the drawdown (positive in the API) as a fall, as on the Performance screen. */
export function formatStat(name: string, value: unknown): string {
  if (typeof value === "number") {
    if (name === "max_drawdown") return pct(value === 0 ? 0 : -value);
    return PERCENT_STATS.has(name) ? pct(value) : MONEY_STATS.has(name) ? money(value) : num(value, 3);
  }
  if (value === null || value === undefined) return "—";
  return String(value);
}

/** Statistics whose sign says good or bad (green or red). */
const SIGNED_STATS = new Set(["total_return", "buy_hold_return", "annualized_return", "sharpe", "sortino", "calmar", "best_trade", "worst_trade", "avg_trade", "expectancy"]);

/** The colour class of a statistic: a drawdown red, returns by their sign, the rest neutral. */
export function statClass(name: string, value: unknown): string {
  if (typeof value !== "number") return "";
  if (name === "max_drawdown") return value > 0 ? "neg" : "";
  return SIGNED_STATS.has(name) ? signClass(value) : "";
}

/** Sweep results, best first by a statistic (results without it last). */
export function rankBy<T extends { stats: Record<string, unknown> }>(results: T[], stat: string): T[] {
  const sign = LOWER_IS_BETTER.has(stat) ? 1 : -1;
  const value = (r: T) => {
    const v = r.stats[stat];
    return typeof v === "number" && Number.isFinite(v) ? v : null;
  };
  return [...results].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    if (x === null || y === null) return x === null ? (y === null ? 0 : 1) : -1;
    return sign * (x - y);
  });
}

function parseList(text: string): number[] {
  return text
    .split(/[\s,;]+/)
    .filter(Boolean)
    .map(Number);
}

function RunForm({ onStarted }: { onStarted: (id: number) => void }) {
  const yearsAgo = new Date();
  yearsAgo.setFullYear(yearsAgo.getFullYear() - 3);
  const [mode, setMode] = useState<"single" | "sweep">("single");
  const [kind, setKind] = useState<Kind>("sma_cross");
  const [params, setParams] = useState<Record<string, string>>(() => Object.fromEntries(Object.entries(KIND_PARAMS.sma_cross).map(([k, v]) => [k, String(v)])));
  const [grid, setGrid] = useState<Record<string, string>>({ fast: "5, 10, 15, 20", slow: "30, 40, 50, 60" });
  const [ticker, setTicker] = useState("SPY");
  const [start, setStart] = useState(isoDate(yearsAgo));
  const [end, setEnd] = useState(today());
  const [cash, setCash] = useState("100000");
  const [commission, setCommission] = useState("0.001");
  const [fill, setFill] = useState<Schemas["Fill"]>("next_open");
  const [problem, setProblem] = useState<string | null>(null);
  const queryClient = useQueryClient();

  const run = useMutation({
    mutationFn: async (): Promise<Backtest> => {
      const fixed = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Number(v)]));
      const common = { ticker: ticker.trim().toUpperCase(), start, end, cash, commission, fill, risk_free_rate: "0" };
      if (mode === "single") return call(api.POST("/backtests", { body: { ...common, kind, params: fixed } }));
      const gridValues: Record<string, number[]> = {};
      const rest: Record<string, number> = {};
      for (const [k, v] of Object.entries(fixed)) {
        const list = parseList(grid[k] ?? "");
        if (list.length) gridValues[k] = list;
        else rest[k] = v;
      }
      return call(api.POST("/backtests/sweep", { body: { ...common, kind, params: rest, grid: gridValues } }));
    },
    onSuccess: (bt) => {
      void queryClient.invalidateQueries({ queryKey: ["backtests"] });
      onStarted(bt.id);
    },
  });

  function changeKind(k: Kind) {
    setKind(k);
    setParams(Object.fromEntries(Object.entries(KIND_PARAMS[k]).map(([p, v]) => [p, String(v)])));
    setGrid({});
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    if (!/^[A-Za-z0-9.\-]{1,20}$/.test(ticker.trim())) return setProblem("Enter a ticker.");
    if (!start) return setProblem("Choose a start date.");
    if (end && start > end) return setProblem("The start must be before the end.");
    if (!(Number(cash) > 0)) return setProblem("Cash must be above 0.");
    if (!(Number(commission) >= 0 && Number(commission) < 0.1)) return setProblem("Commission must be at least 0 and below 0.1.");
    const values = [...Object.values(params), ...(mode === "sweep" ? Object.values(grid).flatMap((g) => parseList(g).map(String)) : [])];
    if (values.some((v) => !Number.isFinite(Number(v)))) return setProblem("Parameters must be numbers.");
    if (mode === "sweep" && !Object.values(grid).some((g) => parseList(g).length > 0)) return setProblem("Give at least one parameter a list of values.");
    setProblem(null);
    run.mutate();
  }

  return (
    <form className="card form-grid" onSubmit={submit} noValidate aria-labelledby="bt-form-title">
      <h2 id="bt-form-title">Run a backtest</h2>
      <fieldset className="segmented-field">
        <legend>Mode</legend>
        <span className="check">
          <input type="radio" id="bt-single" name="bt-mode" checked={mode === "single"} onChange={() => setMode("single")} />
          <label htmlFor="bt-single">Single</label>
        </span>
        <span className="check">
          <input type="radio" id="bt-sweep" name="bt-mode" checked={mode === "sweep"} onChange={() => setMode("sweep")} />
          <label htmlFor="bt-sweep">Sweep (grid)</label>
        </span>
      </fieldset>
      <Field id="bt-kind" label="Kind">
        <select id="bt-kind" value={kind} onChange={(e) => changeKind(e.target.value as Kind)}>
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </Field>
      {Object.keys(params).map((p) => (
        <Field key={p} id={`bt-param-${p}`} label={mode === "sweep" ? `${p} (fixed)` : p}>
          <input id={`bt-param-${p}`} inputMode="decimal" value={params[p]} onChange={(e) => setParams((x) => ({ ...x, [p]: e.target.value }))} />
        </Field>
      ))}
      {mode === "sweep" &&
        Object.keys(params).map((p) => (
          <Field key={`g-${p}`} id={`bt-grid-${p}`} label={`${p} values`} hint="comma-separated; empty keeps the fixed value">
            <input id={`bt-grid-${p}`} value={grid[p] ?? ""} onChange={(e) => setGrid((x) => ({ ...x, [p]: e.target.value }))} />
          </Field>
        ))}
      <Field id="bt-ticker" label="Ticker">
        <input id="bt-ticker" value={ticker} onChange={(e) => setTicker(e.target.value)} />
      </Field>
      <Field id="bt-start" label="Start">
        <input id="bt-start" type="date" value={start} onChange={(e) => setStart(e.target.value)} />
      </Field>
      <Field id="bt-end" label="End">
        <input id="bt-end" type="date" value={end} onChange={(e) => setEnd(e.target.value)} />
      </Field>
      <Field id="bt-cash" label="Cash">
        <input id="bt-cash" inputMode="decimal" value={cash} onChange={(e) => setCash(e.target.value)} />
      </Field>
      <Field id="bt-commission" label="Commission (fraction)">
        <input id="bt-commission" inputMode="decimal" value={commission} onChange={(e) => setCommission(e.target.value)} />
      </Field>
      <Field id="bt-fill" label="Fill">
        <select id="bt-fill" value={fill} onChange={(e) => setFill(e.target.value as Schemas["Fill"])}>
          <option value="next_open">Next open</option>
          <option value="close">Same close</option>
        </select>
      </Field>
      <div className="form-actions">
        <button type="submit" className="primary" disabled={run.isPending}>
          {run.isPending ? "Starting…" : mode === "sweep" ? "Run sweep" : "Run backtest"}
        </button>
      </div>
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
      <ErrorBox error={run.error} />
    </form>
  );
}

function str(v: unknown): string {
  return typeof v === "string" || typeof v === "number" ? String(v) : "";
}

function SingleResult({ bt }: { bt: Backtest }) {
  const cash = toNumber(str(bt.request.cash)) ?? 100000;
  const equity = useMemo(() => bt.equity ?? [], [bt.equity]);
  const first = equity[0]?.date;
  const last = equity[equity.length - 1]?.date;
  const prices = useQuery({
    queryKey: ["prices", bt.ticker, first, last],
    queryFn: () => call(api.GET("/market/tickers/{ticker}/prices", { params: { path: { ticker: bt.ticker }, query: { start: first!, end: last! } } })),
    enabled: !!first && !!last,
    staleTime: 3_600_000,
  });
  const series = useMemo<ChartSeries[]>(() => {
    const markers: Marker[] = [];
    for (const t of bt.trades ?? []) {
      markers.push({ time: t.entry_date, position: "belowBar", shape: "arrowUp", color: "#15803d", text: "Buy" });
      markers.push({ time: t.exit_date, position: "aboveBar", shape: "arrowDown", color: "#b91c1c", text: "Sell" });
    }
    if (bt.open_trade) markers.push({ time: bt.open_trade.entry_date, position: "belowBar", shape: "arrowUp", color: "#15803d", text: "Buy (open)" });
    const bars = prices.data?.items ?? [];
    const base = toNumber(bars[0]?.adj_close) ?? toNumber(bars[0]?.close);
    return [
      { id: "equity", kind: "line", label: "Strategy equity (rebased to 100)", color: "#2563eb", data: equity.map((e) => ({ time: e.date, value: (100 * Number(e.equity)) / cash })), markers },
      {
        id: "bh",
        kind: "line",
        label: `Buy and hold ${bt.ticker} (rebased to 100)`,
        color: "#f59e0b",
        data: base ? bars.map((b) => ({ time: b.date, value: (100 * (toNumber(b.adj_close) ?? Number(b.close))) / base })) : [],
      },
    ];
  }, [bt, equity, cash, prices.data]);
  const stats = bt.stats ?? {};
  return (
    <div className="stack">
      <TimeChart series={series} label={`Equity of the backtest against buy and hold of ${bt.ticker}, entries and exits marked`} />
      <ErrorBox error={prices.error} title="Buy and hold prices" />
      <div className="two-col">
        <div className="table-wrap">
          <table className="figures-table">
            <caption>Statistics</caption>
            <tbody>
              {Object.entries(stats).map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{statLabel(k)}</th>
                  <td className={`num ${statClass(k, v)}`}>{formatStat(k, v)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div>
          <div className="table-wrap">
            <table>
              <caption>Round trips</caption>
              <thead>
                <tr>
                  <th scope="col">Entry</th>
                  <th scope="col">Exit</th>
                  <th scope="col" className="num">Qty</th>
                  <th scope="col" className="num">Entry price</th>
                  <th scope="col" className="num">Exit price</th>
                  <th scope="col" className="num">P&amp;L</th>
                  <th scope="col" className="num">Return</th>
                </tr>
              </thead>
              <tbody>
                {(bt.trades ?? []).map((t) => (
                  <tr key={`${t.entry_date}-${t.exit_date}`}>
                    <td>{t.entry_date}</td>
                    <td>{t.exit_date}</td>
                    <td className="num">{num(t.quantity)}</td>
                    <td className="num">{money(t.entry_price)}</td>
                    <td className="num">{money(t.exit_price)}</td>
                    <td className={`num ${signClass(t.pnl)}`}>{money(t.pnl)}</td>
                    <td className={`num ${signClass(t.return)}`}>{pct(t.return)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {bt.open_trade && (
            <p className="muted">
              Open: {num(bt.open_trade.quantity)} since {bt.open_trade.entry_date} at {money(bt.open_trade.entry_price)}, now {money(bt.open_trade.market_price)} (
              <span className={signClass(bt.open_trade.unrealized_pnl)}>{money(bt.open_trade.unrealized_pnl)}</span>)
            </p>
          )}
        </div>
      </div>
    </div>
  );
}

export function SweepResult({ bt }: { bt: Backtest }) {
  const results = bt.results ?? [];
  const paramNames = [...new Set(results.flatMap((r) => Object.keys(r.params)))];
  const varying = paramNames.filter((p) => new Set(results.map((r) => String(r.params[p]))).size > 1);
  const statNames = [...new Set(results.flatMap((r) => Object.keys(r.stats)))].filter((s) => results.some((r) => typeof r.stats[s] === "number"));
  const [stat, setStat] = useState(statNames.includes("sharpe") ? "sharpe" : (statNames[0] ?? ""));
  const [x, setX] = useState(varying[0] ?? paramNames[0] ?? "");
  const [y, setY] = useState(varying[1] ?? paramNames[1] ?? paramNames[0] ?? "");
  const ranked = rankBy(results, stat).slice(0, 10);
  if (!results.length) return <p className="muted">The sweep has no results{bt.skipped ? ` (${bt.skipped} combinations skipped)` : ""}.</p>;
  return (
    <div className="stack">
      <div className="section-head">
        <div className="field inline">
          <label htmlFor="sw-stat">Statistic</label>
          <select id="sw-stat" value={stat} onChange={(e) => setStat(e.target.value)}>
            {statNames.map((s) => (
              <option key={s} value={s}>
                {statLabel(s)}
              </option>
            ))}
          </select>
        </div>
        <div className="field inline">
          <label htmlFor="sw-x">Across</label>
          <select id="sw-x" value={x} onChange={(e) => setX(e.target.value)}>
            {paramNames.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </div>
        <div className="field inline">
          <label htmlFor="sw-y">Down</label>
          <select id="sw-y" value={y} onChange={(e) => setY(e.target.value)}>
            {paramNames.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </div>
      </div>
      <p className="muted small">
        {results.length} combinations{bt.skipped ? `, ${bt.skipped} skipped` : ""}. Cells show the best {statLabel(stat)} where other parameters vary; green is best
        {LOWER_IS_BETTER.has(stat) ? " (here the smallest)" : ""}.
      </p>
      <HeatMap results={results} x={x} y={y} stat={stat} label={statLabel(stat)} lowerIsBetter={LOWER_IS_BETTER.has(stat)} format={(v) => formatStat(stat, v)} />
      <div className="table-wrap">
        <table>
          <caption>Best 10 by {statLabel(stat)}</caption>
          <thead>
            <tr>
              <th scope="col">Parameters</th>
              <th scope="col" className="num">{statLabel(stat)}</th>
              <th scope="col" className="num">Total return</th>
              <th scope="col" className="num">Max drawdown</th>
              <th scope="col" className="num">Trades</th>
            </tr>
          </thead>
          <tbody>
            {ranked.map((r) => (
              <tr key={JSON.stringify(r.params)}>
                <td>{Object.entries(r.params).map(([k, v]) => `${k} ${str(v)}`).join(", ")}</td>
                <td className="num">{formatStat(stat, r.stats[stat])}</td>
                <td className="num">{formatStat("total_return", r.stats.total_return)}</td>
                <td className={`num ${statClass("max_drawdown", r.stats.max_drawdown)}`}>{formatStat("max_drawdown", r.stats.max_drawdown)}</td>
                <td className="num">{formatStat("trades", r.stats.trades)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function BacktestView({ id }: { id: number }) {
  const queryClient = useQueryClient();
  const bt = useQuery({
    queryKey: ["backtest", id],
    queryFn: () => call(api.GET("/backtests/{backtest_id}", { params: { path: { backtest_id: id } } })),
    refetchInterval: (q) => (q.state.data && FINISHED.has(q.state.data.status) ? false : 1000),
  });
  const status = bt.data?.status;
  useEffect(() => {
    // the list beside shows each one's status: once this one ends, read it again
    if (status && FINISHED.has(status)) void queryClient.invalidateQueries({ queryKey: ["backtests"] });
  }, [status, queryClient]);
  const cancel = useMutation({
    mutationFn: () => call(api.POST("/backtests/{backtest_id}/cancel", { params: { path: { backtest_id: id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["backtest", id] }),
  });
  return (
    <section className="card stack" aria-labelledby="bt-view-title">
      <QueryView query={bt}>
        {(b) => (
          <>
            <h2 id="bt-view-title">
              {b.kind === "sweep" ? "Sweep" : "Backtest"} #{b.id}: {str(b.request.kind) || `strategy ${str(b.request.strategy_id)}`} on {b.ticker}
            </h2>
            <p className="muted">
              {str(b.request.start)} to {str(b.request.end) || "today"} · status <strong>{b.status}</strong>
              {b.stale ? " · some prices were stale" : ""}
            </p>
            {!FINISHED.has(b.status) && (
              <div className="progress-row">
                <progress max={1} value={b.progress} aria-label="Progress" />
                <span className="num">{pct(b.progress, 0)}</span>
                <button type="button" className="small" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
                  Cancel
                </button>
              </div>
            )}
            <ErrorBox error={cancel.error} />
            {b.status === "failed" && (
              <div className="error-box" role="alert">
                {str(b.error?.message) || "The backtest failed."} {b.error?.code ? <code className="error-code">{str(b.error.code)}</code> : null}
              </div>
            )}
            {b.status === "succeeded" && (b.kind === "sweep" ? <SweepResult bt={b} /> : <SingleResult bt={b} />)}
          </>
        )}
      </QueryView>
    </section>
  );
}

export default function Backtests() {
  const user = useOutletContext<User>();
  const runs = canTrade(user);
  const [selected, setSelected] = useState<number | null>(null);
  // GET /backtests lists the caller's own; viewers have no backtests at all.
  const list = useQuery({
    queryKey: ["backtests"],
    queryFn: () => call(api.GET("/backtests", { params: { query: { limit: 20 } } })),
    enabled: runs,
  });
  if (!runs) {
    return (
      <div className="stack">
        <h1>Backtests</h1>
        <p className="muted">Viewers cannot run or list backtests. An analyst or a portfolio manager can run one.</p>
      </div>
    );
  }
  return (
    <div className="stack">
      <h1>Backtests</h1>
      <RunForm onStarted={setSelected} />
      <div className="split">
        <nav className="card list" aria-label="Recent backtests">
          <h2>Recent</h2>
          {list.isPending ? (
            <Loading />
          ) : list.error ? (
            <ErrorBox error={list.error} />
          ) : list.data.items.length === 0 ? (
            <p className="muted">None yet.</p>
          ) : (
            <ul>
              {list.data.items.map((b) => (
                <li key={b.id}>
                  <button type="button" className={b.id === selected ? "list-item active" : "list-item"} aria-current={b.id === selected} onClick={() => setSelected(b.id)}>
                    <strong>
                      #{b.id} {b.kind} {b.ticker}
                    </strong>
                    <small className="muted">
                      {str(b.request.kind)} · {b.status} · {dateTime(b.created_at)}
                    </small>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </nav>
        {selected !== null ? <BacktestView key={selected} id={selected} /> : <p className="muted">Run a backtest or choose one.</p>}
      </div>
    </div>
  );
}
