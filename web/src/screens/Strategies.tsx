import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useOutletContext } from "react-router";
import { api, call, type Schemas } from "../api/client";
import { Field } from "../components/Field";
import { Pager } from "../components/Pager";
import { ErrorBox, QueryView } from "../components/Status";
import { canTrade, type User } from "../lib/auth";
import { dateTime, isoDate, money, num, today } from "../lib/format";
import { usePortfolios } from "../lib/portfolios";

type Kind = Schemas["StrategyCreate"]["kind"];
export const KIND_PARAMS: Record<Kind, Record<string, number>> = {
  sma_cross: { fast: 10, slow: 30 },
  ema_cross: { fast: 12, slow: 26 },
  macd_cross: { fast: 12, slow: 26, signal: 9 },
  rsi_threshold: { period: 14, lower: 30, upper: 70 },
  bollinger_reversion: { period: 20, k: 2 },
};
export const KINDS = Object.keys(KIND_PARAMS) as Kind[];
const LIMIT = 25;

function CreateStrategy() {
  const [name, setName] = useState("");
  const [kind, setKind] = useState<Kind>("sma_cross");
  const [params, setParams] = useState<Record<string, string>>(() => Object.fromEntries(Object.entries(KIND_PARAMS.sma_cross).map(([k, v]) => [k, String(v)])));
  const [tickers, setTickers] = useState("");
  const [portfolio, setPortfolio] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const portfolios = usePortfolios();
  const queryClient = useQueryClient();
  const create = useMutation({
    mutationFn: (body: Schemas["StrategyCreate"]) => call(api.POST("/strategies", { body })),
    onSuccess: () => {
      setName("");
      void queryClient.invalidateQueries({ queryKey: ["strategies"] });
    },
  });
  function changeKind(k: Kind) {
    setKind(k);
    setParams(Object.fromEntries(Object.entries(KIND_PARAMS[k]).map(([p, v]) => [p, String(v)])));
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    const list = tickers.split(/[\s,;]+/).map((t) => t.trim().toUpperCase()).filter(Boolean);
    if (!name.trim()) return setProblem("Name is required.");
    if (!list.length) return setProblem("List at least one ticker.");
    const values = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Number(v)]));
    if (Object.values(values).some((v) => !Number.isFinite(v))) return setProblem("Every parameter must be a number.");
    setProblem(null);
    create.mutate({
      name: name.trim(),
      description: "",
      kind,
      params: values,
      tickers: list,
      portfolio: portfolio || null,
      sizing: { type: "all_cash" },
      active: true,
      auto_trade: false,
    });
  }
  return (
    <details className="card">
      <summary>New strategy</summary>
      <form className="form-grid" onSubmit={submit} noValidate>
        <Field id="st-name" label="Name">
          <input id="st-name" value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field id="st-kind" label="Kind">
          <select id="st-kind" value={kind} onChange={(e) => changeKind(e.target.value as Kind)}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </Field>
        {Object.keys(params).map((p) => (
          <Field key={p} id={`st-param-${p}`} label={p}>
            <input id={`st-param-${p}`} inputMode="decimal" value={params[p]} onChange={(e) => setParams((x) => ({ ...x, [p]: e.target.value }))} />
          </Field>
        ))}
        <Field id="st-tickers" label="Tickers (comma-separated)">
          <input id="st-tickers" value={tickers} onChange={(e) => setTickers(e.target.value)} />
        </Field>
        <Field id="st-portfolio" label="Portfolio for orders">
          <select id="st-portfolio" value={portfolio} onChange={(e) => setPortfolio(e.target.value)}>
            <option value="">None</option>
            {(portfolios.data?.items ?? []).map((p) => (
              <option key={p.slug} value={p.slug}>
                {p.name}
              </option>
            ))}
          </select>
        </Field>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={create.isPending}>
            Create
          </button>
        </div>
        {problem && (
          <p className="field-error" role="alert">
            {problem}
          </p>
        )}
        <ErrorBox error={create.error} />
      </form>
    </details>
  );
}

function Evaluate({ id }: { id: number }) {
  const year = new Date();
  year.setFullYear(year.getFullYear() - 1);
  const [start, setStart] = useState(isoDate(year));
  const [end, setEnd] = useState(today());
  const queryClient = useQueryClient();
  const run = useMutation({
    mutationFn: () => call(api.POST("/strategies/{strategy_id}/evaluate", { params: { path: { strategy_id: id } }, body: { start, end } })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["signals", id] });
      void queryClient.invalidateQueries({ queryKey: ["strategy-events", id] });
    },
  });
  const result = run.data;
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        run.mutate();
      }}
    >
      <label htmlFor="ev-start">Evaluate from</label>
      <input id="ev-start" type="date" value={start} onChange={(e) => setStart(e.target.value)} />
      <label htmlFor="ev-end">to</label>
      <input id="ev-end" type="date" value={end} onChange={(e) => setEnd(e.target.value)} />
      <button type="submit" disabled={run.isPending}>
        {run.isPending ? "Evaluating…" : "Evaluate"}
      </button>
      {result && "signals" in result && (
        <span role="status">
          {result.signals} new signal{result.signals === 1 ? "" : "s"} over {result.tickers} ticker{result.tickers === 1 ? "" : "s"}
          {result.errors.length > 0 && `; errors: ${result.errors.map((x) => `${x.ticker} ${x.message}`).join("; ")}`}
        </span>
      )}
      <ErrorBox error={run.error} />
    </form>
  );
}

