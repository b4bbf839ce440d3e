import { render, screen } from "@testing-library/react";
import type { TooltipItem } from "chart.js";
import { describe, expect, it } from "vitest";
import { BLANK_COLOR, HeatMap, heatGrid, heatMapConfig, type GridResult } from "./HeatMap";

const RESULTS: GridResult[] = [
  { params: { fast: 5, slow: 20 }, stats: { sharpe: 0.5, trades: 10 } },
  { params: { fast: 10, slow: 20 }, stats: { sharpe: 1.25, trades: 8 } },
  { params: { fast: 5, slow: 40 }, stats: { sharpe: -0.2, trades: 4 } },
  // (10, 40) was skipped: no result.
];

describe("the sweep heat map", () => {
  it("has one cell per pair of grid values, blank where a combination has no result", () => {
    const grid = heatGrid({ results: RESULTS, x: "fast", y: "slow", stat: "sharpe", format: (v) => v.toFixed(2) });
    expect(grid.cells).toHaveLength(4);
    const byPair = Object.fromEntries(grid.cells.map((c) => [`${c.x}/${c.y}`, c.text]));
    expect(byPair).toEqual({ "5/20": "0.50", "10/20": "1.25", "5/40": "-0.20", "10/40": "–" });
    const blank = grid.cells.find((c) => c.x === "10" && c.y === "40");
    expect(blank).toMatchObject({ value: null, color: BLANK_COLOR, title: "fast 10, slow 40: no result" });
  });

  it("colours the best cell green and the worst red", () => {
    const grid = heatGrid({ results: RESULTS, x: "fast", y: "slow", stat: "sharpe" });
    const fill = (x: string, y: string) => grid.cells.find((c) => c.x === x && c.y === y)?.color;
    expect(fill("10", "20")).toMatch(/^hsl\(120,/);
    expect(fill("5", "40")).toMatch(/^hsl\(0,/);
  });

  it("colours the smallest value green where lower is better, and keeps the smallest of a pair", () => {
    const results: GridResult[] = [
      { params: { fast: 5, slow: 20 }, stats: { max_drawdown: 0.3 } },
      { params: { fast: 10, slow: 20 }, stats: { max_drawdown: 0.1 } },
      { params: { fast: 10, slow: 20, stop: 2 }, stats: { max_drawdown: 0.2 } },
    ];
    const grid = heatGrid({ results, x: "fast", y: "slow", stat: "max_drawdown", lowerIsBetter: true, format: (v) => v.toFixed(1) });
    const cell = (x: string) => grid.cells.find((c) => c.x === x);
    expect(cell("10")?.text).toBe("0.1");
    expect(cell("10")?.color).toMatch(/^hsl\(120,/);
    expect(cell("5")?.color).toMatch(/^hsl\(0,/);
  });

  it("orders axis values as numbers", () => {
    const results: GridResult[] = [5, 100, 20].map((fast) => ({ params: { fast, slow: 200 }, stats: { sharpe: fast } }));
    const grid = heatGrid({ results, x: "fast", y: "slow", stat: "sharpe" });
    expect(grid.xs).toEqual(["5", "20", "100"]);
    expect(grid.cells.map((c) => c.x)).toEqual(["5", "20", "100"]);
  });

  it("hands Chart.js every cell with its colour, text and tooltip, on category axes named after the parameters", () => {
    const grid = heatGrid({ results: RESULTS, x: "fast", y: "slow", stat: "sharpe", format: (v) => v.toFixed(2) });
    const config = heatMapConfig(grid, "fast", "slow");
    const dataset = config.data.datasets[0];
    expect(dataset.data).toEqual([
      { x: "5", y: "20", v: 0.5 },
      { x: "10", y: "20", v: 1.25 },
      { x: "5", y: "40", v: -0.2 },
      { x: "10", y: "40", v: undefined },
    ]);
    expect(dataset.backgroundColor).toEqual(grid.cells.map((c) => c.color));
    expect((dataset.backgroundColor as string[])[3]).toBe(BLANK_COLOR);
    expect(config.options?.plugins?.cellText?.texts).toEqual(["0.50", "1.25", "-0.20", "–"]);
    expect(config.options?.scales?.x).toMatchObject({ type: "category", labels: ["5", "10"], title: { text: "fast" } });
    expect(config.options?.scales?.y).toMatchObject({ type: "category", labels: ["20", "40"], reverse: false, title: { text: "slow" } });
    const label = config.options?.plugins?.tooltip?.callbacks?.label as (item: TooltipItem<"matrix">) => string;
    expect(label({ dataIndex: 3 } as TooltipItem<"matrix">)).toBe("fast 10, slow 40: no result");
    expect(label({ dataIndex: 1 } as TooltipItem<"matrix">)).toBe("fast 10, slow 20: 1.25");
  });

  it("is an image named by the statistic and both parameters", () => {
    render(<HeatMap results={RESULTS} x="fast" y="slow" stat="max_drawdown" label="Max drawdown" lowerIsBetter />);
    expect(screen.getByRole("img", { name: "Max drawdown by fast and slow" }).tagName).toBe("CANVAS");
  });

  it("says so when there is nothing to draw", () => {
    render(<HeatMap results={[]} x="fast" y="slow" stat="sharpe" />);
    expect(screen.getByText("No results to draw.")).toBeTruthy();
    expect(screen.queryByRole("img")).toBeNull();
  });
});
