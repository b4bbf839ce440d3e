import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { json, renderWithProviders, stubFetch } from "../../test/utils";
import { checkVerdict, eventText, OrderForm, type Check } from "./OrderParts";

const CHECK: Check = {
  pass: false,
  hard_breach: false,
  soft_breach: true,
  results: [
    { rule: "max_position_weight", severity: "soft", observed: "0.0812", limit: "0.05", pass: false },
    { rule: "cash_band", severity: "soft", observed: "0.04", limit: { min: "0.02", max: "0.10" }, pass: true },
    { rule: "restricted_tickers", severity: "hard", observed: "AAPL", limit: ["XYZ"], pass: true },
    { rule: "max_order_notional", severity: "hard", observed: "9500", limit: "50000", pass: true },
    { rule: "allow_short", severity: "hard", observed: "50", limit: "0", pass: true },
    { rule: "allow_negative_cash", severity: "hard", observed: "96815.84", limit: null, pass: true },
  ],
};

describe("the order form's check", () => {
  it("shows every rule's observed value, limit and result", async () => {
    const { calls } = stubFetch(() => json(CHECK));
    const user = userEvent.setup();
    renderWithProviders(<OrderForm slug="growth" currency="USD" canOverride={false} />);
    await user.type(screen.getByLabelText("Ticker"), "aapl");
    await user.type(screen.getByLabelText("Quantity"), "50");
    await user.selectOptions(screen.getByLabelText("Type"), "limit");
    await user.type(screen.getByLabelText("Limit price"), "190");
    await user.click(screen.getByRole("button", { name: "Check" }));

    expect((await screen.findByRole("status")).textContent).toContain("Soft breach");
    expect(calls).toHaveLength(1);
    expect(calls[0].url.pathname).toBe("/portfolios/growth/orders/check");
    expect(JSON.parse(calls[0].body)).toMatchObject({ ticker: "AAPL", side: "buy", type: "limit", quantity: "50", limit_price: "190", order_class: "simple" });

    const table = screen.getByRole("table");
    const rows = within(table).getAllByRole("row").slice(1).map((r) => [...r.querySelectorAll("th,td")].map((c) => c.textContent));
    expect(rows).toEqual([
      ["Max position weight", "soft", "8.12%", "5.00%", "fail"],
      ["Cash band", "soft", "4.00%", "2.00% to 10.00%", "pass"],
      ["Restricted tickers", "hard", "AAPL", "XYZ", "pass"],
      ["Max order notional", "hard", "$9,500.00", "$50,000.00", "pass"],
      ["Short selling", "hard", "50", "at least 0", "pass"],
      ["Negative cash", "hard", "$96,815.84", "allowed", "pass"],
    ]);
  });

  it("validates before checking and needs a stop price for stop orders", async () => {
    const { calls } = stubFetch(() => json(CHECK));
    const user = userEvent.setup();
    renderWithProviders(<OrderForm slug="growth" currency="USD" canOverride={false} />);
    await user.type(screen.getByLabelText("Ticker"), "MSFT");
    await user.type(screen.getByLabelText("Quantity"), "5");
    await user.selectOptions(screen.getByLabelText("Type"), "stop");
    await user.click(screen.getByRole("button", { name: "Check" }));
    expect(await screen.findByText("Stop price is required.")).toBeTruthy();
    expect(calls).toHaveLength(0);
  });

  it("places an order with a client order id and shows the API's error", async () => {
    const { calls } = stubFetch(() => json({ error: { code: "unknown_ticker", message: "No such ticker: ZZZZ.", details: {} } }, 422));
    const user = userEvent.setup();
    renderWithProviders(<OrderForm slug="growth" currency="USD" canOverride />);
    await user.type(screen.getByLabelText("Ticker"), "ZZZZ");
    await user.type(screen.getByLabelText("Quantity"), "1");
    await user.click(screen.getByRole("button", { name: "Place order" }));
    expect((await screen.findByRole("alert")).textContent).toContain("No such ticker: ZZZZ.");
    const body = JSON.parse(calls[0].body) as Record<string, unknown>;
    expect(calls[0].url.pathname).toBe("/portfolios/growth/orders");
    expect(typeof body.client_order_id).toBe("string");
  });
});

describe("an order's check and events", () => {
  it("word the check by the order's status", () => {
    expect(checkVerdict(CHECK)).toContain("would wait for the PM's override");
    expect(checkVerdict(CHECK, { status: "pending_approval", submitted_at: null })).toBe("Soft breach: the order waits for the PM's override.");
    const after = checkVerdict(CHECK, { status: "accepted", submitted_at: "2026-03-02T15:00:00Z" });
    expect(after).toContain("overridden");
    expect(after).not.toContain("would wait");
    expect(checkVerdict(CHECK, { status: "canceled", submitted_at: null })).toBe("Soft breach: the order was held and is canceled.");
  });

  it("tell each event in a sentence", () => {
    const t = (type: Parameters<typeof eventText>[0]["type"], data: Record<string, unknown>) => eventText({ type, data }, "USD");
    expect(t("placed", { client_order_id: "abc" })).toBe("Placed (client order id abc).");
    expect(t("accepted", {})).toBe("Accepted and sent to the broker.");
    expect(t("held", { failed: ["max_position_weight"] })).toBe("Held for the PM's override: max position weight breached.");
    expect(t("denied", { failed: ["restricted_tickers"] })).toBe("Denied: restricted tickers breached.");
    expect(t("overridden", { reason: "IC approved", failed: [] })).toBe("Overridden by the PM: “IC approved”.");
    expect(t("fill", { date: "2026-03-03", quantity: "50", price: "190.5", commission: "0", execution_id: "x" })).toBe("Filled 50 @ $190.50 on 2026-03-03.");
    expect(t("cancel_requested", { reason: "requested" })).toBe("Cancel requested.");
    expect(t("canceled", { reason: "the order was denied" })).toBe("Canceled: the order was denied.");
    expect(t("expired", { date: "2026-03-03" })).toBe("Expired unfilled on 2026-03-03.");
    expect(t("rejected", { code: "insufficient_cash", message: "Not enough cash." })).toBe("Rejected: Not enough cash.");
  });
});
