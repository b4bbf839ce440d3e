/** Formatting of the API's decimal strings; money per the portfolio's base currency. */

export type Decimalish = string | number | null | undefined;

const LOCALE = typeof navigator !== "undefined" && navigator.language ? navigator.language : "en-US";
const moneyFormats = new Map<string, Intl.NumberFormat>();
const DASH = "—";

export function toNumber(value: Decimalish): number | null {
  if (value === null || value === undefined || value === "") return null;
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

export function money(value: Decimalish, currency = "USD"): string {
  const n = toNumber(value);
  if (n === null) return DASH;
  let f = moneyFormats.get(currency);
  if (!f) {
    try {
      f = new Intl.NumberFormat(LOCALE, { style: "currency", currency });
    } catch {
      f = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    moneyFormats.set(currency, f);
  }
  return f.format(n);
}

export function num(value: Decimalish, maxDigits = 4, minDigits = 0): string {
  const n = toNumber(value);
  if (n === null) return DASH;
  return new Intl.NumberFormat(LOCALE, { maximumFractionDigits: maxDigits, minimumFractionDigits: minDigits }).format(n);
}

/** A fraction (0.0123) as a percentage (1.23 %). */
export function pct(value: Decimalish, digits = 2): string {
  const n = toNumber(value);
  if (n === null) return DASH;
  return new Intl.NumberFormat(LOCALE, { style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n);
}

/** A value the API already gives in percent ("0.7079" meaning 0.71 %). */
export function pctPoints(value: Decimalish, digits = 2): string {
  const n = toNumber(value);
  return n === null ? DASH : pct(n / 100, digits);
}

export function signClass(value: Decimalish): string {
  const n = toNumber(value);
  if (n === null || n === 0) return "";
  return n > 0 ? "pos" : "neg";
}

export function dateTime(value: string | null | undefined): string {
  if (!value) return DASH;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toLocaleString(LOCALE, { dateStyle: "medium", timeStyle: "short" });
}

/** YYYY-MM-DD of a Date in local time. */
export function isoDate(d: Date): string {
  const m = String(d.getMonth() + 1).padStart(2, "0");
  const day = String(d.getDate()).padStart(2, "0");
  return `${d.getFullYear()}-${m}-${day}`;
}

export function today(): string {
  return isoDate(new Date());
}

export function startOfYear(now = new Date()): string {
  return `${now.getFullYear()}-01-01`;
}

export type Range = "1M" | "3M" | "YTD" | "1Y" | "All";
export const RANGES: Range[] = ["1M", "3M", "YTD", "1Y", "All"];

/** The start date of a range ending today; null for All. */
export function rangeStart(range: Range, now = new Date()): string | null {
  const d = new Date(now);
  switch (range) {
    case "1M":
      d.setMonth(d.getMonth() - 1);
      return isoDate(d);
    case "3M":
      d.setMonth(d.getMonth() - 3);
      return isoDate(d);
    case "YTD":
      return startOfYear(now);
    case "1Y":
      d.setFullYear(d.getFullYear() - 1);
      return isoDate(d);
    case "All":
      return null;
  }
}

/** The longest range asked of the market data at once (the API refuses more than 7320 days). */
export const MAX_RANGE_DAYS = 7300;

/** A range's start, no earlier than maxDays before its end (All: the last 20 years). */
export function clampedRangeStart(range: Range, now = new Date(), maxDays = MAX_RANGE_DAYS): string {
  const earliest = new Date(now);
  earliest.setDate(earliest.getDate() - maxDays);
  const floor = isoDate(earliest);
  const start = rangeStart(range, now);
  return start === null || start < floor ? floor : start;
}

const SCALE = 100_000_000n;

/** Exact sum of decimal strings (to 8 places), as a decimal string. */
export function sumDecimals(values: Decimalish[]): string {
  let total = 0n;
  for (const v of values) {
    if (v === null || v === undefined || v === "") continue;
    total += toScaled(String(v));
  }
  return fromScaled(total);
}

function toScaled(text: string): bigint {
  const s = text.trim();
  if (!/^[-+]?\d*(\.\d*)?$/.test(s)) {
    const n = Number(s);
    return Number.isFinite(n) ? BigInt(Math.round(n * 1e8)) : 0n;
  }
  const negative = s.startsWith("-");
  const body = s.replace(/^[-+]/, "");
  const [whole, frac = ""] = body.split(".");
  const scaled = BigInt(whole || "0") * SCALE + BigInt((frac + "00000000").slice(0, 8));
  return negative ? -scaled : scaled;
}

function fromScaled(v: bigint): string {
  const negative = v < 0n;
  const a = negative ? -v : v;
  const whole = a / SCALE;
  const frac = (a % SCALE).toString().padStart(8, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${frac ? "." + frac : ""}`;
}
