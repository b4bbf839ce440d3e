import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, call, newIdempotencyKey, type Schemas } from "../../api/client";
import { describedBy, Field } from "../../components/Field";
import { ErrorBox } from "../../components/Status";
import { money, num, pct, type Decimalish } from "../../lib/format";
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
export function showValue(v: unknown, format: (x: Decimalish) => string = (x) => String(x)): string {
  if (v === null || v === undefined) return "—";
  if (Array.isArray(v)) return v.length ? v.map((x) => showValue(x, format)).join(", ") : "none";
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    if ("min" in o || "max" in o) return `${showValue(o.min, format)} to ${showValue(o.max, format)}`;
    return Object.entries(o)
      .map(([k, x]) => `${k}: ${showValue(x, format)}`)
      .join(", ");
  }
  if (typeof v === "boolean") return v ? "yes" : "no";
  return typeof v === "string" || typeof v === "number" ? format(v) : String(v);
}

const WEIGHT_RULES = new Set(["max_position_weight", "max_sector_weight", "cash_band", "price_band"]);
const MONEY_RULES = new Set(["max_order_notional", "allow_negative_cash"]);
/** Rules the portfolio turns off entirely (a null limit) or sets to a floor (the limit is a minimum). */
const FLOOR_RULES = new Set(["allow_short", "allow_negative_cash"]);

/** A rule's observed value (or, with limit, its limit) in its unit: weights as %, money in the currency. */
export function ruleValue(rule: string, v: unknown, currency: string, limit = false): string {
  const format = WEIGHT_RULES.has(rule)
    ? (x: Decimalish) => pct(x, 2)
    : MONEY_RULES.has(rule)
      ? (x: Decimalish) => money(x, currency)
      : rule === "allow_short"
        ? (x: Decimalish) => num(x, 8)
        : undefined;
  if (limit && FLOOR_RULES.has(rule)) return v === null || v === undefined ? "allowed" : `at least ${showValue(v, format)}`;
  return showValue(v, format);
}

const status = (s: string) => s.replace(/_/g, " ");

/** What a check means: for a check alone, what would happen; for an order's, what did. */
export function checkVerdict(check: Check, order?: Pick<Order, "status" | "submitted_at">): string {
  if (!order) {
    return check.hard_breach ? "Hard breach: the order would be denied." : check.soft_breach ? "Soft breach: the order would wait for the PM's override." : "All rules pass.";
  }
  if (check.hard_breach) return `Hard breach: the order is ${status(order.status)}.`;
  if (!check.soft_breach) return "All rules pass.";
  if (order.status === "pending_approval") return "Soft breach: the order waits for the PM's override.";
  if (order.submitted_at) return `Soft breach, overridden by the PM: the order went to the broker and is ${status(order.status)}.`;
  return `Soft breach: the order was held and is ${status(order.status)}.`;
}

export function CheckResults({ check, currency, order }: { check: Check; currency: string; order?: Pick<Order, "status" | "submitted_at"> }) {
  return (
    <div className="check-results">
      <p className={check.pass ? "success" : check.hard_breach ? "error-text" : "warning"} role="status">
        {checkVerdict(check, order)}
      </p>
      <div className="table-wrap">
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
                <td className="num">{ruleValue(r.rule, r.observed, currency)}</td>
                <td className="num">{ruleValue(r.rule, r.limit, currency, true)}</td>
                <td>{r.pass ? "pass" : "fail"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

export type OrderEvent = Schemas["OrderEventRead"];

function text(v: unknown): string {
  return typeof v === "string" || typeof v === "number" ? String(v) : "";
}

/** Text ending a sentence, without a second full stop. */
function end(v: unknown): string {
  return text(v).replace(/\.$/, "");
}

function rules(v: unknown): string {
  const names = Array.isArray(v) ? v.map((r) => RULE_LABELS[text(r)] ?? text(r)) : [];
  return names.length ? names.join(", ").toLowerCase() : "a rule";
}

/** One sentence for an order event's data. */
export function eventText(e: Pick<OrderEvent, "type" | "data">, currency: string): string {
  const d = e.data as Record<string, unknown>;
  switch (e.type) {
    case "placed":
      return d.client_order_id ? `Placed (client order id ${text(d.client_order_id)}).` : "Placed.";
    case "accepted":
      return d.armed_by ? `Accepted: armed by the fill of order #${text(d.armed_by)}.` : "Accepted and sent to the broker.";
    case "held":
      return `Held for the PM's override: ${rules(d.failed)} breached.`;
    case "denied":
      return `Denied: ${rules(d.failed)} breached.`;
    case "overridden":
      return `Overridden by the PM: “${end(d.reason)}”.`;
    case "fill": {
      const commission = Number(d.commission) > 0 ? `, commission ${money(text(d.commission), currency)}` : "";
      return `Filled ${num(text(d.quantity), 8)} @ ${money(text(d.price), currency)} on ${text(d.date)}${commission}.`;
    }
    case "cancel_requested":
      return d.reason && d.reason !== "requested" ? `Cancel requested: ${end(d.reason)}.` : "Cancel requested.";
    case "canceled":
      return d.broker ? "Canceled at the broker." : d.reason && d.reason !== "requested" ? `Canceled: ${end(d.reason)}.` : "Canceled on request.";
    case "expired":
      return d.date ? `Expired unfilled on ${text(d.date)}.` : "Expired unfilled.";
    case "rejected":
      return `Rejected: ${end(d.message) || text(d.code) || "the broker refused it"}.`;
    default:
      return Object.keys(d).length ? showValue(d) : "";
  }
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

export function OrderForm({ slug, currency, canOverride, onPlaced }: { slug: string; currency: string; canOverride: boolean; onPlaced?: (o: Order) => void }) {
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
    if (place.isError) place.reset();
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
      {check.data && <CheckResults check={check.data} currency={currency} />}
      {placed && (
        <div role="status">
          <p className={placed.status === "denied" ? "error-text" : "success"}>
            Order #{placed.id} {placed.status.replace("_", " ")}.
          </p>
          {placed.checks && placed.status !== "accepted" && <CheckResults check={placed.checks} currency={currency} order={placed} />}
        </div>
      )}
    </form>
  );
}
