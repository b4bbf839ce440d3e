import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { json, renderWithProviders, stubFetch } from "../../test/utils";
import { PolicyForm, type PolicyOut } from "./Policy";

const POLICY: PolicyOut = {
  max_position_weight: { limit: "0.05", severity: "hard" },
  max_sector_weight: null,
  cash_band: { limit: { min: "0.02", max: "0.10" }, severity: "soft" },
  restricted_tickers: { limit: ["XYZ"], severity: "hard" },
  max_order_notional: null,
  price_band: null,
};

describe("the policy form", () => {
  it("shows the current rules", () => {
    renderWithProviders(<PolicyForm slug="growth" policy={POLICY} canEdit />);
    expect((screen.getByLabelText("Max position weight") as HTMLInputElement).checked).toBe(true);
    expect((screen.getAllByLabelText("Limit (fraction)")[0] as HTMLInputElement).value).toBe("0.05");
    expect((screen.getByLabelText("Max sector weight") as HTMLInputElement).checked).toBe(false);
    expect((screen.getByLabelText("Minimum cash (fraction)") as HTMLInputElement).value).toBe("0.02");
    expect((screen.getByLabelText("Tickers (comma-separated)") as HTMLInputElement).value).toBe("XYZ");
  });

  it("refuses a weight above 1 without saving", async () => {
    const { calls } = stubFetch(() => json(POLICY));
    const user = userEvent.setup();
    renderWithProviders(<PolicyForm slug="growth" policy={POLICY} canEdit />);
    const weight = screen.getAllByLabelText("Limit (fraction)")[0];
    await user.clear(weight);
    await user.type(weight, "5");
    await user.click(screen.getByRole("button", { name: "Save policy" }));
    expect((await screen.findByRole("alert")).textContent).toContain("Max position weight must be a fraction");
    expect(calls).toHaveLength(0);
  });

  it("PUTs the whole policy, leaving out the rules turned off", async () => {
    const { calls } = stubFetch((c) => json(JSON.parse(c.body)));
    const user = userEvent.setup();
    renderWithProviders(<PolicyForm slug="growth" policy={POLICY} canEdit />);
    await user.click(screen.getByLabelText("Restricted tickers"));
    await user.click(screen.getByLabelText("Max order notional"));
    await user.clear(screen.getByLabelText("Limit (base currency)"));
    await user.type(screen.getByLabelText("Limit (base currency)"), "25000");
    await user.click(screen.getByRole("button", { name: "Save policy" }));
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Policy saved."));
    expect(calls[0].method).toBe("PUT");
    expect(calls[0].url.pathname).toBe("/portfolios/growth/policy");
    expect(JSON.parse(calls[0].body)).toEqual({
      max_position_weight: { limit: "0.05", severity: "hard" },
      max_order_notional: { limit: "25000", severity: "hard" },
      cash_band: { limit: { min: "0.02", max: "0.10" }, severity: "soft" },
    });
  });

  it("is read-only for those who may not change it", () => {
    renderWithProviders(<PolicyForm slug="growth" policy={POLICY} canEdit={false} />);
    expect((screen.getByRole("button", { name: "Save policy" }) as HTMLButtonElement).disabled).toBe(true);
  });
});
