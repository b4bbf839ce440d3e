import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, call } from "../../api/client";
import { Pager } from "../../components/Pager";
import { QueryView } from "../../components/Status";
import { money, num, signClass, sumDecimals } from "../../lib/format";
import { usePortfolioContext } from "../../lib/portfolios";

const LIMIT = 50;

export default function Lots() {
  const { portfolio } = usePortfolioContext();
  const slug = portfolio.slug;
  const ccy = portfolio.base_currency;
  const [ticker, setTicker] = useState("");
  const [lotOffset, setLotOffset] = useState(0);
  const [realOffset, setRealOffset] = useState(0);
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const lots = useQuery({
    queryKey: ["lots", slug, ticker, lotOffset],
    queryFn: () =>
      call(api.GET("/portfolios/{slug}/lots", { params: { path: { slug }, query: { limit: LIMIT, offset: lotOffset, ...(ticker ? { ticker } : {}) } } })),
    placeholderData: keepPreviousData,
  });
  const realized = useQuery({
    queryKey: ["realized", slug, start, end, realOffset],
    queryFn: () =>
      call(
        api.GET("/portfolios/{slug}/realized", {
          params: { path: { slug }, query: { limit: LIMIT, offset: realOffset, ...(start ? { start } : {}), ...(end ? { end } : {}) } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  return (
    <div className="stack">
      <section className="card" aria-labelledby="lots-title">
        <div className="section-head">
          <h2 id="lots-title">Open lots</h2>
          <div className="field inline">
            <label htmlFor="lots-ticker">Ticker</label>
            <input
              id="lots-ticker"
              value={ticker}
              size={8}
              onChange={(e) => {
                setTicker(e.target.value.toUpperCase());
                setLotOffset(0);
              }}
            />
          </div>
        </div>
        <QueryView query={lots} isEmpty={(d) => d.items.length === 0} empty="No open lots.">
          {(d) => (
            <>
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Ticker</th>
                      <th scope="col">Opened</th>
                      <th scope="col" className="num">Quantity</th>
                      <th scope="col" className="num">Cost/share</th>
                      <th scope="col" className="num">Cost</th>
                      <th scope="col" className="num">Days held</th>
                      <th scope="col" className="num">Market value</th>
                      <th scope="col" className="num">Unrealized P&amp;L</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.items.map((l) => (
                      <tr key={`${l.trade_id}-${l.open_date}`}>
                        <td>{l.ticker}</td>
                        <td>{l.open_date}</td>
                        <td className="num">{num(l.quantity, 8)}</td>
                        <td className="num">{money(l.cost_per_share, ccy)}</td>
                        <td className="num">{money(l.cost, ccy)}</td>
                        <td className="num">{l.holding_days}</td>
                        <td className="num">{money(l.market_value, ccy)}</td>
                        <td className={`num ${signClass(l.unrealized_pnl)}`}>{money(l.unrealized_pnl, ccy)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager offset={lotOffset} limit={LIMIT} total={d.total} onChange={setLotOffset} label="Lot pages" />
            </>
          )}
        </QueryView>
      </section>
      <section className="card" aria-labelledby="realized-title">
        <div className="section-head">
          <h2 id="realized-title">Realized (closed lots)</h2>
          <div className="field inline">
            <label htmlFor="real-start">Closed from</label>
            <input id="real-start" type="date" value={start} onChange={(e) => { setStart(e.target.value); setRealOffset(0); }} />
          </div>
          <div className="field inline">
            <label htmlFor="real-end">to</label>
            <input id="real-end" type="date" value={end} onChange={(e) => { setEnd(e.target.value); setRealOffset(0); }} />
          </div>
        </div>
        <QueryView query={realized} isEmpty={(d) => d.items.length === 0} empty="No closed lots in this range.">
          {(d) => {
            const short = d.items.filter((l) => l.term === "short").map((l) => l.gain);
            const long = d.items.filter((l) => l.term === "long").map((l) => l.gain);
            return (
              <>
                <p className="muted small">
                  On this page: short-term <span className="num">{money(sumDecimals(short), ccy)}</span>, long-term{" "}
                  <span className="num">{money(sumDecimals(long), ccy)}</span>
                </p>
                <div className="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Ticker</th>
                        <th scope="col">Opened</th>
                        <th scope="col">Closed</th>
                        <th scope="col" className="num">Quantity</th>
                        <th scope="col" className="num">Cost</th>
                        <th scope="col" className="num">Proceeds</th>
                        <th scope="col" className="num">Gain</th>
                        <th scope="col">Term</th>
                      </tr>
                    </thead>
                    <tbody>
                      {d.items.map((l) => (
                        <tr key={`${l.open_trade_id}-${l.close_trade_id}-${l.quantity}`}>
                          <td>{l.ticker}</td>
                          <td>{l.open_date}</td>
                          <td>{l.close_date}</td>
                          <td className="num">{num(l.quantity, 8)}</td>
                          <td className="num">{money(l.cost, ccy)}</td>
                          <td className="num">{money(l.proceeds, ccy)}</td>
                          <td className={`num ${signClass(l.gain)}`}>{money(l.gain, ccy)}</td>
                          <td>{l.term}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                <Pager offset={realOffset} limit={LIMIT} total={d.total} onChange={setRealOffset} label="Realized pages" />
              </>
            );
          }}
        </QueryView>
      </section>
    </div>
  );
}
