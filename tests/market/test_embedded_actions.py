"""Corporate actions in the embedded default (SQLite, simulated prices): a newcomer sees a
split folded in and dividends proposed without a vendor."""

import asyncio
from datetime import date, timedelta
from decimal import Decimal

from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.auth.permissions import Role
from app.cli.db import upgrade_to_head
from app.jobs.embedded import refresh_held
from app.jobs.tasks import Resources
from app.main import create_app
from tests.conftest import make_settings
from tests.factories import bearer, make_portfolio, make_user
from tests.trades.helpers import book, deposit


async def test_a_simulated_split_and_dividend_reach_the_books_on_sqlite(
    tmp_sqlite_url: str,
) -> None:
    await asyncio.to_thread(upgrade_to_head, tmp_sqlite_url)
    app = create_app(make_settings(database_url=tmp_sqlite_url, redis_url=None))
    transport = ASGITransport(app=app)
    async with LifespanManager(app), AsyncClient(transport=transport, base_url="http://t") as c:
        async with app.state.shared.sessions() as session:
            pm = await make_user(session, Role.PORTFOLIO_MANAGER)
            slug = (await make_portfolio(session, pm)).slug
            headers = await bearer(app, pm)
        actions = (await c.get("/market/tickers/NVDA/actions", headers=headers)).json()
        split = [a for a in actions["items"] if a["ex_date"] == "2024-06-10"]
        assert [(a["type"], a["split_to"], a["split_from"]) for a in split] == [("split", 10, 1)]

        await deposit(c, slug, headers, "100000", "2024-01-02")
        bought = await book(
            c, slug, headers, ticker="NVDA", side="buy", quantity="10", price="900",
            trade_date="2024-06-03",
        )  # fmt: skip
        assert bought.status_code == 201, bought.text
        ko = await book(
            c, slug, headers, ticker="KO", side="buy", quantity="100", price="60",
            trade_date="2024-01-02",
        )  # fmt: skip
        assert ko.status_code == 201, ko.text

        positions = (await c.get(f"/portfolios/{slug}/positions", headers=headers)).json()
        nvda = next(p for p in positions["items"] if p["ticker"] == "NVDA")
        assert (nvda["quantity"], nvda["cost_basis"], nvda["average_cost"]) == ("100", "9000", "90")

        dividends = (await c.get(f"/portfolios/{slug}/dividends", headers=headers)).json()
        ko_dividends = [d for d in dividends["items"] if d["ticker"] == "KO"]
        assert ko_dividends and all(d["status"] == "proposed" for d in ko_dividends)
        for d in ko_dividends:  # 100 shares; paid a week after the ex-date
            assert Decimal(d["amount"]) == Decimal(d["cash_amount"]) * 100
            ex_date, pay_date = date.fromisoformat(d["ex_date"]), date.fromisoformat(d["pay_date"])
            assert pay_date == ex_date + timedelta(days=7)

        patched = await c.patch(
            f"/portfolios/{slug}", json={"auto_book_dividends": True}, headers=headers
        )
        assert patched.status_code == 200 and patched.json()["auto_book_dividends"] is True
        shared = app.state.shared
        await refresh_held(Resources(shared.sessions, shared.market))  # the after-close run
        booked = (await c.get(f"/portfolios/{slug}/dividends", headers=headers)).json()
        assert {d["status"] for d in booked["items"]} == {"booked"}
        assert len(booked["items"]) == len(dividends["items"])
        cash = (await c.get(f"/portfolios/{slug}/cash?limit=200", headers=headers)).json()
        paid = sorted(c["amount"] for c in cash["items"] if c["type"] == "dividend")
        assert paid == sorted(d["amount"] for d in booked["items"])
