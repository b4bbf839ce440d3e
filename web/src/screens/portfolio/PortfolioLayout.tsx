import { NavLink, Outlet, useOutletContext, useParams } from "react-router";
import { QueryView } from "../../components/Status";
import type { User } from "../../lib/auth";
import { usePortfolio, type PortfolioContext } from "../../lib/portfolios";

const TABS: [string, string][] = [
  ["", "Positions"],
  ["performance", "Performance"],
  ["trades", "Trades & cash"],
  ["allocation", "Allocation"],
  ["lots", "Lots & realized"],
  ["dividends", "Dividends"],
  ["orders", "Orders"],
  ["policy", "Policy"],
];

export default function PortfolioLayout() {
  const { slug = "" } = useParams();
  const user = useOutletContext<User>();
  const portfolio = usePortfolio(slug);
  return (
    <QueryView query={portfolio}>
      {(p) => {
        const canManage = user.role === "admin" || p.pm_id === user.id;
        const context: PortfolioContext = { portfolio: p, canManage, canTrade: user.role !== "viewer" && !p.archived_at };
        return (
          <div className="stack">
            <header className="portfolio-head">
              <h1>{p.name}</h1>
              <p className="muted">
                {p.description} · {p.base_currency} · benchmark {p.benchmark} · cost method {p.cost_method}
                {p.archived_at && <strong> · archived</strong>}
              </p>
            </header>
            <nav className="tabs" aria-label="Portfolio sections">
              {TABS.map(([path, label]) => (
                <NavLink key={path} to={path ? `/portfolios/${slug}/${path}` : `/portfolios/${slug}`} end>
                  {label}
                </NavLink>
              ))}
            </nav>
            <Outlet context={context} />
          </div>
        );
      }}
    </QueryView>
  );
}
