import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Navigate, useLocation, useNavigate } from "react-router";
import { api, call } from "../api/client";
import { ErrorBox } from "../components/Status";
import { ME_KEY, useMe } from "../lib/auth";

interface Credentials {
  email: string;
  password: string;
}

export function signIn({ email, password }: Credentials) {
  return call(
    api.POST("/auth/cookie/login", {
      body: { username: email, password, scope: "" },
      bodySerializer: (body) => new URLSearchParams({ username: body.username, password: body.password }).toString(),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    }),
  );
}

export default function SignIn() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const navigate = useNavigate();
  const location = useLocation();
  const queryClient = useQueryClient();
  const from = (location.state as { from?: string } | null)?.from;
  const target = from && from !== "/signin" ? from : "/";
  const me = useMe();

  const login = useMutation({
    mutationFn: signIn,
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ME_KEY });
      navigate(target, { replace: true });
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!email.trim() || !password) {
      setProblem("Enter your email and password.");
      login.reset(); // the last refusal no longer applies
      return;
    }
    setProblem(null);
    login.mutate({ email: email.trim(), password });
  }

  // Already signed in: nothing to do here.
  if (me.data) return <Navigate to={target} replace />;

  return (
    <main className="signin">
      <form className="card signin-card" onSubmit={submit} noValidate aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to Folio</h1>
        <label htmlFor="signin-email">Email</label>
        <input
          id="signin-email"
          type="email"
          autoComplete="username"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          required
        />
        <label htmlFor="signin-password">Password</label>
        <input
          id="signin-password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
        {problem && (
          <p className="field-error" role="alert">
            {problem}
          </p>
        )}
        <ErrorBox error={login.error} />
        <button type="submit" className="primary" disabled={login.isPending}>
          {login.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
