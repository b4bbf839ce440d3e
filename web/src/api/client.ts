import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type ErrorBody = Schemas["ErrorEnvelope"];

export const CSRF_COOKIE = "csrftoken";
export const CSRF_HEADER = "X-CSRF-Token";
const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** An API error, carrying the envelope's code, message and details. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function readCookie(name: string): string | null {
  if (typeof document === "undefined") return null;
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

type UnauthorizedHandler = () => void;
let onUnauthorized: UnauthorizedHandler | null = null;

/** Called on every 401 (the shell sends the user to the sign-in screen). */
export function setUnauthorizedHandler(handler: UnauthorizedHandler | null): void {
  onUnauthorized = handler;
}

const csrf: Middleware = {
  onRequest({ request }) {
    if (UNSAFE_METHODS.has(request.method.toUpperCase())) {
      const token = readCookie(CSRF_COOKIE);
      if (token) request.headers.set(CSRF_HEADER, token);
    }
    return request;
  },
};

const unauthorized: Middleware = {
  onResponse({ response }) {
    if (response.status === 401 && onUnauthorized) onUnauthorized();
    return response;
  },
};

export const api = createClient<paths>({
  baseUrl: "",
  credentials: "include",
  fetch: (request: Request) => globalThis.fetch(request),
});
api.use(csrf, unauthorized);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The ApiError for a failed response body (the error envelope, or whatever came). */
export function toApiError(status: number, body: unknown): ApiError {
  if (isRecord(body) && isRecord(body.error)) {
    const e = body.error;
    const code = typeof e.code === "string" ? e.code : `http_${status}`;
    const message = typeof e.message === "string" ? e.message : `Request failed (${status})`;
    return new ApiError(status, code, message, isRecord(e.details) ? e.details : {});
  }
  if (isRecord(body) && typeof body.detail === "string") {
    return new ApiError(status, body.detail, body.detail);
  }
  const text = typeof body === "string" && body.trim() ? body.trim().slice(0, 200) : `Request failed (${status})`;
  return new ApiError(status, `http_${status}`, text);
}

interface ApiResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Awaits an openapi-fetch call: its data, or an ApiError with the API's message. */
export async function call<T>(pending: Promise<ApiResult<T>>): Promise<T> {
  let result: ApiResult<T>;
  try {
    result = await pending;
  } catch (cause) {
    throw new ApiError(0, "network_error", "The API cannot be reached. Check your connection and try again.", {
      cause: String(cause),
    });
  }
  if (!result.response.ok) throw toApiError(result.response.status, result.error);
  return result.data as T;
}

/** Describes any thrown value for the UI. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** A fresh Idempotency-Key for one submission. */
export function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}
