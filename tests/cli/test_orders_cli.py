"""`folio orders list|cancel` on the embedded SQLite database, orders placed over its API."""

import asyncio
from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from app.auth.permissions import Role
from app.cli.main import cli
from app.main import create_app
from tests.cli.conftest import in_session
from tests.conftest import make_settings
from tests.factories import bearer, make_portfolio, make_team, make_user


async def _desk(session: AsyncSession) -> dict[str, Any]:
    team = await make_team(session)
    pm = await make_user(session, Role.PORTFOLIO_MANAGER, team=team)
    viewer = await make_user(session, Role.VIEWER, team=team)
    fund = await make_portfolio(session, pm, team=team)
    return {"pm": pm, "viewer": viewer.email, "fund": fund.slug}


async def _place(url: str, desk: dict[str, Any]) -> list[int]:
    app: FastAPI = create_app(make_settings(database_url=url, redis_url=None))
    async with app.router.lifespan_context(app):
        headers = await bearer(app, desk["pm"])
        async with AsyncClient(transport=ASGITransport(app=app), base_url="https://t") as client:
            slug = desk["fund"]
            cash = {"type": "deposit", "amount": "100000", "date": "2026-01-02"}
            assert (
                await client.post(f"/portfolios/{slug}/cash", json=cash, headers=headers)
            ).status_code == 201
            ids = []
            for body in (
                {"ticker": "AAPL", "side": "buy", "quantity": "5", "client_order_id": "cli-1"},
                {
                    "ticker": "MSFT",
                    "side": "buy",
                    "quantity": "2",
                    "type": "limit",
                    "limit_price": "100",
                    "order_class": "bracket",
                    "take_profit": {"limit_price": "150"},
                },
            ):
                answer = await client.post(f"/portfolios/{slug}/orders", json=body, headers=headers)
                assert answer.status_code == 201, answer.text
                ids.append(answer.json()["id"])
            return ids


def test_orders_are_listed_and_cancelled(runner: CliRunner, sqlite_url: str) -> None:
    desk = in_session(sqlite_url, _desk)
    first, second = asyncio.run(_place(sqlite_url, desk))

    listed = runner.invoke(cli, ["orders", "list", desk["fund"]], terminal_width=200)
    assert listed.exit_code == 0, listed.output
    assert "2 of 2 orders" in listed.stdout
    assert "cli-1" in listed.stdout and "take_profit" in listed.stdout
    refused = runner.invoke(
        cli, ["orders", "cancel", desk["fund"], str(first), "--as", desk["viewer"]]
    )
    assert refused.exit_code != 0 and "permission" in refused.output.lower()
    cancelled = runner.invoke(
        cli, ["orders", "cancel", desk["fund"], str(first), "--as", desk["pm"].email]
    )
    assert cancelled.exit_code == 0, cancelled.output
    assert f"order {first} (cli-1) is canceled" in cancelled.stdout
    again = runner.invoke(
        cli, ["orders", "cancel", desk["fund"], str(first), "--as", desk["pm"].email]
    )
    assert again.exit_code != 0 and "status: canceled" in again.output
    only = runner.invoke(
        cli, ["orders", "list", desk["fund"], "--status", "accepted"], terminal_width=200
    )
    assert "1 of 1 orders" in only.stdout and str(second) in only.stdout
