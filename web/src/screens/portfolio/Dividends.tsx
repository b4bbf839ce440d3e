import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, call, type Schemas } from "../../api/client";
import { ErrorBox, QueryView } from "../../components/Status";
import { money, num } from "../../lib/format";
import { usePortfolioContext } from "../../lib/portfolios";

type Status = Schemas["DividendStatus"];

export default function Dividends() {
  const { portfolio, canManage } = usePortfolioContext();
  const slug = portfolio.slug;
  const ccy = portfolio.base_currency;
  const [status, setStatus] = useState<"" | Status>("");
  const queryClient = useQueryClient();
  const dividends = useQuery({
    queryKey: ["dividends", slug, status],
    queryFn: () => call(api.GET("/portfolios/{slug}/dividends", { params: { path: { slug }, query: { limit: 500, ...(status ? { status } : {}) } } })),
  });
  const act = useMutation({
    mutationFn: ({ id, action }: { id: number; action: "book" | "dismiss" }) =>
      action === "book"
        ? call(api.POST("/portfolios/{slug}/dividends/{dividend_id}/book", { params: { path: { slug, dividend_id: id } } }))
        : call(api.POST("/portfolios/{slug}/dividends/{dividend_id}/dismiss", { params: { path: { slug, dividend_id: id } } })),
    onSuccess: () => {
      for (const key of ["dividends", "cash", "valuation", "portfolio", "performance"]) void queryClient.invalidateQueries({ queryKey: [key, slug] });
    },
  });
  return (
    <section className="card" aria-labelledby="div-title">
      <div className="section-head">
        <h2 id="div-title">Dividends</h2>
        <div className="field inline">
          <label htmlFor="div-status">Status</label>
          <select id="div-status" value={status} onChange={(e) => setStatus(e.target.value as "" | Status)}>
            <option value="">Any</option>
            <option value="proposed">Proposed</option>
            <option value="booked">Booked</option>
            <option value="dismissed">Dismissed</option>
            <option value="matched">Matched</option>
          </select>
        </div>
      </div>
      <ErrorBox error={act.error} />
      {act.data && (
        <p className="success" role="status">
          {act.variables.action === "book"
            ? `Booked the ${act.data.ticker} dividend of ${money(act.data.amount, ccy)} (paid ${act.data.pay_date}) to cash.`
            : `Dismissed the ${act.data.ticker} dividend of ${act.data.pay_date}.`}
        </p>
      )}
      <QueryView query={dividends} isEmpty={(d) => d.items.length === 0} empty="No dividends.">
        {(d) => (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Ticker</th>
                  <th scope="col">Ex-date</th>
                  <th scope="col">Pay date</th>
                  <th scope="col" className="num">Quantity</th>
                  <th scope="col" className="num">Per share</th>
                  <th scope="col" className="num">Amount</th>
                  <th scope="col">Status</th>
                  {canManage && <th scope="col">Action</th>}
                </tr>
              </thead>
              <tbody>
                {d.items.map((x) => (
                  <tr key={x.id}>
                    <td>{x.ticker}</td>
                    <td>{x.ex_date}</td>
                    <td>{x.pay_date}</td>
                    <td className="num">{num(x.quantity, 8)}</td>
                    <td className="num">{money(x.cash_amount, ccy)}</td>
                    <td className="num">{money(x.amount, ccy)}</td>
                    <td>
                      <span className={`status status-${x.status}`}>{x.status}</span>
                    </td>
                    {canManage && (
                      <td>
                        {x.status === "proposed" && (
                          <span className="actions">
                            <button type="button" className="small" disabled={act.isPending} onClick={() => act.mutate({ id: x.id, action: "book" })} aria-label={`Book ${x.ticker} dividend of ${x.pay_date}`}>
                              Book
                            </button>
                            <button type="button" className="small" disabled={act.isPending} onClick={() => act.mutate({ id: x.id, action: "dismiss" })} aria-label={`Dismiss ${x.ticker} dividend of ${x.pay_date}`}>
                              Dismiss
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
        )}
      </QueryView>
    </section>
  );
}
