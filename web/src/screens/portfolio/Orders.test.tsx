import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { json, renderWithProviders, stubFetch } from "../../test/utils";
import { PaperBroker } from "./Orders";

describe("the paper broker button", () => {
  it("runs the broker with an empty body and tells what it did", async () => {
    const { calls } = stubFetch(() => json({ through: "2026-12-03", portfolios: 2, fills: 3, expired: 1, rejected: 0 }));
    const user = userEvent.setup();
    renderWithProviders(<PaperBroker />);
    expect(screen.getByText(/first trading day's bar after the day they were placed/)).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Run the paper broker" }));
    expect((await screen.findByRole("status")).textContent).toBe("Ran through 2026-12-03: 3 fills, 1 expired, 0 rejected.");
    expect(calls[0].method).toBe("POST");
    expect(calls[0].url.pathname).toBe("/broker/paper/run");
    expect(JSON.parse(calls[0].body)).toEqual({});
  });
});
