import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, call, type Schemas } from "../../api/client";
import { Pager } from "../../components/Pager";
import { ErrorBox, QueryView } from "../../components/Status";
import { dateTime, money, num } from "../../lib/format";
import { usePortfolioContext } from "../../lib/portfolios";
import { CashForm, CsvImport, TradeForm } from "./TradeForms";

type Trade = Schemas["app__trades__schemas__TradeRead"];
interface Filters {
  ticker: string;
  side: "" | "buy" | "sell";
  status: "" | "booked" | "cancelled";
  start: string;
  end: string;
}
const EMPTY: Filters = { ticker: "", side: "", status: "", start: "", end: "" };
const LIMIT = 25;

function CancelTrade({ slug, trade }: { slug: string; trade: Trade }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const queryClient = useQueryClient();
  const cancel = useMutation({
    mutationFn: () => call(api.POST("/portfolios/{slug}/trades/{trade_id}/cancel", { params: { path: { slug, trade_id: trade.id } }, body: { reason } })),
    onSuccess: () => {
      setOpen(false);
      for (const key of ["trades", "positions", "valuation", "performance", "portfolio", "cash"]) void queryClient.invalidateQueries({ queryKey: [key, slug] });
    },
  });
  if (!open)
    return (
      <button type="button" className="small" onClick={() => setOpen(true)}>
        Cancel…
      </button>
    );
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (reason.trim()) cancel.mutate();
      }}
    >
      <label htmlFor={`cancel-reason-${trade.id}`}>Reason</label>
      <input id={`cancel-reason-${trade.id}`} value={reason} onChange={(e) => setReason(e.target.value)} required />
      <button type="submit" disabled={!reason.trim() || cancel.isPending}>
        Cancel trade
      </button>
      <button type="button" onClick={() => setOpen(false)}>
        Keep
      </button>
      <ErrorBox error={cancel.error} />
    </form>
  );
}

