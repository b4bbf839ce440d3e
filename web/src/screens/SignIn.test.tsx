import { fireEvent, screen, waitFor } from "@testing-library/react";
import { Route, Routes } from "react-router";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { json, renderWithProviders, stubFetch, type Call } from "../test/utils";
import SignIn from "./SignIn";

const SIGNED_OUT = json({ error: { code: "not_authenticated", message: "Sign in first.", details: {} } }, 401);

/** Not signed in (GET /users/me is 401); everything else answered by the handler. */
function signedOut(handler: (c: Call) => Response) {
  return stubFetch((c) => (c.url.pathname === "/users/me" ? SIGNED_OUT.clone() : handler(c)));
}

describe("the sign-in form", () => {
  it("labels its fields and asks for both", async () => {
    const { calls } = signedOut(() => json({}));
    renderWithProviders(<SignIn />, { route: "/signin" });
    expect(screen.getByLabelText("Email")).toBeTruthy();
    expect(screen.getByLabelText("Password")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect((await screen.findByRole("alert")).textContent).toContain("Enter your email and password.");
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);
  });

  it("posts the form-encoded credentials to the cookie login", async () => {
    const { calls } = signedOut((c) => (c.url.pathname === "/auth/cookie/login" ? new Response(null, { status: 204 }) : json({})));
    const user = userEvent.setup();
    renderWithProviders(<SignIn />, { route: "/signin" });
    await user.type(screen.getByLabelText("Email"), "pm@desk.example");
    await user.type(screen.getByLabelText("Password"), "correct horse battery");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(calls.some((c) => c.url.pathname === "/auth/cookie/login")).toBe(true));
    const login = calls.find((c) => c.url.pathname === "/auth/cookie/login")!;
    expect(login.method).toBe("POST");
    expect(login.headers.get("Content-Type")).toContain("application/x-www-form-urlencoded");
    const form = new URLSearchParams(login.body);
    expect(form.get("username")).toBe("pm@desk.example");
    expect(form.get("password")).toBe("correct horse battery");
  });

  it("shows the API's message when sign-in is refused", async () => {
    signedOut(() => json({ error: { code: "account_pending_approval", message: "This account is waiting for an admin's approval.", details: {} } }, 403));
    const user = userEvent.setup();
    renderWithProviders(<SignIn />, { route: "/signin" });
    await user.type(screen.getByLabelText("Email"), "new@desk.example");
    await user.type(screen.getByLabelText("Password"), "whatever12345");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("This account is waiting for an admin's approval.");
    expect(alert.textContent).toContain("account_pending_approval");
    // a new problem found before sending replaces the old refusal
    await user.clear(screen.getByLabelText("Password"));
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(screen.getAllByRole("alert").map((a) => a.textContent)).toEqual(["Enter your email and password."]));
  });

  it("sends a signed-in user to the overview", async () => {
    stubFetch(() => json({ id: "u1", email: "pm@desk.example", role: "portfolio_manager" }));
    renderWithProviders(
      <Routes>
        <Route path="/signin" element={<SignIn />} />
        <Route path="/" element={<h1>Overview</h1>} />
      </Routes>,
      { route: "/signin" },
    );
    expect(await screen.findByRole("heading", { name: "Overview" })).toBeTruthy();
  });
});
