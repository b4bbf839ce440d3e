import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { Navigate, NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { ApiError, api, call, setUnauthorizedHandler } from "../api/client";
import { ROLE_LABELS, useMe } from "../lib/auth";
import { ErrorBox, Loading } from "./Status";

/** The signed-in frame: header, navigation, and the current screen. */
export function Shell() {
  const me = useMe();
  const location = useLocation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();

  useEffect(() => {
    setUnauthorizedHandler(() => {
      queryClient.clear();
      navigate("/signin", { replace: true, state: { from: window.location.pathname.replace(/^\/app/, "") || "/" } });
    });
    return () => setUnauthorizedHandler(null);
  }, [navigate, queryClient]);

  const signOut = useMutation({
    mutationFn: () => call(api.POST("/auth/cookie/logout")),
    onSettled: () => {
      queryClient.clear();
      navigate("/signin", { replace: true });
    },
  });

  if (me.error instanceof ApiError && me.error.status === 401) {
    return <Navigate to="/signin" replace state={{ from: location.pathname }} />;
  }
  if (me.error) {
    return (
      <main className="page">
        <ErrorBox error={me.error} title="Cannot load your account" />
      </main>
    );
  }
  if (!me.data) return <Loading label="Signing in…" />;
  const user = me.data;

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand">
          Folio
        </NavLink>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Overview
          </NavLink>
          <NavLink to="/instruments">Instruments</NavLink>
          <NavLink to="/strategies">Strategies</NavLink>
          <NavLink to="/backtests">Backtests</NavLink>
          {user.role === "admin" && <NavLink to="/admin">Admin</NavLink>}
        </nav>
        <div className="user">
          <span className="user-name">{user.full_name || user.username}</span>
          <span className="badge">{ROLE_LABELS[user.role]}</span>
          <button type="button" className="link-button" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" className="page" tabIndex={-1}>
        <Outlet context={user} />
      </main>
    </div>
  );
}
