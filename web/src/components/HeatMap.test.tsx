import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { HeatMap, type GridResult } from "./HeatMap";

const RESULTS: GridResult[] = [
  { params: { fast: 5, slow: 20 }, stats: { sharpe: 0.5, trades: 10 } },
  { params: { fast: 10, slow: 20 }, stats: { sharpe: 1.25, trades: 8 } },
  { params: { fast: 5, slow: 40 }, stats: { sharpe: -0.2, trades: 4 } },
  // (10, 40) was skipped: no result.
];

describe("the sweep heat map", () => {
  it("draws one cell per pair of grid values, blank where a combination has no result", () => {
    render(<HeatMap results={RESULTS} x="fast" y="slow" stat="sharpe" format={(v) => v.toFixed(2)} />);
    expect(screen.getByRole("img", { name: "sharpe by fast and slow" })).toBeTruthy();
    const cells = screen.getAllByTestId("heat-cell");
    expect(cells).toHaveLength(4);
    const byPair = Object.fromEntries(cells.map((c) => [`${c.getAttribute("data-x")}/${c.getAttribute("data-y")}`, c.querySelector("text.cell-value")?.textContent]));
    expect(byPair).toEqual({ "5/20": "0.50", "10/20": "1.25", "5/40": "-0.20", "10/40": "–" });
    expect(cells.find((c) => c.getAttribute("data-x") === "10" && c.getAttribute("data-y") === "40")?.querySelector("title")?.textContent).toBe("fast 10, slow 40: no result");
  });

  it("colours the best cell green and the worst red", () => {
    render(<HeatMap results={RESULTS} x="fast" y="slow" stat="sharpe" />);
    const fill = (x: string, y: string) =>
      screen
        .getAllByTestId("heat-cell")
        .find((c) => c.getAttribute("data-x") === x && c.getAttribute("data-y") === y)
        ?.querySelector("rect")
        ?.getAttribute("fill");
    expect(fill("10", "20")).toMatch(/^hsl\(120,/);
    expect(fill("5", "40")).toMatch(/^hsl\(0,/);
  });

  it("colours the smallest value green where lower is better, and keeps the smallest of a pair", () => {
    const results: GridResult[] = [
      { params: { fast: 5, slow: 20 }, stats: { max_drawdown: 0.3 } },
      { params: { fast: 10, slow: 20 }, stats: { max_drawdown: 0.1 } },
      { params: { fast: 10, slow: 20, stop: 2 }, stats: { max_drawdown: 0.2 } },
    ];
    render(<HeatMap results={results} x="fast" y="slow" stat="max_drawdown" label="Max drawdown" lowerIsBetter format={(v) => v.toFixed(1)} />);
    expect(screen.getByRole("img", { name: "Max drawdown by fast and slow" })).toBeTruthy();
    const cell = (x: string) => screen.getAllByTestId("heat-cell").find((c) => c.getAttribute("data-x") === x);
    expect(cell("10")?.querySelector("text.cell-value")?.textContent).toBe("0.1");
    expect(cell("10")?.querySelector("rect")?.getAttribute("fill")).toMatch(/^hsl\(120,/);
    expect(cell("5")?.querySelector("rect")?.getAttribute("fill")).toMatch(/^hsl\(0,/);
  });

  it("orders axis values as numbers", () => {
    const results: GridResult[] = [5, 100, 20].map((fast) => ({ params: { fast, slow: 200 }, stats: { sharpe: fast } }));
    render(<HeatMap results={results} x="fast" y="slow" stat="sharpe" />);
    expect(screen.getAllByTestId("heat-cell").map((c) => c.getAttribute("data-x"))).toEqual(["5", "20", "100"]);
  });
});
