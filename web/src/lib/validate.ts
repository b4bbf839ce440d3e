import { today } from "./format";

const DECIMAL = /^\d+(\.\d{1,8})?$/;

/** A positive decimal with at most 8 places; returns an error message or null. */
export function positiveDecimal(value: string, label: string): string | null {
  const v = value.trim();
  if (!v) return `${label} is required.`;
  if (Number(v) <= 0) return `${label} must be positive.`;
  if (!DECIMAL.test(v)) return `${label} must be a number with at most 8 decimal places.`;
  return null;
}

export function nonNegativeDecimal(value: string, label: string): string | null {
  const v = value.trim();
  if (!v) return null;
  if (Number(v) < 0) return `${label} cannot be negative.`;
  if (!DECIMAL.test(v)) return `${label} must be a number, 0 or more, with at most 8 decimal places.`;
  return null;
}

export function pastDate(value: string, label: string): string | null {
  if (!value) return `${label} is required.`;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) return `${label} must be a date (YYYY-MM-DD).`;
  if (value < "1970-01-01") return `${label} cannot be before 1970.`;
  if (value > today()) return `${label} cannot be in the future.`;
  return null;
}

export function ticker(value: string): string | null {
  const v = value.trim();
  if (!v) return "Ticker is required.";
  if (!/^[A-Za-z0-9.\-^=]{1,20}$/.test(v)) return "Ticker may use letters, digits, dots and dashes only.";
  return null;
}

export type Errors<K extends string> = Partial<Record<K, string>>;

export function hasErrors<K extends string>(errors: Errors<K>): boolean {
  return Object.values(errors).some(Boolean);
}
