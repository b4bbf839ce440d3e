"""Concurrent placements and fills on PostgreSQL, each committing for real."""

import asyncio
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from app.ledger.rules import InsufficientCash, InsufficientQuantity
from app.orders import service
from app.orders.broker import Execution
from app.orders.models import Order
from tests.trades.concurrency_helpers import setup_desk
from tests.trades.helpers import book, deposit, positions

ORDER = {"ticker": "AAPL", "side": "buy", "quantity": "1"}


async def test_fifty_identical_client_order_ids_make_one_order(committed_app: FastAPI) -> None:
    client, slug, headers = await setup_desk(committed_app)
    async with client:
        await deposit(client, slug, headers, "100000")
        body = ORDER | {"client_order_id": "desk-001"}
        answers = await asyncio.gather(
            *(
                client.post(f"/portfolios/{slug}/orders", json=body, headers=headers)
                for _ in range(50)
            )
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200] * 49 + [201], [a.text for a in answers if a.status_code >= 300]
        assert len({a.json()["id"] for a in answers}) == 1
        listed = await client.get(f"/portfolios/{slug}/orders", headers=headers)
        assert listed.json()["total"] == 1


async def execute_all(app: FastAPI, orders: list[dict[str, Any]], price: str) -> list[Any]:
    portfolio_id = orders[0]["portfolio_id"]

    async def one(order_id: int) -> Any:
        async with app.state.shared.sessions() as session:
            execution = Execution(f"x-{order_id}", date(2026, 1, 6), Decimal(1), Decimal(price))
            try:
                done = await service.execute(session, portfolio_id, order_id, execution)
            except (InsufficientCash, InsufficientQuantity) as refused:
                return refused.code
            await session.commit()
            return done

    return list(await asyncio.gather(*(one(o["id"]) for o in orders)))


async def test_fifty_concurrent_fills_never_oversell_or_overdraw(committed_app: FastAPI) -> None:
    client, slug, headers = await setup_desk(committed_app)
    async with client:
        await deposit(client, slug, headers, "2000")
        assert (await book(client, slug, headers, quantity="20", price="50")).status_code == 201
        url = f"/portfolios/{slug}/orders"
        portfolio_id = (await client.get(f"/portfolios/{slug}", headers=headers)).json()["id"]
        placed = []
        for side in ("sell", "buy"):
            for _ in range(50):
                answer = await client.post(url, json=ORDER | {"side": side}, headers=headers)
                assert answer.json()["status"] == "accepted", answer.text
                placed.append(answer.json() | {"portfolio_id": portfolio_id})
        sells = await execute_all(committed_app, placed[:50], "10")
        assert sells.count(True) == 20 and sells.count("insufficient_quantity") == 30
        # 1,000 + 20 x 10 of cash: 24 buys at 50
        buys = await execute_all(committed_app, placed[50:], "50")
        assert buys.count(True) == 24 and buys.count("insufficient_cash") == 26
        held = (await positions(client, slug, headers))["AAPL"]
        assert held["quantity"] == "24"
        cash = (await client.get(f"/portfolios/{slug}", headers=headers)).json()["cash_balance"]
        assert Decimal(cash) == 0
        again = await execute_all(committed_app, placed[50:], "50")  # the same executions
        assert again.count(True) == 0
        async with committed_app.state.shared.sessions() as session:
            filled = await session.scalar(select(func.sum(Order.filled_quantity)))
        assert filled == 44
