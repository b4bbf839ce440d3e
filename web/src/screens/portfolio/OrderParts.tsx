import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, call, newIdempotencyKey, type Schemas } from "../../api/client";
import { describedBy, Field } from "../../components/Field";
import { ErrorBox } from "../../components/Status";
import { hasErrors, positiveDecimal, ticker as checkTicker, type Errors } from "../../lib/validate";

export type Check = Schemas["CheckRead"];
export type OrderRequest = Schemas["OrderRequest"];
export type Order = Schemas["OrderRead"];

export const RULE_LABELS: Record<string, string> = {
  max_position_weight: "Max position weight",
  max_sector_weight: "Max sector weight",
  cash_band: "Cash band",
  restricted_tickers: "Restricted tickers",
  max_order_notional: "Max order notional",
  price_band: "Price band",
  allow_short: "Short selling",
  allow_negative_cash: "Negative cash",
};

/** A rule's observed value or limit, whatever shape the API gives. */
export function showValue(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (Array.isArray(v)) return v.length ? v.map(showValue).join(", ") : "none";
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    if ("min" in o || "max" in o) return `${showValue(o.min)} to ${showValue(o.max)}`;
    return Object.entries(o)
      .map(([k, x]) => `${k}: ${showValue(x)}`)
      .join(", ");
  }
  if (typeof v === "boolean") return v ? "yes" : "no";
  return String(v);
}

