import type { ReactNode } from "react";
import { ApiError, errorMessage } from "../api/client";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p className="muted loading" role="status" aria-live="polite">
      {label}
    </p>
  );
}

export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const code = error instanceof ApiError ? error.code : null;
  return (
    <div className="error-box" role="alert">
      {title && <strong>{title}: </strong>}
      <span className="error-message">{errorMessage(error)}</span>
      {code && <code className="error-code">{code}</code>}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="muted empty">{children}</p>;
}

interface QueryLike<T> {
  data: T | undefined;
  error: unknown;
  isPending: boolean;
}

/** Loading, error and empty states around a query's data. */
export function QueryView<T>({
  query,
  isEmpty,
  empty,
  children,
  label,
}: {
  query: QueryLike<T>;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
  label?: string;
}) {
  if (query.error) return <ErrorBox error={query.error} />;
  if (query.isPending || query.data === undefined) return <Loading label={label} />;
  if (isEmpty?.(query.data)) return <Empty>{empty ?? "Nothing here yet."}</Empty>;
  return <>{children(query.data)}</>;
}
