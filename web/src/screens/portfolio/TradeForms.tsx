import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { ApiError, api, call, newIdempotencyKey, type Schemas } from "../../api/client";
import { describedBy, Field } from "../../components/Field";
import { ErrorBox } from "../../components/Status";
import { money, num, today } from "../../lib/format";
import { hasErrors, nonNegativeDecimal, pastDate, positiveDecimal, ticker as checkTicker, type Errors } from "../../lib/validate";

type TradeCreate = Schemas["TradeCreate"];
type CashCreate = Schemas["CashCreate"];

/** Keeps one Idempotency-Key per submission, reused only to retry the same body after a failure
 * that may not have reached the books (network, 5xx, still in flight). */
function useIdempotency() {
  const last = useRef<{ key: string; body: string; retryable: boolean } | null>(null);
  return {
    keyFor(body: unknown): string {
      const text = JSON.stringify(body);
      if (last.current && last.current.retryable && last.current.body === text) return last.current.key;
      const key = newIdempotencyKey();
      last.current = { key, body: text, retryable: false };
      return key;
    },
    failed(error: unknown) {
      if (!last.current) return;
      const retryable = !(error instanceof ApiError) || error.status === 0 || error.status >= 500 || error.code === "idempotency_key_in_flight";
      last.current = { ...last.current, retryable };
    },
    done() {
      last.current = null;
    },
  };
}

function invalidateBooks(queryClient: ReturnType<typeof useQueryClient>, slug: string) {
  for (const key of ["trades", "cash", "positions", "valuation", "performance", "portfolio", "lots", "realized"]) {
    void queryClient.invalidateQueries({ queryKey: [key, slug] });
  }
}

/** Moves keyboard focus to a message once it shows (a success below the form). */
function useFocusOn<T extends HTMLElement>(shown: unknown) {
  const ref = useRef<T>(null);
  useEffect(() => {
    if (shown) ref.current?.focus();
  }, [shown]);
  return ref;
}

type TradeFields = "ticker" | "quantity" | "price" | "fees" | "trade_date";

export function validateTrade(t: { ticker: string; quantity: string; price: string; fees: string; trade_date: string }): Errors<TradeFields> {
  return {
    ticker: checkTicker(t.ticker) ?? undefined,
    quantity: positiveDecimal(t.quantity, "Quantity") ?? undefined,
    price: positiveDecimal(t.price, "Price") ?? undefined,
    fees: nonNegativeDecimal(t.fees, "Fees") ?? undefined,
    trade_date: pastDate(t.trade_date, "Trade date") ?? undefined,
  };
}

