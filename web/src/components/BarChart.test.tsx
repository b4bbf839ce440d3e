import { render, screen } from "@testing-library/react";
import type { TooltipItem } from "chart.js";
import { describe, expect, it, vi } from "vitest";
import { BAR_COLOR, BarChart, barChartConfig, NEG_COLOR, shortLabel, type Bar } from "./BarChart";

// happy-dom has no canvas: stand in for Chart.js to see what the component hands it, and when.
const charts = vi.hoisted(() => [] as { canvas: HTMLCanvasElement; config: { data: unknown }; destroyed: boolean; updates: number; data: unknown }[]);
vi.mock("chart.js", async (importOriginal) => {
  const mod = await importOriginal<typeof import("chart.js")>();
  class FakeChart {
    static register() {}
    static defaults = mod.Chart.defaults;
    destroyed = false;
    updates = 0;
    data: unknown;
    options: unknown;
    constructor(
      public canvas: HTMLCanvasElement,
      public config: { data: unknown; options: unknown },
    ) {
      this.data = config.data;
      charts.push(this);
    }
    update() {
      this.updates += 1;
    }
    destroy() {
      this.destroyed = true;
    }
  }
  return { ...mod, Chart: FakeChart };
});

const item = (dataIndex: number) => ({ dataIndex }) as TooltipItem<"bar">;

describe("the bar chart's Chart.js config", () => {
  const bars: Bar[] = [
    { label: "Communication Services", value: 0.2 },
    { label: "A sector with a very long name indeed", value: 0.1 },
    { label: "Cash", value: -0.05, text: "-5 % (overdrawn)" },
  ];

  it("shows a long sector name whole, and cuts only a longer one, named in full in its tooltip", () => {
    const config = barChartConfig(bars);
    expect(config.data.labels).toEqual(["Communication Services", shortLabel("A sector with a very long name indeed"), "Cash"]);
    expect(config.data.labels?.[1]).toMatch(/…$/);
    expect(String(config.data.labels?.[1]).length).toBeLessThanOrEqual(24);
    const callbacks = config.options?.plugins?.tooltip?.callbacks as { title: (items: TooltipItem<"bar">[]) => string; label: (item: TooltipItem<"bar">) => string };
    expect(callbacks.title([item(1)])).toBe("A sector with a very long name indeed");
    expect(callbacks.label(item(1))).toBe("10.00 %");
  });

  it("draws |value| as bar lengths, negatives in red, and writes each bar's text (a percentage unless given)", () => {
    const config = barChartConfig(bars);
    const dataset = config.data.datasets[0];
    expect(dataset.data).toEqual([0.2, 0.1, 0.05]);
    expect(dataset.backgroundColor).toEqual([BAR_COLOR, BAR_COLOR, NEG_COLOR]);
    expect(config.options?.plugins?.barText?.texts).toEqual(["20.00 %", "10.00 %", "-5 % (overdrawn)"]);
    expect(config.options?.indexAxis).toBe("y");
    expect(config.options?.scales?.x).toMatchObject({ min: 0, max: 0.2 });
  });

  it("keeps a usable scale when every weight is zero", () => {
    expect(barChartConfig([{ label: "Cash", value: 0 }]).options?.scales?.x).toMatchObject({ min: 0, max: 1 });
  });
});

describe("the bar chart", () => {
  it("is an image named by its label, even where nothing can be drawn", () => {
    render(<BarChart bars={[{ label: "AAPL", value: 1 }]} label="Weights" />);
    expect(screen.getByRole("img", { name: "Weights" }).tagName).toBe("CANVAS");
    expect(charts).toHaveLength(0); // happy-dom: no 2D context, no chart
  });

  it("creates its chart on mount, updates it with new bars, and destroys it on unmount", () => {
    vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue({} as CanvasRenderingContext2D);
    charts.length = 0;
    const first: Bar[] = [{ label: "AAPL", value: 0.6 }];
    const { rerender, unmount } = render(<BarChart bars={first} label="Weights" />);
    expect(charts).toHaveLength(1);
    expect(charts[0].canvas).toBe(screen.getByRole("img", { name: "Weights" }));
    expect((charts[0].config.data as { labels: string[] }).labels).toEqual(["AAPL"]);

    rerender(<BarChart bars={first} label="Weights" />);
    expect(charts[0].updates).toBe(0); // same bars: nothing to redraw

    rerender(<BarChart bars={[{ label: "MSFT", value: 0.4 }]} label="Weights" />);
    expect(charts).toHaveLength(1);
    expect(charts[0].updates).toBe(1);
    expect((charts[0].data as { labels: string[] }).labels).toEqual(["MSFT"]);

    unmount();
    expect(charts[0].destroyed).toBe(true);
  });
});
