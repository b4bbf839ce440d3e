import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Fragment, useState } from "react";
import { api, call, type Schemas } from "../../api/client";
import { Pager } from "../../components/Pager";
import { ErrorBox, QueryView } from "../../components/Status";
import { dateTime, money, num } from "../../lib/format";
import { usePortfolioContext } from "../../lib/portfolios";
import { CheckResults, eventText, OrderForm, type Order } from "./OrderParts";

type Status = Schemas["OrderStatus"];
const STATUSES: Status[] = ["new", "pending_approval", "accepted", "partially_filled", "pending_cancel", "filled", "canceled", "expired", "rejected", "denied"];
const CANCELLABLE = new Set<Status>(["new", "pending_approval", "accepted", "partially_filled"]);
const LIMIT = 25;

function OrderEvents({ slug, orderId, currency }: { slug: string; orderId: number; currency: string }) {
  const events = useQuery({
    queryKey: ["order-events", slug, orderId],
    queryFn: () => call(api.GET("/portfolios/{slug}/orders/{order_id}/events", { params: { path: { slug, order_id: orderId }, query: { limit: 500 } } })),
  });
  return (
    <QueryView query={events} isEmpty={(d) => d.items.length === 0} empty="No events.">
      {(d) => (
        <ol className="events">
          {d.items.map((e) => (
            <li key={e.id}>
              {eventText(e, currency)} <span className="muted small">{dateTime(e.at)}</span>
            </li>
          ))}
        </ol>
      )}
    </QueryView>
  );
}

function OrderActions({ slug, order, canManage, canTrade }: { slug: string; order: Order; canManage: boolean; canTrade: boolean }) {
  const [reason, setReason] = useState("");
  const queryClient = useQueryClient();
  const refresh = () => {
    for (const key of ["orders", "order-events"]) void queryClient.invalidateQueries({ queryKey: [key, slug] });
  };
  const cancel = useMutation({
    mutationFn: () => call(api.POST("/portfolios/{slug}/orders/{order_id}/cancel", { params: { path: { slug, order_id: order.id } } })),
    onSuccess: refresh,
  });
  const override = useMutation({
    mutationFn: () => call(api.POST("/portfolios/{slug}/orders/{order_id}/override", { params: { path: { slug, order_id: order.id } }, body: { reason } })),
    onSuccess: refresh,
  });
  return (
    <div className="stack small-gap">
      {canTrade && CANCELLABLE.has(order.status) && (
        <button type="button" className="small" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
          Cancel order
        </button>
      )}
      {canManage && order.status === "pending_approval" && (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (reason.trim()) override.mutate();
          }}
        >
          <label htmlFor={`override-${order.id}`}>Override reason</label>
          <input id={`override-${order.id}`} value={reason} onChange={(e) => setReason(e.target.value)} required />
          <button type="submit" disabled={!reason.trim() || override.isPending}>
            Override
          </button>
        </form>
      )}
      <ErrorBox error={cancel.error} />
      <ErrorBox error={override.error} />
    </div>
  );
}

/** Fills the working orders on the stored bars now, rather than after the next close. */
export function PaperBroker() {
  const queryClient = useQueryClient();
  const run = useMutation({
    mutationFn: () => call(api.POST("/broker/paper/run", { body: {} })),
    // fills book trades and cash: everything shown may have changed
    onSuccess: () => void queryClient.invalidateQueries(),
  });
  const r = run.data;
  return (
    <section className="card stack small-gap" aria-labelledby="broker-title">
      <h2 id="broker-title">Paper broker</h2>
      <p className="muted small">
        Orders fill from the first trading day's bar after the day they were placed; the paper broker also runs after each close.
      </p>
      <button type="button" onClick={() => run.mutate()} disabled={run.isPending}>
        {run.isPending ? "Running…" : "Run the paper broker"}
      </button>
      {r && (
        <p className="success" role="status">
          Ran through {r.through}: {r.fills} fill{r.fills === 1 ? "" : "s"}, {r.expired} expired, {r.rejected} rejected.
        </p>
      )}
      <ErrorBox error={run.error} />
    </section>
  );
}

