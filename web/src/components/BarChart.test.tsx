import { render } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { BarChart, shortLabel } from "./BarChart";

describe("the bar chart", () => {
  it("shows a long sector name whole, and cuts only a longer one, named in full in its title", () => {
    const { container } = render(
      <BarChart
        bars={[
          { label: "Communication Services", value: 0.2 },
          { label: "A sector with a very long name indeed", value: 0.1 },
        ]}
        label="Weights"
      />,
    );
    const labels = [...container.querySelectorAll("text.bar-label")].map((t) => t.textContent);
    expect(labels[0]).toBe("Communication Services");
    expect(labels[1]).toBe(shortLabel("A sector with a very long name indeed"));
    expect(labels[1]).toMatch(/…$/);
    expect(container.querySelectorAll("title")[1].textContent).toBe("A sector with a very long name indeed: 10.00 %");
    const label = container.querySelector("text.bar-label")!;
    expect(Number(label.getAttribute("x"))).toBeGreaterThanOrEqual(160);
  });
});
