import { fireEvent, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { json, renderWithProviders, stubFetch } from "../test/utils";
import SignIn from "./SignIn";

describe("the sign-in form", () => {
  it("labels its fields and asks for both", async () => {
    const { calls } = stubFetch(() => json({}));
    renderWithProviders(<SignIn />, { route: "/signin" });
    expect(screen.getByLabelText("Email")).toBeTruthy();
    expect(screen.getByLabelText("Password")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect((await screen.findByRole("alert")).textContent).toContain("Enter your email and password.");
    expect(calls).toHaveLength(0);
  });

  it("posts the form-encoded credentials to the cookie login", async () => {
    const { calls } = stubFetch((c) => (c.url.pathname === "/auth/cookie/login" ? new Response(null, { status: 204 }) : json({})));
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
    stubFetch(() => json({ error: { code: "account_pending_approval", message: "This account is waiting for an admin's approval.", details: {} } }, 403));
    const user = userEvent.setup();
    renderWithProviders(<SignIn />, { route: "/signin" });
    await user.type(screen.getByLabelText("Email"), "new@desk.example");
    await user.type(screen.getByLabelText("Password"), "whatever12345");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("This account is waiting for an admin's approval.");
    expect(alert.textContent).toContain("account_pending_approval");
  });
});
