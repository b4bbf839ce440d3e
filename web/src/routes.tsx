import type { ComponentType } from "react";
import { Link, type RouteObject } from "react-router";
import { Shell } from "./components/Shell";
import SignIn from "./screens/SignIn";

/** A route whose screen loads on first visit, so the first screen stays small. */
function lazyScreen(load: () => Promise<{ default: ComponentType }>) {
  return async () => ({ Component: (await load()).default });
}

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no such page. <Link to="/">Back to the overview</Link>.
      </p>
    </section>
  );
}

export const routes: RouteObject[] = [
  { path: "/signin", Component: SignIn },
  {
    path: "/",
    Component: Shell,
    children: [
      { index: true, lazy: lazyScreen(() => import("./screens/Overview")) },
      {
        path: "portfolios/:slug",
        lazy: lazyScreen(() => import("./screens/portfolio/PortfolioLayout")),
        children: [
          { index: true, lazy: lazyScreen(() => import("./screens/portfolio/Positions")) },
          { path: "performance", lazy: lazyScreen(() => import("./screens/portfolio/Performance")) },
          { path: "trades", lazy: lazyScreen(() => import("./screens/portfolio/Trades")) },
          { path: "allocation", lazy: lazyScreen(() => import("./screens/portfolio/Allocation")) },
          { path: "lots", lazy: lazyScreen(() => import("./screens/portfolio/Lots")) },
          { path: "dividends", lazy: lazyScreen(() => import("./screens/portfolio/Dividends")) },
          { path: "orders", lazy: lazyScreen(() => import("./screens/portfolio/Orders")) },
          { path: "policy", lazy: lazyScreen(() => import("./screens/portfolio/Policy")) },
        ],
      },
      { path: "instruments", lazy: lazyScreen(() => import("./screens/Instrument")) },
      { path: "instruments/:ticker", lazy: lazyScreen(() => import("./screens/Instrument")) },
      { path: "strategies", lazy: lazyScreen(() => import("./screens/Strategies")) },
      { path: "backtests", lazy: lazyScreen(() => import("./screens/Backtests")) },
      { path: "admin", lazy: lazyScreen(() => import("./screens/Admin")) },
      { path: "*", Component: NotFound },
    ],
  },
];
