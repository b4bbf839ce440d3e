import { useQueries, useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link } from "react-router";
import { api, call, type Schemas } from "../api/client";
import { ErrorBox, Loading, Empty, QueryView } from "../components/Status";
import { TimeChart, type ChartSeries } from "../components/TimeChart";
import { dateTime, money, num, pct, pctPoints, RANGES, rangeStart, signClass, startOfYear, toNumber, type Range } from "../lib/format";
import { usePortfolios, type Portfolio } from "../lib/portfolios";

type Trade = Schemas["app__trades__schemas__TradeRead"];

export function RangePicker({ value, onChange }: { value: Range; onChange: (r: Range) => void }) {
  return (
    <div className="segmented" role="group" aria-label="Range">
      {RANGES.map((r) => (
        <button key={r} type="button" aria-pressed={value === r} className={value === r ? "active" : ""} onClick={() => onChange(r)}>
          {r}
        </button>
      ))}
    </div>
  );
}

function PortfolioCard({ portfolio }: { portfolio: Portfolio }) {
  const slug = portfolio.slug;
  const valuation = useQuery({
    queryKey: ["valuation", slug],
    queryFn: () => call(api.GET("/portfolios/{slug}/valuation", { params: { path: { slug } } })),
  });
  const ytd = useQuery({
    queryKey: ["performance", slug, startOfYear(), "day"],
    queryFn: () => call(api.GET("/portfolios/{slug}/performance", { params: { path: { slug }, query: { start: startOfYear() } } })),
  });
  const ccy = portfolio.base_currency;
  const v = valuation.data;
  return (
    <article className="card portfolio-card" aria-labelledby={`card-${slug}`}>
      <h2 id={`card-${slug}`}>
        <Link to={`/portfolios/${slug}`}>{portfolio.name}</Link>
      </h2>
      {valuation.error ? (
        <ErrorBox error={valuation.error} />
      ) : !v ? (
        <Loading />
      ) : (
        <dl className="figures">
          <div>
            <dt>NAV</dt>
            <dd className="num big">{money(v.nav, ccy)}</dd>
          </div>
          <div>
            <dt>Day</dt>
            <dd className={`num ${signClass(v.day_change)}`}>
              {money(v.day_change, ccy)} <small>({pctPoints(v.day_change_pct)})</small>
            </dd>
          </div>
          <div>
            <dt>Cash</dt>
            <dd className="num">{money(v.cash, ccy)}</dd>
          </div>
          <div>
            <dt>TWR YTD</dt>
            <dd className={`num ${signClass(ytd.data?.twr)}`}>{ytd.error ? "unavailable" : ytd.data ? pct(ytd.data.twr) : "…"}</dd>
          </div>
        </dl>
      )}
      {v && (v.missing_prices.length > 0 || v.stale_prices.length > 0) && (
        <p className="warning">
          {v.missing_prices.length > 0 && <>No price for {v.missing_prices.join(", ")}. </>}
          {v.stale_prices.length > 0 && <>Stale prices: {v.stale_prices.join(", ")}.</>}
        </p>
      )}
      {v && <p className="muted small">Prices from {v.provider}, as of {v.as_of}</p>}
    </article>
  );
}

/** The NAV axis in whole units with thousands separators ("124,500", not "124500.00"). */
const navAxis = (price: number) => num(price, 0);