function Ledger({ slug, currency, canManage }: { slug: string; currency: string; canManage: boolean }) {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [offset, setOffset] = useState(0);
  const query = {
    limit: LIMIT,
    offset,
    ...(filters.ticker ? { ticker: filters.ticker.toUpperCase() } : {}),
    ...(filters.side ? { side: filters.side } : {}),
    ...(filters.status ? { status: filters.status } : {}),
    ...(filters.start ? { start: filters.start } : {}),
    ...(filters.end ? { end: filters.end } : {}),
  };
  const trades = useQuery({
    queryKey: ["trades", slug, query],
    queryFn: () => call(api.GET("/portfolios/{slug}/trades", { params: { path: { slug }, query } })),
    placeholderData: keepPreviousData,
  });
  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setDraft((f) => ({ ...f, [k]: e.target.value }));
  function apply(event: FormEvent) {
    event.preventDefault();
    setFilters(draft);
    setOffset(0);
  }
  return (
    <section className="card" aria-labelledby="ledger-title">
      <div className="section-head">
        <h2 id="ledger-title">Trades</h2>
        <a className="button-link" href={`/portfolios/${encodeURIComponent(slug)}/trades/export`} download={`${slug}-trades.csv`}>
          Export CSV
        </a>
      </div>
      <form className="filters" onSubmit={apply} aria-label="Filter trades">
        <div className="field">
          <label htmlFor="f-ticker">Ticker</label>
          <input id="f-ticker" value={draft.ticker} onChange={set("ticker")} size={8} />
        </div>
        <div className="field">
          <label htmlFor="f-side">Side</label>
          <select id="f-side" value={draft.side} onChange={set("side")}>
            <option value="">Any</option>
            <option value="buy">Buy</option>
            <option value="sell">Sell</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-status">Status</label>
          <select id="f-status" value={draft.status} onChange={set("status")}>
            <option value="">Any</option>
            <option value="booked">Booked</option>
            <option value="cancelled">Cancelled</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-start">From</label>
          <input id="f-start" type="date" value={draft.start} onChange={set("start")} />
        </div>
        <div className="field">
          <label htmlFor="f-end">To</label>
          <input id="f-end" type="date" value={draft.end} onChange={set("end")} />
        </div>
        <div className="form-actions">
          <button type="submit">Apply</button>
          <button
            type="button"
            onClick={() => {
              setDraft(EMPTY);
              setFilters(EMPTY);
              setOffset(0);
            }}
          >
            Clear
          </button>
        </div>
      </form>
      <QueryView query={trades} isEmpty={(d) => d.items.length === 0} empty="No trades match.">
        {(d) => (
          <>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col" className="num">
                      #
                    </th>
                    <th scope="col">Date</th>
                    <th scope="col">Ticker</th>
                    <th scope="col">Side</th>
                    <th scope="col" className="num">
                      Quantity
                    </th>
                    <th scope="col" className="num">
                      Price
                    </th>
                    <th scope="col" className="num">
                      Fees
                    </th>
                    <th scope="col">Status</th>
                    <th scope="col">Notes</th>
                    <th scope="col">Booked</th>
                    {canManage && <th scope="col">Action</th>}
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((t) => (
                    <tr key={t.id} className={t.status === "cancelled" ? "cancelled" : undefined}>
                      <td className="num">{t.id}</td>
                      <td>{t.trade_date}</td>
                      <td>
                        <Link to={`/instruments/${t.ticker}`}>{t.ticker}</Link>
                      </td>
                      <td className={`side-${t.side}`}>{t.side}</td>
                      <td className="num">{num(t.quantity, 8)}</td>
                      <td className="num">{money(t.price, currency)}</td>
                      <td className="num">{money(t.fees, currency)}</td>
                      <td title={t.cancel_reason ?? undefined}>{t.status}</td>
                      <td>{t.notes}</td>
                      <td>{dateTime(t.created_at)}</td>
                      {canManage && <td>{t.status === "booked" && <CancelTrade slug={slug} trade={t} />}</td>}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager offset={offset} limit={LIMIT} total={d.total} onChange={setOffset} label="Trade pages" />
          </>
        )}
      </QueryView>
    </section>
  );
}

function CashLedger({ slug, currency }: { slug: string; currency: string }) {
  const [offset, setOffset] = useState(0);
  const cash = useQuery({
    queryKey: ["cash", slug, offset],
    queryFn: () => call(api.GET("/portfolios/{slug}/cash", { params: { path: { slug }, query: { limit: LIMIT, offset } } })),
    placeholderData: keepPreviousData,
  });
  return (
    <section className="card" aria-labelledby="cash-title">
      <h2 id="cash-title">Cash</h2>
      <QueryView query={cash}>
        {(d) => (
          <>
            <p>
              Balance <strong className="num">{money(d.balance, currency)}</strong>
            </p>
            {d.items.length === 0 ? (
              <p className="muted">No cash transactions.</p>
            ) : (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Date</th>
                      <th scope="col">Type</th>
                      <th scope="col">Ticker</th>
                      <th scope="col" className="num">
                        Amount
                      </th>
                      <th scope="col">Note</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.items.map((c) => (
                      <tr key={c.id}>
                        <td>{c.date}</td>
                        <td>{c.type}</td>
                        <td>{c.ticker ?? ""}</td>
                        <td className="num">{money(c.amount, currency)}</td>
                        <td>{c.note}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            <Pager offset={offset} limit={LIMIT} total={d.total} onChange={setOffset} label="Cash pages" />
          </>
        )}
      </QueryView>
    </section>
  );
}

export default function Trades() {
  const { portfolio, canTrade, canManage } = usePortfolioContext();
  const ccy = portfolio.base_currency;
  return (
    <div className="stack">
      {canTrade && (
        <div className="two-col">
          <TradeForm slug={portfolio.slug} currency={ccy} />
          <CashForm slug={portfolio.slug} currency={ccy} />
        </div>
      )}
      {canTrade && <CsvImport slug={portfolio.slug} />}
      <Ledger slug={portfolio.slug} currency={ccy} canManage={canManage && !portfolio.archived_at} />
      <CashLedger slug={portfolio.slug} currency={ccy} />
    </div>
  );
}
