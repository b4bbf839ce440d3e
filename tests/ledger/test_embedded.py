"""The ledger on the embedded SQLite database: the cash rule over the history (summed in
Python there) and FIFO lots, exactly as on PostgreSQL."""

import asyncio

from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.auth.permissions import Role
from app.cli.db import upgrade_to_head
from app.main import create_app
from tests.conftest import make_settings
from tests.factories import bearer, make_portfolio, make_user
from tests.trades.helpers import book, deposit


async def test_the_cash_rule_and_fifo_lots_hold_on_sqlite(tmp_sqlite_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, tmp_sqlite_url)
    app = create_app(make_settings(database_url=tmp_sqlite_url, redis_url=None))
    transport = ASGITransport(app=app)
    async with LifespanManager(app), AsyncClient(transport=transport, base_url="http://t") as c:
        async with app.state.shared.sessions() as session:
            pm = await make_user(session, Role.PORTFOLIO_MANAGER)
            slug = (await make_portfolio(session, pm)).slug
            headers = await bearer(app, pm)
        await c.patch(f"/portfolios/{slug}", json={"cost_method": "fifo"}, headers=headers)
        await deposit(c, slug, headers, "1000.10", "2025-11-20")
        body = {"type": "withdrawal", "amount": "1000", "date": "2025-11-01"}
        refused = await c.post(f"/portfolios/{slug}/cash", json=body, headers=headers)
        assert refused.status_code == 409
        assert refused.json()["error"]["details"] == {
            "date": "2025-11-01",
            "cash_balance": "-1000.00",
        }
        for day, side, quantity, price in (
            ("2025-11-21", "buy", "2", "100.01"),
            ("2025-11-24", "buy", "2", "200.02"),
            ("2025-11-25", "sell", "3", "300"),
        ):
            fields = {"side": side, "quantity": quantity, "price": price}
            assert (await book(c, slug, headers, trade_date=day, **fields)).status_code == 201
        lots = (await c.get(f"/portfolios/{slug}/lots", headers=headers)).json()["items"]
        assert [(x["quantity"], x["cost"]) for x in lots] == [("1", "200.02")]
        realized = (await c.get(f"/portfolios/{slug}/realized", headers=headers)).json()["items"]
        assert [x["gain"] for x in realized] == ["399.98", "99.98"]
