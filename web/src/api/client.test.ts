import { afterEach, describe, expect, it, vi } from "vitest";
import { json, stubFetch } from "../test/utils";
import { ApiError, api, call, CSRF_HEADER, setUnauthorizedHandler } from "./client";

afterEach(() => setUnauthorizedHandler(null));

describe("the API client", () => {
  it("echoes the csrftoken cookie in X-CSRF-Token on writes", async () => {
    document.cookie = "csrftoken=tok%3D123; path=/";
    const { calls } = stubFetch(() => json({ id: 1, name: "Ops" }, 201));
    await call(api.POST("/admin/teams", { body: { name: "Ops" } }));
    expect(calls).toHaveLength(1);
    expect(calls[0].method).toBe("POST");
    expect(calls[0].url.pathname).toBe("/admin/teams");
    expect(calls[0].headers.get(CSRF_HEADER)).toBe("tok=123");
    expect(calls[0].request.credentials).toBe("include");
  });

  it("sends no CSRF header on reads", async () => {
    document.cookie = "csrftoken=abc; path=/";
    const { calls } = stubFetch(() => json({ items: [], total: 0, limit: 50, offset: 0 }));
    await call(api.GET("/portfolios"));
    expect(calls[0].headers.get(CSRF_HEADER)).toBeNull();
  });

  it("sends the header on PUT, PATCH and DELETE too", async () => {
    document.cookie = "csrftoken=xyz; path=/";
    const { calls } = stubFetch(() => new Response(null, { status: 204 }));
    await call(api.DELETE("/portfolios/{slug}/members/{user_id}", { params: { path: { slug: "p", user_id: "u" } } }));
    await call(api.PATCH("/admin/users/{user_id}", { params: { path: { user_id: "u" } }, body: { role: "viewer" } }));
    expect(calls.map((c) => c.headers.get(CSRF_HEADER))).toEqual(["xyz", "xyz"]);
  });

  it("surfaces the error envelope's message and code", async () => {
    stubFetch(() => json({ error: { code: "insufficient_cash", message: "Cash would go below zero on 2026-01-05.", details: { date: "2026-01-05" } } }, 409));
    const failure = call(api.GET("/portfolios/{slug}", { params: { path: { slug: "growth" } } }));
    await expect(failure).rejects.toBeInstanceOf(ApiError);
    await expect(failure).rejects.toMatchObject({
      status: 409,
      code: "insufficient_cash",
      message: "Cash would go below zero on 2026-01-05.",
      details: { date: "2026-01-05" },
    });
  });

  it("turns a network failure into a readable error", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    await expect(call(api.GET("/users/me"))).rejects.toMatchObject({ code: "network_error" });
  });

  it("calls the unauthorized handler on 401", async () => {
    const handler = vi.fn();
    setUnauthorizedHandler(handler);
    stubFetch(() => json({ error: { code: "unauthorized", message: "Sign in first.", details: {} } }, 401));
    await expect(call(api.GET("/users/me"))).rejects.toMatchObject({ status: 401, message: "Sign in first." });
    expect(handler).toHaveBeenCalledTimes(1);
  });
});