export function NavChart({ slug, currency }: { slug: string; currency: string }) {
  const [range, setRange] = useState<Range>("YTD");
  const start = rangeStart(range);
  const interval = range === "All" ? "week" : "day";
  const perf = useQuery({
    queryKey: ["performance", slug, start, interval],
    queryFn: () =>
      call(api.GET("/portfolios/{slug}/performance", { params: { path: { slug }, query: { ...(start ? { start } : {}), interval } } })),
  });
  const series = useMemo<ChartSeries[]>(() => {
    const points = (perf.data?.series ?? []).flatMap((p) => {
      const v = toNumber(p.nav);
      return v === null ? [] : [{ time: p.date, value: v }];
    });
    return [{ id: "nav", kind: "line", label: `NAV (${currency})`, data: points, color: "#2563eb" }];
  }, [perf.data, currency]);
  return (
    <section className="card" aria-labelledby="nav-title">
      <div className="section-head">
        <h2 id="nav-title">NAV</h2>
        <RangePicker value={range} onChange={setRange} />
      </div>
      <QueryView query={perf} isEmpty={(d) => d.series.length === 0} empty="No NAV history in this range.">
        {(d) => (
          <>
            <TimeChart series={series} priceFormatter={navAxis} label={`NAV from ${d.start ?? "the start"} to ${d.end}`} />
            <p className="muted small">
              TWR over the range <span className={`num ${signClass(d.twr)}`}>{pct(d.twr)}</span>, benchmark {d.benchmark.ticker}{" "}
              <span className={`num ${signClass(d.benchmark.twr)}`}>{pct(d.benchmark.twr)}</span>
            </p>
          </>
        )}
      </QueryView>
    </section>
  );
}

function RecentTrades({ portfolios }: { portfolios: Portfolio[] }) {
  const results = useQueries({
    queries: portfolios.map((p) => ({
      queryKey: ["trades", p.slug, { limit: 10 }],
      queryFn: () => call(api.GET("/portfolios/{slug}/trades", { params: { path: { slug: p.slug }, query: { limit: 10 } } })),
    })),
  });
  const error = results.find((r) => r.error)?.error;
  const pending = results.some((r) => r.isPending);
  const trades: (Trade & { slug: string; currency: string })[] = results
    .flatMap((r, i) => (r.data?.items ?? []).map((t) => ({ ...t, slug: portfolios[i].slug, currency: portfolios[i].base_currency })))
    .sort((a, b) => b.created_at.localeCompare(a.created_at))
    .slice(0, 10);
  return (
    <section className="card" aria-labelledby="recent-title">
      <h2 id="recent-title">Recent trades</h2>
      <ErrorBox error={error} />
      {pending ? (
        <Loading />
      ) : trades.length === 0 ? (
        <Empty>No trades yet.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Booked</th>
                <th scope="col">Portfolio</th>
                <th scope="col">Trade date</th>
                <th scope="col">Ticker</th>
                <th scope="col">Side</th>
                <th scope="col" className="num">Quantity</th>
                <th scope="col" className="num">Price</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {trades.map((t) => (
                <tr key={`${t.slug}-${t.id}`}>
                  <td>{dateTime(t.created_at)}</td>
                  <td>
                    <Link to={`/portfolios/${t.slug}/trades`}>{t.slug}</Link>
                  </td>
                  <td>{t.trade_date}</td>
                  <td>
                    <Link to={`/instruments/${t.ticker}`}>{t.ticker}</Link>
                  </td>
                  <td className={`side-${t.side}`}>{t.side}</td>
                  <td className="num">{num(t.quantity)}</td>
                  <td className="num">{money(t.price, t.currency)}</td>
                  <td>{t.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export default function Overview() {
  const portfolios = usePortfolios();
  const [chosen, setChosen] = useState<string>("");
  return (
    <div className="stack">
      <h1>Overview</h1>
      <QueryView query={portfolios} isEmpty={(d) => d.items.length === 0} empty="You are not a member of any portfolio yet.">
        {(data) => {
          const current = data.items.find((p) => p.slug === chosen) ?? data.items[0];
          return (
            <>
              <div className="cards">
                {data.items.map((p) => (
                  <PortfolioCard key={p.slug} portfolio={p} />
                ))}
              </div>
              <div className="field inline">
                <label htmlFor="nav-portfolio">Portfolio for the NAV chart</label>
                <select id="nav-portfolio" value={current.slug} onChange={(e) => setChosen(e.target.value)}>
                  {data.items.map((p) => (
                    <option key={p.slug} value={p.slug}>
                      {p.name}
                    </option>
                  ))}
                </select>
              </div>
              <NavChart slug={current.slug} currency={current.base_currency} />
              <RecentTrades portfolios={data.items} />
            </>
          );
        }}
      </QueryView>
    </div>
  );
}
