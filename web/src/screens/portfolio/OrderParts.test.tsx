import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { json, renderWithProviders, stubFetch } from "../../test/utils";
import { OrderForm } from "./OrderParts";

const CHECK = {
  pass: false,
  hard_breach: false,
  soft_breach: true,
  results: [
    { rule: "max_position_weight", severity: "soft", observed: "0.0812", limit: "0.05", pass: false },
    { rule: "cash_band", severity: "soft", observed: "0.04", limit: { min: "0.02", max: "0.10" }, pass: true },
    { rule: "restricted_tickers", severity: "hard", observed: "AAPL", limit: ["XYZ"], pass: true },
    { rule: "allow_short", severity: "hard", observed: false, limit: false, pass: true },
  ],
};

describe("the order form's check", () => {
  it("shows every rule's observed value, limit and result", async () => {
    const { calls } = stubFetch(() => json(CHECK));
    const user = userEvent.setup();
    renderWithProviders(<OrderForm slug="growth" canOverride={false} />);
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
      ["Max position weight", "soft", "0.0812", "0.05", "fail"],
      ["Cash band", "soft", "0.04", "0.02 to 0.10", "pass"],
      ["Restricted tickers", "hard", "AAPL", "XYZ", "pass"],
      ["Short selling", "hard", "no", "no", "pass"],
    ]);
  });

  it("validates before checking and needs a stop price for stop orders", async () => {
    const { calls } = stubFetch(() => json(CHECK));
    const user = userEvent.setup();
    renderWithProviders(<OrderForm slug="growth" canOverride={false} />);
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
    renderWithProviders(<OrderForm slug="growth" canOverride />);
    await user.type(screen.getByLabelText("Ticker"), "ZZZZ");
    await user.type(screen.getByLabelText("Quantity"), "1");
    await user.click(screen.getByRole("button", { name: "Place order" }));
    expect((await screen.findByRole("alert")).textContent).toContain("No such ticker: ZZZZ.");
    const body = JSON.parse(calls[0].body) as Record<string, unknown>;
    expect(calls[0].url.pathname).toBe("/portfolios/growth/orders");
    expect(typeof body.client_order_id).toBe("string");
  });
});