export function CheckResults({ check }: { check: Check }) {
  const verdict = check.hard_breach ? "Hard breach: the order would be denied." : check.soft_breach ? "Soft breach: the order would wait for the PM's override." : "All rules pass.";
  return (
    <div className="check-results">
      <p className={check.pass ? "success" : check.hard_breach ? "error-text" : "warning"} role="status">
        {verdict}
      </p>
      <table>
        <caption className="sr-only">Pre-trade check, rule by rule</caption>
        <thead>
          <tr>
            <th scope="col">Rule</th>
            <th scope="col">Severity</th>
            <th scope="col" className="num">
              Observed
            </th>
            <th scope="col" className="num">
              Limit
            </th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {check.results.map((r) => (
            <tr key={r.rule} className={r.pass ? "" : `breach-${r.severity}`}>
              <th scope="row">{RULE_LABELS[r.rule] ?? r.rule}</th>
              <td>{r.severity}</td>
              <td className="num">{showValue(r.observed)}</td>
              <td className="num">{showValue(r.limit)}</td>
              <td>{r.pass ? "pass" : "fail"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

type OrderFields = "ticker" | "quantity" | "limit_price" | "stop_price" | "take_profit" | "stop_loss";

interface Draft {
  ticker: string;
  side: OrderRequest["side"];
  type: OrderRequest["type"];
  time_in_force: OrderRequest["time_in_force"];
  quantity: string;
  limit_price: string;
  stop_price: string;
  order_class: OrderRequest["order_class"];
  take_profit: string;
  stop_loss: string;
  override_reason: string;
}

const START: Draft = {
  ticker: "",
  side: "buy",
  type: "market",
  time_in_force: "day",
  quantity: "",
  limit_price: "",
  stop_price: "",
  order_class: "simple",
  take_profit: "",
  stop_loss: "",
  override_reason: "",
};

export function validateOrder(d: Draft): Errors<OrderFields> {
  const needsLimit = d.type === "limit" || d.type === "stop_limit";
  const needsStop = d.type === "stop" || d.type === "stop_limit";
  const bracket = d.order_class === "bracket";
  return {
    ticker: checkTicker(d.ticker) ?? undefined,
    quantity: positiveDecimal(d.quantity, "Quantity") ?? undefined,
    limit_price: needsLimit ? (positiveDecimal(d.limit_price, "Limit price") ?? undefined) : undefined,
    stop_price: needsStop ? (positiveDecimal(d.stop_price, "Stop price") ?? undefined) : undefined,
    take_profit: bracket ? (positiveDecimal(d.take_profit, "Take-profit limit") ?? undefined) : undefined,
    stop_loss: bracket ? (positiveDecimal(d.stop_loss, "Stop-loss stop") ?? undefined) : undefined,
  };
}

export function toRequest(d: Draft): OrderRequest {
  const needsLimit = d.type === "limit" || d.type === "stop_limit";
  const needsStop = d.type === "stop" || d.type === "stop_limit";
  const bracket = d.order_class === "bracket";
  return {
    ticker: d.ticker.trim().toUpperCase(),
    side: d.side,
    type: d.type,
    time_in_force: d.time_in_force,
    quantity: d.quantity.trim(),
    order_class: d.order_class,
    ...(needsLimit ? { limit_price: d.limit_price.trim() } : {}),
    ...(needsStop ? { stop_price: d.stop_price.trim() } : {}),
    ...(bracket ? { take_profit: { limit_price: d.take_profit.trim() }, stop_loss: { stop_price: d.stop_loss.trim() } } : {}),
    ...(d.override_reason.trim() ? { override_reason: d.override_reason.trim() } : {}),
  };
}

export function OrderForm({ slug, canOverride, onPlaced }: { slug: string; canOverride: boolean; onPlaced?: (o: Order) => void }) {
  const [draft, setDraft] = useState<Draft>(START);
  const [errors, setErrors] = useState<Errors<OrderFields>>({});
  const [placed, setPlaced] = useState<Order | null>(null);
  const check = useMutation({
    mutationFn: (body: OrderRequest) => call(api.POST("/portfolios/{slug}/orders/check", { params: { path: { slug } }, body })),
  });
  const place = useMutation({
    mutationFn: (body: OrderRequest) => call(api.POST("/portfolios/{slug}/orders", { params: { path: { slug } }, body })),
    onSuccess: (order) => {
      setPlaced(order);
      check.reset();
      onPlaced?.(order);
    },
  });
  const set = (k: keyof Draft) => (e: { target: { value: string } }) => {
    setDraft((d) => ({ ...d, [k]: e.target.value }));
    check.reset();
  };
  const needsLimit = draft.type === "limit" || draft.type === "stop_limit";
  const needsStop = draft.type === "stop" || draft.type === "stop_limit";

  function valid(): boolean {
    const found = validateOrder(draft);
    setErrors(found);
    return !hasErrors(found);
  }
  function runCheck() {
    setPlaced(null);
    if (valid()) check.mutate(toRequest(draft));
  }
  function submit(event: FormEvent) {
    event.preventDefault();
    setPlaced(null);
    if (!valid()) return;
    place.mutate({ ...toRequest(draft), client_order_id: newIdempotencyKey() });
  }

  return (
    <form className="card form-grid" onSubmit={submit} noValidate aria-labelledby="order-form-title">
      <h3 id="order-form-title">Place an order</h3>
      <Field id="order-ticker" label="Ticker" error={errors.ticker}>
        <input id="order-ticker" value={draft.ticker} onChange={set("ticker")} {...describedBy("order-ticker", errors.ticker)} />
      </Field>
      <Field id="order-side" label="Side">
        <select id="order-side" value={draft.side} onChange={set("side")}>
          <option value="buy">Buy</option>
          <option value="sell">Sell</option>
        </select>
      </Field>
      <Field id="order-type" label="Type">
        <select id="order-type" value={draft.type} onChange={set("type")}>
          <option value="market">Market</option>
          <option value="limit">Limit</option>
          <option value="stop">Stop</option>
          <option value="stop_limit">Stop limit</option>
        </select>
      </Field>
      <Field id="order-tif" label="Time in force">
        <select id="order-tif" value={draft.time_in_force} onChange={set("time_in_force")}>
          <option value="day">Day</option>
          <option value="gtc">Good till cancelled</option>
        </select>
      </Field>
      <Field id="order-quantity" label="Quantity" error={errors.quantity}>
        <input id="order-quantity" inputMode="decimal" value={draft.quantity} onChange={set("quantity")} {...describedBy("order-quantity", errors.quantity)} />
      </Field>
      {needsLimit && (
        <Field id="order-limit" label="Limit price" error={errors.limit_price}>
          <input id="order-limit" inputMode="decimal" value={draft.limit_price} onChange={set("limit_price")} {...describedBy("order-limit", errors.limit_price)} />
        </Field>
      )}
      {needsStop && (
        <Field id="order-stop" label="Stop price" error={errors.stop_price}>
          <input id="order-stop" inputMode="decimal" value={draft.stop_price} onChange={set("stop_price")} {...describedBy("order-stop", errors.stop_price)} />
        </Field>
      )}
      <Field id="order-class" label="Class">
        <select id="order-class" value={draft.order_class} onChange={set("order_class")}>
          <option value="simple">Simple</option>
          <option value="bracket">Bracket</option>
        </select>
      </Field>
      {draft.order_class === "bracket" && (
        <>
          <Field id="order-tp" label="Take-profit limit" error={errors.take_profit}>
            <input id="order-tp" inputMode="decimal" value={draft.take_profit} onChange={set("take_profit")} {...describedBy("order-tp", errors.take_profit)} />
          </Field>
          <Field id="order-sl" label="Stop-loss stop" error={errors.stop_loss}>
            <input id="order-sl" inputMode="decimal" value={draft.stop_loss} onChange={set("stop_loss")} {...describedBy("order-sl", errors.stop_loss)} />
          </Field>
        </>
      )}
      {canOverride && (
        <Field id="order-override" label="Override reason (accepts a soft breach at once)">
          <input id="order-override" value={draft.override_reason} onChange={set("override_reason")} />
        </Field>
      )}
      <div className="form-actions">
        <button type="button" onClick={runCheck} disabled={check.isPending}>
          {check.isPending ? "Checking…" : "Check"}
        </button>
        <button type="submit" className="primary" disabled={place.isPending}>
          {place.isPending ? "Placing…" : "Place order"}
        </button>
      </div>
      <ErrorBox error={check.error} title="Check" />
      <ErrorBox error={place.error} />
      {check.data && <CheckResults check={check.data} />}
      {placed && (
        <div role="status">
          <p className={placed.status === "denied" ? "error-text" : "success"}>
            Order #{placed.id} {placed.status.replace("_", " ")}.
          </p>
          {placed.checks && placed.status !== "accepted" && <CheckResults check={placed.checks} />}
        </div>
      )}
    </form>
  );
}
