import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, call, type Schemas } from "../../api/client";
import { ErrorBox, QueryView } from "../../components/Status";
import { pct } from "../../lib/format";
import { usePortfolioContext } from "../../lib/portfolios";

export type PolicyOut = Schemas["Policy-Output"];
export type PolicyIn = Schemas["Policy-Input"];
type Severity = "hard" | "soft";
type FractionKey = "max_position_weight" | "max_sector_weight" | "price_band";

interface RuleDraft {
  on: boolean;
  severity: Severity;
}
interface Draft {
  max_position_weight: RuleDraft & { limit: string };
  max_sector_weight: RuleDraft & { limit: string };
  price_band: RuleDraft & { limit: string };
  max_order_notional: RuleDraft & { limit: string };
  cash_band: RuleDraft & { min: string; max: string };
  restricted_tickers: RuleDraft & { limit: string };
}

export function toDraft(p: PolicyOut): Draft {
  const frac = (r: Schemas["FractionRule-Output"] | null | undefined, fallback: string) => ({ on: !!r, severity: r?.severity ?? ("hard" as Severity), limit: r?.limit ?? fallback });
  return {
    max_position_weight: frac(p.max_position_weight, "0.10"),
    max_sector_weight: frac(p.max_sector_weight, "0.30"),
    price_band: frac(p.price_band, "0.10"),
    max_order_notional: { on: !!p.max_order_notional, severity: p.max_order_notional?.severity ?? "hard", limit: p.max_order_notional?.limit ?? "50000" },
    cash_band: { on: !!p.cash_band, severity: p.cash_band?.severity ?? "soft", min: p.cash_band?.limit.min ?? "0.02", max: p.cash_band?.limit.max ?? "0.10" },
    restricted_tickers: { on: !!p.restricted_tickers, severity: p.restricted_tickers?.severity ?? "hard", limit: (p.restricted_tickers?.limit ?? []).join(", ") },
  };
}

const DEC = /^\d+(\.\d+)?$/;

export function validatePolicy(d: Draft): Partial<Record<keyof Draft, string>> {
  const errors: Partial<Record<keyof Draft, string>> = {};
  const fraction = (k: FractionKey, label: string, allowAboveOne = false) => {
    const r = d[k];
    if (!r.on) return;
    const v = r.limit.trim();
    if (!DEC.test(v) || Number(v) <= 0 || (!allowAboveOne && Number(v) > 1)) errors[k] = `${label} must be a fraction above 0${allowAboveOne ? "" : " and at most 1"} (0.05 is 5 %).`;
  };
  fraction("max_position_weight", "Max position weight");
  fraction("max_sector_weight", "Max sector weight");
  fraction("price_band", "Price band", true);
  if (d.max_order_notional.on && (!DEC.test(d.max_order_notional.limit.trim()) || Number(d.max_order_notional.limit) <= 0)) {
    errors.max_order_notional = "Max order notional must be an amount above 0.";
  }
  if (d.cash_band.on) {
    const { min, max } = d.cash_band;
    if (!DEC.test(min.trim()) || !DEC.test(max.trim()) || Number(max) > 1 || Number(min) > Number(max)) {
      errors.cash_band = "Cash band needs 0 ≤ min ≤ max ≤ 1 (fractions of NAV).";
    }
  }
  if (d.restricted_tickers.on && parseTickers(d.restricted_tickers.limit).length === 0) {
    errors.restricted_tickers = "List at least one ticker, or turn the rule off.";
  }
  return errors;
}

function parseTickers(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).map((t) => t.trim().toUpperCase()).filter(Boolean))];
}

export function toPolicy(d: Draft): PolicyIn {
  const out: PolicyIn = {};
  for (const k of ["max_position_weight", "max_sector_weight", "price_band", "max_order_notional"] as const) {
    if (d[k].on) out[k] = { limit: d[k].limit.trim(), severity: d[k].severity };
  }
  if (d.cash_band.on) out.cash_band = { limit: { min: d.cash_band.min.trim(), max: d.cash_band.max.trim() }, severity: d.cash_band.severity };
  if (d.restricted_tickers.on) out.restricted_tickers = { limit: parseTickers(d.restricted_tickers.limit), severity: d.restricted_tickers.severity };
  return out;
}

function asPct(v: string): string {
  return DEC.test(v.trim()) ? pct(v, 1) : "";
}