export function TradeForm({ slug, currency }: { slug: string; currency: string }) {
  const [form, setForm] = useState({ ticker: "", side: "buy" as TradeCreate["side"], quantity: "", price: "", fees: "0", trade_date: today(), notes: "" });
  const [errors, setErrors] = useState<Errors<TradeFields>>({});
  const [booked, setBooked] = useState<Schemas["app__trades__schemas__TradeRead"] | null>(null);
  const queryClient = useQueryClient();
  const idem = useIdempotency();
  const book = useMutation({
    mutationFn: ({ body, key }: { body: TradeCreate; key: string }) =>
      call(api.POST("/portfolios/{slug}/trades", { params: { path: { slug }, header: { "Idempotency-Key": key } }, body })),
    onSuccess: (trade) => {
      idem.done();
      setBooked(trade);
      setForm((f) => ({ ...f, ticker: "", quantity: "", price: "", fees: "0", notes: "" }));
      invalidateBooks(queryClient, slug);
    },
    onError: (e) => idem.failed(e),
  });
  const bookedRef = useFocusOn<HTMLParagraphElement>(booked);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => {
    setForm((f) => ({ ...f, [k]: e.target.value }));
    if (book.isError) book.reset();
  };

  function submit(event: FormEvent) {
    event.preventDefault();
    const found = validateTrade(form);
    setErrors(found);
    setBooked(null);
    if (hasErrors(found)) return;
    const body: TradeCreate = {
      ticker: form.ticker.trim().toUpperCase(),
      side: form.side,
      quantity: form.quantity.trim(),
      price: form.price.trim(),
      fees: form.fees.trim() || "0",
      trade_date: form.trade_date,
      notes: form.notes,
    };
    book.mutate({ body, key: idem.keyFor(body) });
  }

  return (
    <form className="card form-grid" onSubmit={submit} noValidate aria-labelledby="trade-form-title">
      <h3 id="trade-form-title">Book a trade</h3>
      <Field id="trade-ticker" label="Ticker" error={errors.ticker}>
        <input id="trade-ticker" value={form.ticker} onChange={set("ticker")} autoCapitalize="characters" {...describedBy("trade-ticker", errors.ticker)} />
      </Field>
      <Field id="trade-side" label="Side">
        <select id="trade-side" value={form.side} onChange={set("side")}>
          <option value="buy">Buy</option>
          <option value="sell">Sell</option>
        </select>
      </Field>
      <Field id="trade-quantity" label="Quantity" error={errors.quantity}>
        <input id="trade-quantity" inputMode="decimal" value={form.quantity} onChange={set("quantity")} {...describedBy("trade-quantity", errors.quantity)} />
      </Field>
      <Field id="trade-price" label={`Price (${currency})`} error={errors.price}>
        <input id="trade-price" inputMode="decimal" value={form.price} onChange={set("price")} {...describedBy("trade-price", errors.price)} />
      </Field>
      <Field id="trade-fees" label={`Fees (${currency})`} error={errors.fees}>
        <input id="trade-fees" inputMode="decimal" value={form.fees} onChange={set("fees")} {...describedBy("trade-fees", errors.fees)} />
      </Field>
      <Field id="trade-date" label="Trade date" error={errors.trade_date}>
        <input id="trade-date" type="date" value={form.trade_date} max={today()} onChange={set("trade_date")} {...describedBy("trade-date", errors.trade_date)} />
      </Field>
      <Field id="trade-notes" label="Notes">
        <input id="trade-notes" value={form.notes} onChange={set("notes")} />
      </Field>
      <div className="form-actions">
        <button type="submit" className="primary" disabled={book.isPending}>
          {book.isPending ? "Booking…" : "Book trade"}
        </button>
      </div>
      <ErrorBox error={book.error} />
      {booked && (
        <p className="success" role="status" tabIndex={-1} ref={bookedRef}>
          Booked trade #{booked.id}: {booked.side} {num(booked.quantity)} {booked.ticker} at {money(booked.price, currency)}.
        </p>
      )}
    </form>
  );
}

type CashFields = "amount" | "date" | "ticker";

export function CashForm({ slug, currency }: { slug: string; currency: string }) {
  const [form, setForm] = useState({ type: "deposit" as CashCreate["type"], amount: "", date: today(), note: "", ticker: "" });
  const [errors, setErrors] = useState<Errors<CashFields>>({});
  const [recorded, setRecorded] = useState<string | null>(null);
  const queryClient = useQueryClient();
  const idem = useIdempotency();
  const record = useMutation({
    mutationFn: ({ body, key }: { body: CashCreate; key: string }) =>
      call(api.POST("/portfolios/{slug}/cash", { params: { path: { slug }, header: { "Idempotency-Key": key } }, body })),
    onSuccess: (tx) => {
      idem.done();
      setRecorded(`Recorded ${tx.type} of ${money(tx.amount, currency)} on ${tx.date}.`);
      setForm((f) => ({ ...f, amount: "", note: "", ticker: "" }));
      invalidateBooks(queryClient, slug);
    },
    onError: (e) => idem.failed(e),
  });
  const recordedRef = useFocusOn<HTMLParagraphElement>(recorded);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => {
    setForm((f) => ({ ...f, [k]: e.target.value }));
    if (record.isError) record.reset();
  };

  function submit(event: FormEvent) {
    event.preventDefault();
    const found: Errors<CashFields> = {
      amount: positiveDecimal(form.amount, "Amount") ?? undefined,
      date: pastDate(form.date, "Date") ?? undefined,
      ticker: form.type === "dividend" ? (checkTicker(form.ticker) ?? undefined) : undefined,
    };
    setErrors(found);
    setRecorded(null);
    if (hasErrors(found)) return;
    const body: CashCreate = {
      type: form.type,
      amount: form.amount.trim(),
      date: form.date,
      note: form.note,
      ...(form.type === "dividend" ? { ticker: form.ticker.trim().toUpperCase() } : {}),
    };
    record.mutate({ body, key: idem.keyFor(body) });
  }

  return (
    <form className="card form-grid" onSubmit={submit} noValidate aria-labelledby="cash-form-title">
      <h3 id="cash-form-title">Record cash</h3>
      <Field id="cash-type" label="Type">
        <select id="cash-type" value={form.type} onChange={set("type")}>
          <option value="deposit">Deposit</option>
          <option value="withdrawal">Withdrawal</option>
          <option value="dividend">Dividend</option>
          <option value="interest">Interest</option>
          <option value="fee">Fee</option>
        </select>
      </Field>
      <Field id="cash-amount" label={`Amount (${currency})`} error={errors.amount}>
        <input id="cash-amount" inputMode="decimal" value={form.amount} onChange={set("amount")} {...describedBy("cash-amount", errors.amount)} />
      </Field>
      <Field id="cash-date" label="Date" error={errors.date}>
        <input id="cash-date" type="date" value={form.date} max={today()} onChange={set("date")} {...describedBy("cash-date", errors.date)} />
      </Field>
      {form.type === "dividend" && (
        <Field id="cash-ticker" label="Ticker" error={errors.ticker}>
          <input id="cash-ticker" value={form.ticker} onChange={set("ticker")} {...describedBy("cash-ticker", errors.ticker)} />
        </Field>
      )}
      <Field id="cash-note" label="Note">
        <input id="cash-note" value={form.note} onChange={set("note")} />
      </Field>
      <div className="form-actions">
        <button type="submit" className="primary" disabled={record.isPending}>
          {record.isPending ? "Recording…" : "Record"}
        </button>
      </div>
      <ErrorBox error={record.error} />
      {recorded && (
        <p className="success" role="status" tabIndex={-1} ref={recordedRef}>
          {recorded}
        </p>
      )}
    </form>
  );
}

