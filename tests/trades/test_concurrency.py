"""Concurrent requests on PostgreSQL, each committing for real: no check is passed twice."""

import asyncio
import uuid
from decimal import Decimal

from fastapi import FastAPI
from sqlalchemy import select

from app.ledger.fold import fold
from app.ledger.models import Trade
from app.ledger.queries import booked_fills
from tests.trades.concurrency_helpers import setup_desk
from tests.trades.helpers import book, deposit, positions


async def test_fifty_concurrent_sells_of_a_twenty_share_position(committed_app: FastAPI) -> None:
    client, slug, headers = await setup_desk(committed_app)
    async with client:
        await deposit(client, slug, headers, "100000")
        assert (await book(client, slug, headers, quantity="20")).status_code == 201
        sells = [
            book(client, slug, headers, side="sell", quantity="1", trade_date="2026-01-06")
            for _ in range(50)
        ]
        statuses = [r.status_code for r in await asyncio.gather(*sells)]
        assert statuses.count(201) == 20
        assert statuses.count(409) == 30
        held = (await positions(client, slug, headers))["AAPL"]
        assert held["quantity"] == "0"
        portfolio_id = (await client.get(f"/portfolios/{slug}", headers=headers)).json()["id"]
        async with committed_app.state.shared.sessions() as session:
            instrument_id = await session.scalar(select(Trade.instrument_id).limit(1))
            assert instrument_id is not None
            fills = (await booked_fills(session, uuid.UUID(portfolio_id), [instrument_id]))[
                instrument_id
            ]
        folded = fold(fills, allow_short=False).holding()
        assert len(fills) == 21
        assert (Decimal(held["quantity"]), Decimal(held["realized_pnl"])) == (
            folded.quantity,
            folded.realized_pnl,
        )


async def test_concurrent_withdrawals_never_overdraw(committed_app: FastAPI) -> None:
    client, slug, headers = await setup_desk(committed_app)
    async with client:
        await deposit(client, slug, headers, "1000")
        body = {"type": "withdrawal", "amount": "30", "date": "2026-01-05"}
        responses = await asyncio.gather(
            *[
                client.post(f"/portfolios/{slug}/cash", json=body, headers=headers)
                for _ in range(50)
            ]
        )
        statuses = [r.status_code for r in responses]
        assert statuses.count(201) == 33 and statuses.count(409) == 17
        balance = (await client.get(f"/portfolios/{slug}/cash", headers=headers)).json()["balance"]
        assert Decimal(balance) == Decimal(10)


async def test_twenty_concurrent_posts_with_one_key_book_one_trade(
    committed_app: FastAPI,
) -> None:
    client, slug, headers = await setup_desk(committed_app)
    async with client:
        await deposit(client, slug, headers, "100000")
        keyed = headers | {"Idempotency-Key": "retry-me"}
        responses = await asyncio.gather(*[book(client, slug, keyed) for _ in range(20)])
        created = [r for r in responses if r.status_code == 201]
        in_flight = [r for r in responses if r.status_code == 409]
        assert len(created) + len(in_flight) == 20
        assert {r.json()["error"]["code"] for r in in_flight} <= {"idempotency_key_in_flight"}
        assert len({r.text for r in created}) == 1
        assert (
            sum(r.headers.get("Idempotent-Replayed") == "true" for r in created) == len(created) - 1
        )
        trades = (await client.get(f"/portfolios/{slug}/trades", headers=headers)).json()
        assert trades["total"] == 1
        assert (await positions(client, slug, headers))["AAPL"]["quantity"] == "10"