export default function Orders() {
  const { portfolio, canManage, canTrade } = usePortfolioContext();
  const slug = portfolio.slug;
  const ccy = portfolio.base_currency;
  const [status, setStatus] = useState<"" | Status>("");
  const [ticker, setTicker] = useState("");
  const [offset, setOffset] = useState(0);
  const [open, setOpen] = useState<number | null>(null);
  const queryClient = useQueryClient();
  const query = { limit: LIMIT, offset, ...(status ? { status } : {}), ...(ticker ? { ticker } : {}) };
  const orders = useQuery({
    queryKey: ["orders", slug, query],
    queryFn: () => call(api.GET("/portfolios/{slug}/orders", { params: { path: { slug }, query } })),
    placeholderData: keepPreviousData,
  });
  const rows = (list: Order[]): Order[] => list.flatMap((o) => [o, ...rows(o.legs ?? [])]);
  const trading = canTrade;

  return (
    <div className="stack">
      {trading && (
        <OrderForm
          slug={slug}
          currency={ccy}
          canOverride={canManage}
          onPlaced={() => void queryClient.invalidateQueries({ queryKey: ["orders", slug] })}
        />
      )}
      {trading && <PaperBroker />}
      <section className="card" aria-labelledby="orders-title">
        <div className="section-head">
          <h2 id="orders-title">Orders</h2>
          <div className="field inline">
            <label htmlFor="orders-status">Status</label>
            <select
              id="orders-status"
              value={status}
              onChange={(e) => {
                setStatus(e.target.value as "" | Status);
                setOffset(0);
              }}
            >
              <option value="">Any</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s.replace("_", " ")}
                </option>
              ))}
            </select>
          </div>
          <div className="field inline">
            <label htmlFor="orders-ticker">Ticker</label>
            <input
              id="orders-ticker"
              size={8}
              value={ticker}
              onChange={(e) => {
                setTicker(e.target.value.toUpperCase());
                setOffset(0);
              }}
            />
          </div>
        </div>
        <QueryView query={orders} isEmpty={(d) => d.items.length === 0} empty="No orders.">
          {(d) => (
            <>
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col" className="num">#</th>
                      <th scope="col">Placed</th>
                      <th scope="col">Ticker</th>
                      <th scope="col">Side</th>
                      <th scope="col">Type</th>
                      <th scope="col" className="num">Quantity</th>
                      <th scope="col" className="num">Limit</th>
                      <th scope="col" className="num">Stop</th>
                      <th scope="col" className="num">Filled</th>
                      <th scope="col" className="num">Avg price</th>
                      <th scope="col">Status</th>
                      <th scope="col">Details</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows(d.items).map((o) => (
                      <Fragment key={o.id}>
                        <tr className={o.parent_id ? "leg" : undefined}>
                          <td className="num">{o.id}</td>
                          <td>{dateTime(o.created_at)}</td>
                          <td>
                            {o.parent_id ? "↳ " : ""}
                            {o.ticker}
                            {o.leg ? ` (${o.leg.replace("_", " ")})` : ""}
                          </td>
                          <td className={`side-${o.side}`}>{o.side}</td>
                          <td>
                            {o.type.replace("_", " ")} · {o.time_in_force}
                          </td>
                          <td className="num">{num(o.quantity, 8)}</td>
                          <td className="num">{money(o.limit_price, ccy)}</td>
                          <td className="num">{money(o.stop_price, ccy)}</td>
                          <td className="num">{num(o.filled_quantity, 8)}</td>
                          <td className="num">{money(o.filled_avg_price, ccy)}</td>
                          <td>
                            <span className={`status status-${o.status}`}>{o.status.replace("_", " ")}</span>
                          </td>
                          <td>
                            <button type="button" className="small" aria-expanded={open === o.id} onClick={() => setOpen(open === o.id ? null : o.id)}>
                              {open === o.id ? "Hide" : "Show"}
                            </button>
                          </td>
                        </tr>
                        {open === o.id && (
                          <tr className="details">
                            <td colSpan={12}>
                              <div className="two-col">
                                <div>
                                  <h4>Events</h4>
                                  <OrderEvents slug={slug} orderId={o.id} currency={ccy} />
                                  <OrderActions slug={slug} order={o} canManage={canManage} canTrade={trading} />
                                </div>
                                <div>
                                  <h4>Latest check</h4>
                                  {o.checks ? <CheckResults check={o.checks} currency={ccy} order={o} /> : <p className="muted">Not checked.</p>}
                                </div>
                              </div>
                            </td>
                          </tr>
                        )}
                      </Fragment>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager offset={offset} limit={LIMIT} total={d.total} onChange={setOffset} label="Order pages" />
            </>
          )}
        </QueryView>
      </section>
    </div>
  );
}
