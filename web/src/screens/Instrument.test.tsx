import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes, useLocation } from "react-router";
import { describe, expect, it } from "vitest";
import { clampedRangeStart } from "../lib/format";
import { json, renderWithProviders, stubFetch } from "../test/utils";
import Instrument from "./Instrument";

function Where() {
  return <output data-testid="path">{useLocation().pathname}</output>;
}

describe("the instrument screen", () => {
  it("asks at most 7300 days of prices, All included", async () => {
    const { calls } = stubFetch(() => json({ items: [], total: 0, provider: "sim", stale: false }));
    const user = userEvent.setup();
    renderWithProviders(
      <Routes>
        <Route path="/instruments/:ticker" element={<Instrument />} />
      </Routes>,
      { route: "/instruments/SPY" },
    );
    await user.click(screen.getByRole("button", { name: "All" }));
    await waitFor(() => expect(calls.some((c) => c.url.pathname.endsWith("/prices") && c.url.searchParams.get("start") === clampedRangeStart("All"))).toBe(true));
    for (const c of calls.filter((x) => x.url.searchParams.has("start"))) {
      const days = (Date.now() - Date.parse(c.url.searchParams.get("start")!)) / 86_400_000;
      expect(days).toBeLessThanOrEqual(7301);
    }
  });

  it("puts a searched ticker in the address", async () => {
    stubFetch(() => json({ items: [], total: 0, provider: "sim", stale: false }));
    const user = userEvent.setup();
    renderWithProviders(
      <>
        <Routes>
          <Route path="/instruments" element={<Instrument />} />
          <Route path="/instruments/:ticker" element={<Instrument />} />
        </Routes>
        <Where />
      </>,
      { route: "/instruments" },
    );
    await user.type(screen.getByLabelText("Ticker"), "msft{Enter}");
    await waitFor(() => expect(screen.getByTestId("path").textContent).toBe("/instruments/MSFT"));
    expect(screen.getByRole("heading", { name: "MSFT" })).toBeTruthy();
  });
});

describe("a range's start", () => {
  const now = new Date(2026, 11, 3);
  it("is the range's own when short, and never more than 7300 days back", () => {
    expect(clampedRangeStart("1Y", now)).toBe("2025-12-03");
    expect(clampedRangeStart("All", now)).toBe("2006-12-08");
    expect(clampedRangeStart("1M", now, 10)).toBe("2026-11-23");
  });
});
