import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { renderWithProviders } from "../../test/utils";
import { PositionsTable, pricesNote, type Position } from "./Positions";

function position(ticker: string, quantity: string, market_value: string, unrealized_pnl: string, weight: string): Position {
  return {
    ticker,
    quantity,
    average_cost: "10.00",
    cost_basis: "100.00",
    realized_pnl: "0",
    last_price: "12.00",
    market_value,
    unrealized_pnl,
    weight,
    opened_on: "2026-01-02",
    price_date: "2026-03-02",
  };
}

const POSITIONS = [
  position("MSFT", "5", "2000.10", "150.05", "0.2"),
  position("AAPL", "20", "3500.20", "-20.10", "0.35"),
  position("KO", "100", "999.70", "0.05", "0.1"),
];

function tickers(): string[] {
  const body = screen.getAllByRole("rowgroup")[1];
  return within(body)
    .getAllByRole("row")
    .map((r) => within(r).getAllByRole("cell")[0].textContent ?? "");
}

describe("the positions table", () => {
  it("starts sorted by market value, largest first", () => {
    renderWithProviders(<PositionsTable positions={POSITIONS} currency="USD" />);
    expect(tickers()).toEqual(["AAPL", "MSFT", "KO"]);
  });

  it("sorts by a column when its heading is pressed, and again the other way", async () => {
    const user = userEvent.setup();
    renderWithProviders(<PositionsTable positions={POSITIONS} currency="USD" />);
    await user.click(screen.getByRole("button", { name: /Quantity/ }));
    const first = tickers();
    await user.click(screen.getByRole("button", { name: /Quantity/ }));
    const second = tickers();
    expect([first, second]).toContainEqual(["MSFT", "AAPL", "KO"]);
    expect([first, second]).toContainEqual(["KO", "AAPL", "MSFT"]);
    expect(screen.getByRole("columnheader", { name: /Quantity/ }).getAttribute("aria-sort")).not.toBe("none");
    await user.click(screen.getByRole("button", { name: /Ticker/ }));
    const byTicker = tickers();
    expect([["AAPL", "KO", "MSFT"], ["MSFT", "KO", "AAPL"]]).toContainEqual(byTicker);
  });

  it("sorts P&L as numbers, not as text", async () => {
    const user = userEvent.setup();
    renderWithProviders(<PositionsTable positions={POSITIONS} currency="USD" />);
    const button = screen.getByRole("button", { name: /Unrealized/ });
    await user.click(button);
    let order = tickers();
    if (order[0] !== "AAPL") {
      await user.click(button);
      order = tickers();
    }
    expect(order).toEqual(["AAPL", "KO", "MSFT"]);
  });

  it("adds exact totals in the portfolio's currency", () => {
    renderWithProviders(<PositionsTable positions={POSITIONS} currency="USD" />);
    expect(screen.getByTestId("total-market-value").textContent).toBe("$6,500.00");
    expect(screen.getByTestId("total-unrealized").textContent).toBe("$130.00");
    expect(screen.getByTestId("total-weight").textContent).toBe("65.00%");
  });

  it("formats money in another base currency", () => {
    renderWithProviders(<PositionsTable positions={POSITIONS} currency="EUR" />);
    expect(screen.getByTestId("total-market-value").textContent).toBe("€6,500.00");
  });

  it("says which closes the prices are", () => {
    expect(pricesNote(POSITIONS)).toMatch(/^Prices: closes of 2026-03-02\./);
    expect(pricesNote([{ price_date: "2026-03-02" }, { price_date: "2026-02-27" }, { price_date: null }])).toMatch(/^Prices: closes of 2026-02-27 to 2026-03-02\./);
    expect(pricesNote([])).toBe("Prices: no close known yet.");
  });
});