function Signals({ id, writable }: { id: number; writable: boolean }) {
  const [type, setType] = useState<"" | Schemas["SignalType"]>("");
  const [status, setStatus] = useState<"" | Schemas["SignalStatus"]>("");
  const [offset, setOffset] = useState(0);
  const queryClient = useQueryClient();
  const query = { limit: LIMIT, offset, ...(type ? { type } : {}), ...(status ? { status } : {}) };
  const signals = useQuery({
    queryKey: ["signals", id, query],
    queryFn: () => call(api.GET("/strategies/{strategy_id}/signals", { params: { path: { strategy_id: id }, query } })),
    placeholderData: keepPreviousData,
  });
  const mark = useMutation({
    mutationFn: ({ signal, to }: { signal: number; to: "acted" | "ignored" }) => call(api.PATCH("/signals/{signal_id}", { params: { path: { signal_id: signal } }, body: { status: to } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["signals", id] }),
  });
  return (
    <section aria-labelledby="signals-title">
      <div className="section-head">
        <h3 id="signals-title">Signals</h3>
        <div className="field inline">
          <label htmlFor="sig-type">Type</label>
          <select id="sig-type" value={type} onChange={(e) => { setType(e.target.value as "" | Schemas["SignalType"]); setOffset(0); }}>
            <option value="">Any</option>
            <option value="BUY">BUY</option>
            <option value="SELL">SELL</option>
            <option value="HOLD">HOLD</option>
          </select>
        </div>
        <div className="field inline">
          <label htmlFor="sig-status">Status</label>
          <select id="sig-status" value={status} onChange={(e) => { setStatus(e.target.value as "" | Schemas["SignalStatus"]); setOffset(0); }}>
            <option value="">Any</option>
            <option value="new">new</option>
            <option value="acted">acted</option>
            <option value="ignored">ignored</option>
            <option value="expired">expired</option>
          </select>
        </div>
      </div>
      <ErrorBox error={mark.error} />
      <QueryView query={signals} isEmpty={(d) => d.items.length === 0} empty="No signals. Evaluate the strategy over a range.">
        {(d) => (
          <>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Date</th>
                    <th scope="col">Ticker</th>
                    <th scope="col">Type</th>
                    <th scope="col" className="num">Close</th>
                    <th scope="col">Reasons</th>
                    <th scope="col">Status</th>
                    {writable && <th scope="col">Action</th>}
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((s) => (
                    <tr key={s.id}>
                      <td>{s.date}</td>
                      <td>{s.ticker}</td>
                      <td className={s.type === "BUY" ? "pos" : s.type === "SELL" ? "neg" : ""}>{s.type}</td>
                      <td className="num">{money(s.close)}</td>
                      <td>{s.reasons.join(" ")}</td>
                      <td>{s.status}</td>
                      {writable && (
                        <td>
                          {s.status === "new" && (
                            <span className="actions">
                              <button type="button" className="small" onClick={() => mark.mutate({ signal: s.id, to: "acted" })}>
                                Acted
                              </button>
                              <button type="button" className="small" onClick={() => mark.mutate({ signal: s.id, to: "ignored" })}>
                                Ignore
                              </button>
                            </span>
                          )}
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager offset={offset} limit={LIMIT} total={d.total} onChange={setOffset} label="Signal pages" />
          </>
        )}
      </QueryView>
    </section>
  );
}

function Events({ id }: { id: number }) {
  const events = useQuery({
    queryKey: ["strategy-events", id],
    queryFn: () => call(api.GET("/strategies/{strategy_id}/events", { params: { path: { strategy_id: id }, query: { limit: 50 } } })),
  });
  return (
    <section aria-labelledby="events-title">
      <h3 id="events-title">Events</h3>
      <QueryView query={events} isEmpty={(d) => d.items.length === 0} empty="No events.">
        {(d) => (
          <ol className="events">
            {d.items.map((e) => (
              <li key={e.id} className={`severity-${e.severity}`}>
                <strong>{e.type}</strong> {dateTime(e.created_at)} · {e.message}
              </li>
            ))}
          </ol>
        )}
      </QueryView>
    </section>
  );
}

export default function Strategies() {
  const user = useOutletContext<User>();
  const writable = canTrade(user);
  const strategies = useQuery({
    queryKey: ["strategies"],
    queryFn: () => call(api.GET("/strategies", { params: { query: { limit: 500 } } })),
  });
  const [selected, setSelected] = useState<number | null>(null);
  return (
    <div className="stack">
      <h1>Strategies &amp; signals</h1>
      {writable && <CreateStrategy />}
      <QueryView query={strategies} isEmpty={(d) => d.items.length === 0} empty="No strategies yet.">
        {(d) => {
          const current = d.items.find((s) => s.id === selected) ?? d.items[0];
          return (
            <div className="split">
              <nav aria-label="Strategies" className="card list">
                <ul>
                  {d.items.map((s) => (
                    <li key={s.id}>
                      <button type="button" className={s.id === current.id ? "list-item active" : "list-item"} aria-current={s.id === current.id} onClick={() => setSelected(s.id)}>
                        <strong>{s.name}</strong>
                        <small className="muted">
                          {s.kind} · {s.tickers.join(", ")} {s.active ? "" : "· inactive"}
                        </small>
                      </button>
                    </li>
                  ))}
                </ul>
              </nav>
              <div className="card stack">
                <h2>{current.name}</h2>
                <p className="muted">
                  {current.kind} ({Object.entries(current.params).map(([k, v]) => `${k} ${num(v)}`).join(", ")}) on {current.tickers.join(", ")}
                  {current.portfolio ? ` · orders to ${current.portfolio}` : ""} · {current.active ? "active" : "inactive"}
                  {current.auto_trade ? " · auto-trade" : ""}
                </p>
                {writable && <Evaluate id={current.id} />}
                <Signals id={current.id} writable={writable} />
                <Events id={current.id} />
              </div>
            </div>
          );
        }}
      </QueryView>
    </div>
  );
}