interface RowError {
  row: number;
  errors: string[];
}

function rowErrors(error: unknown): { rows: RowError[]; total: number } | null {
  if (!(error instanceof ApiError) || error.code !== "invalid_csv") return null;
  const raw = error.details.rows;
  const rows: RowError[] = Array.isArray(raw)
    ? raw.flatMap((r: unknown) => {
        if (typeof r !== "object" || r === null) return [];
        const rec = r as Record<string, unknown>;
        const errs = Array.isArray(rec.errors) ? rec.errors.map(String) : [];
        return typeof rec.row === "number" ? [{ row: rec.row, errors: errs }] : [];
      })
    : [];
  const total = typeof error.details.total === "number" ? error.details.total : rows.length;
  return { rows, total };
}

export function CsvImport({ slug }: { slug: string }) {
  const [file, setFile] = useState<File | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const queryClient = useQueryClient();
  const upload = useMutation({
    mutationFn: (f: File) =>
      call(
        api.POST("/portfolios/{slug}/trades/import", {
          params: { path: { slug }, header: { "Idempotency-Key": newIdempotencyKey() } },
          body: { file: f.name },
          bodySerializer: () => {
            const data = new FormData();
            data.append("file", f, f.name);
            return data;
          },
        }),
      ),
    onSuccess: () => invalidateBooks(queryClient, slug),
  });
  const bad = rowErrors(upload.error);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!file) {
      setProblem("Choose a CSV file first.");
      return;
    }
    setProblem(null);
    upload.mutate(file);
  }

  return (
    <form className="card" onSubmit={submit} aria-labelledby="import-title">
      <h3 id="import-title">Import trades from CSV</h3>
      <p className="muted small">Columns: trade_date, ticker, side, quantity, price, fees, notes, external_id. One bad row books nothing.</p>
      <div className="field">
        <label htmlFor="import-file">CSV file</label>
        <input id="import-file" type="file" accept=".csv,text/csv" onChange={(e) => {
            setFile(e.target.files?.[0] ?? null);
            upload.reset();
          }}
        />
      </div>
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="primary" disabled={upload.isPending}>
          {upload.isPending ? "Importing…" : "Import"}
        </button>
      </div>
      {upload.data && (
        <p className="success" role="status">
          Booked {upload.data.booked} trade{upload.data.booked === 1 ? "" : "s"}.
        </p>
      )}
      <ErrorBox error={upload.error} />
      {bad && bad.rows.length > 0 && (
        <div className="table-wrap">
          <table className="csv-errors">
            <caption>
              {bad.total} row{bad.total === 1 ? "" : "s"} with errors{bad.total > bad.rows.length ? ` (first ${bad.rows.length} shown)` : ""}
            </caption>
            <thead>
              <tr>
                <th scope="col" className="num">
                  Row
                </th>
                <th scope="col">Problems</th>
              </tr>
            </thead>
            <tbody>
              {bad.rows.map((r) => (
                <tr key={r.row}>
                  <td className="num">{r.row}</td>
                  <td>{r.errors.join("; ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </form>
  );
}
