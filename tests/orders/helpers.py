"""A desk with a priced ticker, a PM, an analyst member and a funded portfolio."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.valuation import settled
from app.auth.permissions import Role
from app.ledger.posting import instrument_for
from app.market.calendar import NEW_YORK
from app.orders import paper, service
from app.orders.schemas import OrderRead, OrderRequest, PaperRunRead
from app.portfolios.models import Portfolio, PortfolioMember
from tests.factories import StoredBar, bearer, make_portfolio, make_user, store_priced
from tests.strategies.helpers import trading_days

TICKER = "ORDR"
DAYS = trading_days(date(2024, 1, 2), 30)
# Open 100, high 104, low 96, close 100 on every bar, but for the moves a test makes.
BAR = (Decimal(100), Decimal(104), Decimal(96), Decimal(100))


def bars(changes: dict[date, tuple[int, int, int, int]] | None = None) -> list[StoredBar]:
    made = []
    for day in DAYS:
        o, h, low, c = (Decimal(v) for v in (changes or {}).get(day, BAR))
        made.append(StoredBar(day, o, h, low, c, c, 1000))
    return made


@dataclass
class Desk:
    slug: str
    portfolio_id: Any
    pm: dict[str, str]
    analyst: dict[str, str]
    outsider: dict[str, str]
    pm_id: Any


async def make_desk(
    app: FastAPI,
    client: AsyncClient,
    session: AsyncSession,
    *,
    cash: str = "95200",
    held: str = "48",
    changes: dict[date, tuple[int, int, int, int]] | None = None,
    stored: list[StoredBar] | None = None,
    allow_negative_cash: bool = False,
) -> Desk:
    """A portfolio with `cash` after buying `held` shares of TICKER at 100 (with 100 at the
    last close: 4.8% of a 100,000 NAV by default); or `stored` bars of another ticker."""
    if stored is None:
        await store_priced(session, TICKER, bars(changes), covered_through=settled())
    pm = await make_user(session, Role.PORTFOLIO_MANAGER)
    analyst = await make_user(session, Role.ANALYST)
    outsider = await make_user(session, Role.ANALYST)
    portfolio = await make_portfolio(session, pm, allow_negative_cash=allow_negative_cash)
    session.add(PortfolioMember(portfolio_id=portfolio.id, user_id=analyst.id))
    await session.commit()
    desk = Desk(
        portfolio.slug,
        portfolio.id,
        await bearer(app, pm),
        await bearer(app, analyst),
        await bearer(app, outsider),
        pm.id,
    )
    total = Decimal(cash) + Decimal(held) * 100
    deposit = {"type": "deposit", "amount": str(total), "date": DAYS[0].isoformat()}
    response = await client.post(f"/portfolios/{desk.slug}/cash", json=deposit, headers=desk.pm)
    assert response.status_code == 201, response.text
    if Decimal(held):
        trade = {
            "ticker": TICKER,
            "side": "buy",
            "quantity": held,
            "price": "100",
            "trade_date": DAYS[0].isoformat(),
        }
        response = await client.post(f"/portfolios/{desk.slug}/trades", json=trade, headers=desk.pm)
        assert response.status_code == 201, response.text
    return desk


def order(**fields: Any) -> dict[str, Any]:
    return {"ticker": TICKER, "side": "buy", "quantity": "4"} | fields


def placed_at(day: date) -> datetime:
    """A moment on that New York day, after its close."""
    return datetime.combine(day, time(17), NEW_YORK).astimezone(UTC)


def next_day(day: date) -> date:
    return DAYS[DAYS.index(day) + 1] if day in DAYS else day + timedelta(days=1)


async def place_on(
    app: FastAPI, desk: Desk, day: date, placed_by: Any = None, **fields: Any
) -> OrderRead:
    """Place an order as if after the close of `day` (the paper broker fills it from the
    next bar)."""
    shared = app.state.shared
    async with shared.sessions() as session:
        portfolio = await session.get_one(Portfolio, desk.portfolio_id)
        request = OrderRequest.model_validate(order(**fields))
        instrument = await instrument_for(session, shared.market, request.ticker)
        found, _ = await service.place(
            session,
            shared.market,
            portfolio,
            instrument,
            request,
            placed_by or desk.pm_id,
            now=placed_at(day),
        )
        await session.commit()
    return found


async def run_paper(app: FastAPI, through: date, rate: str = "0") -> PaperRunRead:
    shared = app.state.shared
    return await paper.run(shared.sessions, shared.market, through, Decimal(rate))