export function PolicyForm({ slug, policy, canEdit }: { slug: string; policy: PolicyOut; canEdit: boolean }) {
  const [draft, setDraft] = useState<Draft>(() => toDraft(policy));
  const [errors, setErrors] = useState<Partial<Record<keyof Draft, string>>>({});
  const [saved, setSaved] = useState(false);
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: (body: PolicyIn) => call(api.PUT("/portfolios/{slug}/policy", { params: { path: { slug } }, body })),
    onSuccess: (p) => {
      setSaved(true);
      setDraft(toDraft(p));
      queryClient.setQueryData(["policy", slug], p);
    },
  });

  function update<K extends keyof Draft>(k: K, patch: Partial<Draft[K]>) {
    setSaved(false);
    setDraft((d) => ({ ...d, [k]: { ...d[k], ...patch } }));
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const found = validatePolicy(draft);
    setErrors(found);
    setSaved(false);
    if (Object.keys(found).length) return;
    save.mutate(toPolicy(draft));
  }

  const ruleHead = (k: keyof Draft, label: string) => (
    <legend>
      <input type="checkbox" id={`${k}-on`} checked={draft[k].on} onChange={(e) => update(k, { on: e.target.checked } as Partial<Draft[typeof k]>)} />
      <label htmlFor={`${k}-on`}>{label}</label>
    </legend>
  );
  const severity = (k: keyof Draft) => (
    <div className="field">
      <label htmlFor={`${k}-severity`}>Severity</label>
      <select id={`${k}-severity`} value={draft[k].severity} disabled={!draft[k].on} onChange={(e) => update(k, { severity: e.target.value as Severity } as Partial<Draft[typeof k]>)}>
        <option value="hard">Hard (deny)</option>
        <option value="soft">Soft (hold for override)</option>
      </select>
    </div>
  );
  const err = (k: keyof Draft) =>
    errors[k] ? (
      <small className="field-error" role="alert" id={`${k}-error`}>
        {errors[k]}
      </small>
    ) : null;
  const fractionRule = (k: FractionKey, label: string, hint: string) => (
    <fieldset className="rule" key={k}>
      {ruleHead(k, label)}
      <div className="field">
        <label htmlFor={`${k}-limit`}>Limit (fraction)</label>
        <input
          id={`${k}-limit`}
          inputMode="decimal"
          value={draft[k].limit}
          disabled={!draft[k].on}
          aria-invalid={errors[k] ? true : undefined}
          aria-describedby={errors[k] ? `${k}-error` : undefined}
          onChange={(e) => update(k, { limit: e.target.value })}
        />
        <small className="muted">
          {asPct(draft[k].limit)} {hint}
        </small>
      </div>
      {severity(k)}
      {err(k)}
    </fieldset>
  );

  return (
    <form onSubmit={submit} noValidate className="policy-form" aria-labelledby="policy-title">
      <h2 id="policy-title">Investment policy</h2>
      {!canEdit && <p className="muted">Only the portfolio's PM or an admin may change the policy.</p>}
      <fieldset disabled={!canEdit} className="plain">
        <div className="rules">
          {fractionRule("max_position_weight", "Max position weight", "of NAV per ticker after the trade")}
          {fractionRule("max_sector_weight", "Max sector weight", "of NAV per sector")}
          <fieldset className="rule">
            {ruleHead("cash_band", "Cash band")}
            <div className="field">
              <label htmlFor="cash_band-min">Minimum cash (fraction)</label>
              <input id="cash_band-min" inputMode="decimal" value={draft.cash_band.min} disabled={!draft.cash_band.on} onChange={(e) => update("cash_band", { min: e.target.value })} />
            </div>
            <div className="field">
              <label htmlFor="cash_band-max">Maximum cash (fraction)</label>
              <input id="cash_band-max" inputMode="decimal" value={draft.cash_band.max} disabled={!draft.cash_band.on} onChange={(e) => update("cash_band", { max: e.target.value })} />
            </div>
            {severity("cash_band")}
            {err("cash_band")}
          </fieldset>
          <fieldset className="rule">
            {ruleHead("restricted_tickers", "Restricted tickers")}
            <div className="field">
              <label htmlFor="restricted_tickers-limit">Tickers (comma-separated)</label>
              <input id="restricted_tickers-limit" value={draft.restricted_tickers.limit} disabled={!draft.restricted_tickers.on} onChange={(e) => update("restricted_tickers", { limit: e.target.value })} />
            </div>
            {severity("restricted_tickers")}
            {err("restricted_tickers")}
          </fieldset>
          <fieldset className="rule">
            {ruleHead("max_order_notional", "Max order notional")}
            <div className="field">
              <label htmlFor="max_order_notional-limit">Limit (base currency)</label>
              <input id="max_order_notional-limit" inputMode="decimal" value={draft.max_order_notional.limit} disabled={!draft.max_order_notional.on} onChange={(e) => update("max_order_notional", { limit: e.target.value })} />
            </div>
            {severity("max_order_notional")}
            {err("max_order_notional")}
          </fieldset>
          {fractionRule("price_band", "Price band", "away from the last close for limit and stop prices")}
        </div>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={!canEdit || save.isPending}>
            {save.isPending ? "Saving…" : "Save policy"}
          </button>
        </div>
      </fieldset>
      <ErrorBox error={save.error} />
      {saved && (
        <p className="success" role="status">
          Policy saved.
        </p>
      )}
    </form>
  );
}

export default function Policy() {
  const { portfolio, canManage } = usePortfolioContext();
  const slug = portfolio.slug;
  const policy = useQuery({
    queryKey: ["policy", slug],
    queryFn: () => call(api.GET("/portfolios/{slug}/policy", { params: { path: { slug } } })),
  });
  return (
    <section className="card">
      <QueryView query={policy}>{(p) => <PolicyForm key={slug} slug={slug} policy={p} canEdit={canManage && !portfolio.archived_at} />}</QueryView>
    </section>
  );
}
