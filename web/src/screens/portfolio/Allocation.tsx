import { useQueries, useQuery } from "@tanstack/react-query";
import { api, call } from "../../api/client";
import { BarChart, type Bar } from "../../components/BarChart";
import { ErrorBox, QueryView } from "../../components/Status";
import { money, pct, toNumber } from "../../lib/format";
import { usePortfolioContext } from "../../lib/portfolios";

export default function Allocation() {
  const { portfolio } = usePortfolioContext();
  const slug = portfolio.slug;
  const ccy = portfolio.base_currency;
  const valuation = useQuery({
    queryKey: ["valuation", slug],
    queryFn: () => call(api.GET("/portfolios/{slug}/valuation", { params: { path: { slug } } })),
  });
  const tickers = (valuation.data?.positions ?? []).map((p) => p.ticker);
  const infos = useQueries({
    queries: tickers.map((t) => ({
      queryKey: ["ticker", t],
      queryFn: () => call(api.GET("/market/tickers/{ticker}", { params: { path: { ticker: t } } })),
      staleTime: 3_600_000,
    })),
  });
  const sectorOf = new Map<string, string>();
  infos.forEach((q, i) => sectorOf.set(tickers[i], q.data?.sector ?? (q.error ? "unknown" : "…")));
  const sectorError = infos.find((q) => q.error)?.error;

  return (
    <section className="stack" aria-labelledby="alloc-title">
      <h2 id="alloc-title">Allocation</h2>
      <QueryView query={valuation} isEmpty={(v) => v.positions.length === 0} empty="No open positions to allocate.">
        {(v) => {
          const nav = toNumber(v.nav);
          const weightOf = (mv: string | null) => {
            const m = toNumber(mv);
            return m !== null && nav ? m / nav : 0;
          };
          const byTicker: Bar[] = v.positions
            .map((p) => ({ label: p.ticker, value: toNumber(p.weight) ?? weightOf(p.market_value) }))
            .concat(nav ? [{ label: "Cash", value: (toNumber(v.cash) ?? 0) / nav }] : [])
            .sort((a, b) => b.value - a.value);
          const sectors = new Map<string, number>();
          for (const p of v.positions) {
            const s = sectorOf.get(p.ticker) ?? "…";
            sectors.set(s, (sectors.get(s) ?? 0) + (toNumber(p.weight) ?? weightOf(p.market_value)));
          }
          if (nav) sectors.set("Cash", (toNumber(v.cash) ?? 0) / nav);
          const bySector: Bar[] = [...sectors.entries()].map(([label, value]) => ({ label, value })).sort((a, b) => b.value - a.value);
          return (
            <>
              <p className="muted">
                NAV <span className="num">{money(v.nav, ccy)}</span> as of {v.as_of}
                {v.missing_prices.length > 0 && <> · no price for {v.missing_prices.join(", ")}</>}
              </p>
              <div className="two-col">
                <figure className="card">
                  <figcaption>
                    <h3>By ticker</h3>
                  </figcaption>
                  <BarChart bars={byTicker} label="Weight of each ticker and cash in the NAV" />
                </figure>
                <figure className="card">
                  <figcaption>
                    <h3>By sector</h3>
                  </figcaption>
                  <ErrorBox error={sectorError} title="Some sectors could not be read" />
                  <BarChart bars={bySector} label="Weight of each sector and cash in the NAV" />
                </figure>
              </div>
              <div className="table-wrap">
                <table>
                  <caption className="sr-only">Allocation by ticker</caption>
                  <thead>
                    <tr>
                      <th scope="col">Ticker</th>
                      <th scope="col">Sector</th>
                      <th scope="col" className="num">
                        Market value
                      </th>
                      <th scope="col" className="num">
                        Weight
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {v.positions.map((p) => (
                      <tr key={p.ticker}>
                        <td>{p.ticker}</td>
                        <td>{sectorOf.get(p.ticker)}</td>
                        <td className="num">{money(p.market_value, ccy)}</td>
                        <td className="num">{pct(p.weight)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          );
        }}
      </QueryView>
    </section>
  );
}
