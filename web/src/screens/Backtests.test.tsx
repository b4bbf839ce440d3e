import { screen } from "@testing-library/react";
import { Outlet, Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";
import type { User } from "../lib/auth";
import { json, renderWithProviders, stubFetch } from "../test/utils";
import Backtests, { formatStat, rankBy, statClass, statLabel } from "./Backtests";

function user(role: User["role"]): User {
  return {
    id: "u1",
    email: "v@desk.example",
    username: "v",
    full_name: "Vera Viewer",
    role,
    team_id: null,
    is_active: true,
    is_superuser: false,
    is_verified: true,
    approved_at: null,
    approved_by: null,
    created_at: "2026-01-01T00:00:00Z",
  } as User;
}

function renderAs(role: User["role"]) {
  return renderWithProviders(
    <Routes>
      <Route element={<Outlet context={user(role)} />}>
        <Route path="/backtests" element={<Backtests />} />
      </Route>
    </Routes>,
    { route: "/backtests" },
  );
}

describe("the backtests screen", () => {
  it("tells a viewer plainly and does not ask for the list", async () => {
    const { calls } = stubFetch(() => json({ items: [], total: 0 }));
    renderAs("viewer");
    expect(await screen.findByText(/Viewers cannot run or list backtests/)).toBeTruthy();
    expect(calls).toHaveLength(0);
  });

  it("lists an analyst's own backtests", async () => {
    const { calls } = stubFetch(() => json({ items: [], total: 0 }));
    renderAs("analyst");
    expect(await screen.findByText("None yet.")).toBeTruthy();
    expect(calls.map((c) => c.url.pathname)).toEqual(["/backtests"]);
  });
});

describe("backtest statistics", () => {
  it("name themselves readably", () => {
    expect(statLabel("max_drawdown")).toBe("Max drawdown");
    expect(statLabel("buy_hold_return")).toBe("Buy & hold return");
    expect(statLabel("sqn")).toBe("SQN");
    expect(statLabel("something_new")).toBe("Something new");
  });

  it("show a drawdown as a fall in red, never green", () => {
    expect(formatStat("max_drawdown", 0.125)).toMatch(/^-12\.50\s?%$/);
    expect(statClass("max_drawdown", 0.125)).toBe("neg");
    expect(statClass("volatility", 0.2)).toBe("");
    expect(statClass("total_return", 0.2)).toBe("pos");
    expect(statClass("trades", 12)).toBe("");
  });

  it("rank the best first: the highest Sharpe, the smallest drawdown, missing values last", () => {
    const results = [
      { params: { fast: 5 }, stats: { sharpe: 0, max_drawdown: 0.3 } },
      { params: { fast: 10 }, stats: { sharpe: 1.2, max_drawdown: 0.1 } },
      { params: { fast: 15 }, stats: { sharpe: null, max_drawdown: null } },
      { params: { fast: 20 }, stats: { sharpe: -0.5, max_drawdown: 0.2 } },
    ];
    expect(rankBy(results, "sharpe").map((r) => r.params.fast)).toEqual([10, 5, 20, 15]);
    expect(rankBy(results, "max_drawdown").map((r) => r.params.fast)).toEqual([10, 20, 5, 15]);
  });
});
