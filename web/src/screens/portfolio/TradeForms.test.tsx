import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { json, renderWithProviders, stubFetch } from "../../test/utils";
import { CsvImport, TradeForm } from "./TradeForms";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function booked(body: string, id: number) {
  const t = JSON.parse(body) as Record<string, string>;
  return json({ ...t, id, status: "booked", created_by: "u", created_at: "2026-01-05T10:00:00Z", cancel_reason: null, cancelled_at: null, cancelled_by: null, external_id: null }, 201);
}

describe("the trade form", () => {
  it("refuses bad input before anything is sent", async () => {
    const { calls } = stubFetch(() => json({}));
    const user = userEvent.setup();
    renderWithProviders(<TradeForm slug="growth" currency="USD" />);
    await user.type(screen.getByLabelText("Quantity"), "-3");
    await user.type(screen.getByLabelText("Price (USD)"), "1.123456789");
    await user.clear(screen.getByLabelText("Trade date"));
    await user.type(screen.getByLabelText("Trade date"), "2999-01-01");
    await user.click(screen.getByRole("button", { name: "Book trade" }));
    expect(await screen.findByText("Ticker is required.")).toBeTruthy();
    expect(screen.getByText("Quantity must be positive.")).toBeTruthy();
    expect(screen.getByText("Price must be a number with at most 8 decimal places.")).toBeTruthy();
    expect(screen.getByText("Trade date cannot be in the future.")).toBeTruthy();
    expect(screen.getByLabelText("Ticker").getAttribute("aria-invalid")).toBe("true");
    expect(calls).toHaveLength(0);
  });

  it("books with a fresh Idempotency-Key for every submission", async () => {
    let id = 0;
    const { calls } = stubFetch((c) => booked(c.body, ++id));
    const user = userEvent.setup();
    renderWithProviders(<TradeForm slug="growth" currency="USD" />);
    const fill = async () => {
      await user.type(screen.getByLabelText("Ticker"), "aapl");
      await user.type(screen.getByLabelText("Quantity"), "10");
      await user.type(screen.getByLabelText("Price (USD)"), "189.50");
    };
    await fill();
    await user.click(screen.getByRole("button", { name: "Book trade" }));
    expect((await screen.findByRole("status")).textContent).toContain("Booked trade #1");
    // keyboard focus follows to the confirmation, not back to the top
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole("status")));
    await fill();
    await user.click(screen.getByRole("button", { name: "Book trade" }));
    await screen.findByText(/Booked trade #2/);

    expect(calls).toHaveLength(2);
    const [first, second] = calls;
    expect(first.method).toBe("POST");
    expect(first.url.pathname).toBe("/portfolios/growth/trades");
    expect(JSON.parse(first.body)).toMatchObject({ ticker: "AAPL", side: "buy", quantity: "10", price: "189.50", fees: "0" });
    const k1 = first.headers.get("Idempotency-Key");
    const k2 = second.headers.get("Idempotency-Key");
    expect(k1).toMatch(UUID);
    expect(k2).toMatch(UUID);
    expect(k1).not.toBe(k2);
  });

  it("shows the API's refusal and retries a failed network call with the same key", async () => {
    let n = 0;
    const { calls } = stubFetch(() => {
      n += 1;
      if (n === 1) return Promise.reject(new TypeError("Failed to fetch"));
      return json({ error: { code: "insufficient_cash", message: "Not enough cash on 2026-01-05.", details: {} } }, 409);
    });
    const user = userEvent.setup();
    renderWithProviders(<TradeForm slug="growth" currency="USD" />);
    await user.type(screen.getByLabelText("Ticker"), "MSFT");
    await user.type(screen.getByLabelText("Quantity"), "1");
    await user.type(screen.getByLabelText("Price (USD)"), "400");
    await user.click(screen.getByRole("button", { name: "Book trade" }));
    expect((await screen.findByRole("alert")).textContent).toContain("cannot be reached");
    await user.click(screen.getByRole("button", { name: "Book trade" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain("Not enough cash on 2026-01-05."));
    expect(screen.getByRole("alert").textContent).toContain("insufficient_cash");
    expect(calls[0].headers.get("Idempotency-Key")).toBe(calls[1].headers.get("Idempotency-Key"));
    // editing the form again clears the old refusal
    await user.type(screen.getByLabelText("Quantity"), "0");
    expect(screen.queryByRole("alert")).toBeNull();
  });
});

describe("the CSV import", () => {
  it("lists each bad row the API reports", async () => {
    const { calls } = stubFetch(() =>
      json(
        {
          error: {
            code: "invalid_csv",
            message: "The CSV file has errors; nothing was booked.",
            details: {
              rows: [
                { row: 3, errors: ["quantity: must be greater than 0"] },
                { row: 7, errors: ["ticker: unknown ticker ZZZZ", "price: not a number"] },
              ],
              total: 2,
            },
          },
        },
        422,
      ),
    );
    const user = userEvent.setup();
    renderWithProviders(<CsvImport slug="growth" />);
    const file = new File(["trade_date,ticker,side,quantity,price\n2026-01-05,AAPL,buy,0,1\n"], "trades.csv", { type: "text/csv" });
    await user.upload(screen.getByLabelText("CSV file"), file);
    await user.click(screen.getByRole("button", { name: "Import" }));

    expect((await screen.findByRole("alert")).textContent).toContain("The CSV file has errors; nothing was booked.");
    const table = screen.getByRole("table");
    expect(within(table).getByText("2 rows with errors")).toBeTruthy();
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((r) => within(r).getAllByRole("cell").map((c) => c.textContent))).toEqual([
      ["3", "quantity: must be greater than 0"],
      ["7", "ticker: unknown ticker ZZZZ; price: not a number"],
    ]);

    expect(calls).toHaveLength(1);
    expect(calls[0].url.pathname).toBe("/portfolios/growth/trades/import");
    expect(calls[0].headers.get("Content-Type")).toContain("multipart/form-data");
    expect(calls[0].headers.get("Idempotency-Key")).toMatch(UUID);
    expect(calls[0].body).toContain('filename="trades.csv"');
  });

  it("says how many trades were booked", async () => {
    stubFetch(() => json({ booked: 12, first_trade_id: 1, last_trade_id: 12 }, 201));
    const user = userEvent.setup();
    renderWithProviders(<CsvImport slug="growth" />);
    await user.upload(screen.getByLabelText("CSV file"), new File(["x"], "t.csv", { type: "text/csv" }));
    await user.click(screen.getByRole("button", { name: "Import" }));
    expect((await screen.findByRole("status")).textContent).toBe("Booked 12 trades.");
  });
});
