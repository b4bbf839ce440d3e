import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Outlet, Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";
import type { PortfolioContext } from "../../lib/portfolios";
import { json, renderWithProviders, stubFetch } from "../../test/utils";
import Dividends from "./Dividends";

const DIVIDEND = { id: 7, ticker: "KO", ex_date: "2026-03-13", pay_date: "2026-04-01", quantity: "100", cash_amount: "0.51", amount: "51.00", status: "proposed", cash_transaction_id: null };
const CONTEXT = { portfolio: { slug: "growth", base_currency: "USD" }, canManage: true, canTrade: true } as unknown as PortfolioContext;

describe("the dividends tab", () => {
  it("confirms a booked dividend", async () => {
    const { calls } = stubFetch((c) => (c.method === "POST" ? json({ ...DIVIDEND, status: "booked", cash_transaction_id: 3 }) : json({ items: [DIVIDEND], total: 1 })));
    const user = userEvent.setup();
    renderWithProviders(
      <Routes>
        <Route element={<Outlet context={CONTEXT} />}>
          <Route path="/" element={<Dividends />} />
        </Route>
      </Routes>,
    );
    await user.click(await screen.findByRole("button", { name: "Book KO dividend of 2026-04-01" }));
    expect((await screen.findByRole("status")).textContent).toBe("Booked the KO dividend of $51.00 (paid 2026-04-01) to cash.");
    expect(calls.find((c) => c.method === "POST")?.url.pathname).toBe("/portfolios/growth/dividends/7/book");
  });
});
