"""The ledger over HTTP: the cash rule over the whole history, lots, realized gains, and a
change of the cost method folding the books again."""

from decimal import Decimal as D
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from tests.analytics.helpers import add_instrument
from tests.factories import bearer, make_portfolio, make_user
from tests.trades.helpers import book, deposit, positions

Desk = tuple[str, dict[str, str]]


@pytest.fixture
async def desk(app: FastAPI, session: AsyncSession) -> Desk:
    pm = await make_user(session, Role.PORTFOLIO_MANAGER)
    portfolio = await make_portfolio(session, pm)
    return portfolio.slug, await bearer(app, pm)


async def withdraw(client: AsyncClient, desk: Desk, amount: str, on: str) -> Any:
    slug, headers = desk
    body = {"type": "withdrawal", "amount": amount, "date": on}
    return await client.post(f"/portfolios/{slug}/cash", json=body, headers=headers)


async def get(client: AsyncClient, desk: Desk, path: str) -> Any:
    slug, headers = desk
    response = await client.get(f"/portfolios/{slug}/{path}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_back_dated_withdrawal_before_the_deposit_is_refused_naming_the_day(
    client: AsyncClient, desk: Desk
) -> None:
    slug, headers = desk
    assert (await deposit(client, slug, headers, "1000", "2025-11-20")).status_code == 201
    refused = await withdraw(client, desk, "1000", "2025-11-01")
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "insufficient_cash"
    assert error["details"] == {"date": "2025-11-01", "cash_balance": "-1000"}
    assert (await withdraw(client, desk, "1000", "2025-11-20")).status_code == 201
    assert D((await get(client, desk, "cash"))["balance"]) == 0


async def test_a_back_dated_buy_that_leaves_a_day_short_is_refused(
    client: AsyncClient, desk: Desk
) -> None:
    slug, headers = desk
    await deposit(client, slug, headers, "1000", "2025-01-02")
    assert (
        await book(client, slug, headers, trade_date="2025-02-03", quantity="8")
    ).status_code == 201
    sold = await book(
        client, slug, headers, side="sell", trade_date="2025-03-03", quantity="8", price="150"
    )
    assert sold.status_code == 201
    # 1,200 at the end, but only 200 from 02-03 to 03-03.
    refused = await book(client, slug, headers, trade_date="2025-02-10", quantity="3")
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["date"] == "2025-02-10"
    assert (
        await book(client, slug, headers, trade_date="2025-02-10", quantity="2")
    ).status_code == 201


async def test_negative_cash_on_any_day_is_fine_when_the_portfolio_allows_it(
    app: FastAPI, client: AsyncClient, session: AsyncSession
) -> None:
    pm = await make_user(session, Role.PORTFOLIO_MANAGER)
    portfolio = await make_portfolio(session, pm, allow_negative_cash=True)
    desk = (portfolio.slug, await bearer(app, pm))
    await deposit(client, desk[0], desk[1], "1000", "2025-11-20")
    assert (await withdraw(client, desk, "1000", "2025-11-01")).status_code == 201


async def test_cancelling_a_sell_that_funded_a_later_buy_is_refused(
    client: AsyncClient, desk: Desk
) -> None:
    slug, headers = desk
    await deposit(client, slug, headers, "1000", "2025-01-02")
    await book(client, slug, headers, trade_date="2025-01-03", quantity="10")
    sell = await book(client, slug, headers, side="sell", trade_date="2025-01-06", quantity="10")
    await book(client, slug, headers, trade_date="2025-01-07", ticker="MSFT", quantity="5")
    url = f"/portfolios/{slug}/trades/{sell.json()['id']}/cancel"
    refused = await client.post(url, json={"reason": "wrong"}, headers=headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["date"] == "2025-01-07"


async def test_lots_and_realized_gains_under_fifo(
    client: AsyncClient, session: AsyncSession, desk: Desk
) -> None:
    slug, headers = desk
    await add_instrument(session, "LOTSX", {"2025-02-03": "125", "2025-02-04": "140"})
    patched = await client.patch(
        f"/portfolios/{slug}", json={"cost_method": "fifo"}, headers=headers
    )
    assert patched.json()["cost_method"] == "fifo"
    await deposit(client, slug, headers, "10000", "2024-01-02")
    for side, day, quantity, price, fees in (
        ("buy", "2024-01-10", "10", "100", "1"),
        ("buy", "2024-03-01", "10", "110", "1"),
        ("buy", "2024-06-03", "10", "120", "2"),
        ("sell", "2024-09-02", "6", "130", "1.2"),
        ("sell", "2025-02-03", "8", "125", "1.6"),
    ):
        fields = {"quantity": quantity, "price": price, "fees": fees, "side": side}
        booked = await book(client, slug, headers, ticker="LOTSX", trade_date=day, **fields)
        assert booked.status_code == 201, booked.text
    closed = (await get(client, desk, "realized"))["items"]
    fields = ("open_date", "close_date", "quantity", "cost", "proceeds", "gain", "term")
    assert [tuple(c[f] for f in fields) for c in closed] == [
        ("2024-01-10", "2024-09-02", "6", "600.6", "778.8", "178.2", "short"),
        ("2024-01-10", "2025-02-03", "4", "400.4", "499.2", "98.8", "long"),
        ("2024-03-01", "2025-02-03", "4", "440.4", "499.2", "58.8", "short"),
    ]
    assert len((await get(client, desk, "realized?start=2025-01-01&end=2025-12-31"))["items"]) == 2
    lots = (await get(client, desk, "lots"))["items"]
    assert [(x["open_date"], x["quantity"], x["cost"], x["cost_per_share"]) for x in lots] == [
        ("2024-03-01", "6", "660.6", "110.1"),
        ("2024-06-03", "10", "1202", "120.2"),
    ]
    assert [(x["last_price"], x["market_value"], x["unrealized_pnl"]) for x in lots] == [
        ("140", "840.00", "179.40"),
        ("140", "1400.00", "198.00"),
    ]
    assert all(x["holding_days"] > 365 for x in lots)
    held = (await positions(client, slug, headers))["LOTSX"]
    assert (held["quantity"], held["cost_basis"], held["realized_pnl"]) == ("16", "1862.6", "335.8")

    back = await client.patch(
        f"/portfolios/{slug}", json={"cost_method": "average"}, headers=headers
    )
    assert back.status_code == 200
    held = (await positions(client, slug, headers))["LOTSX"]
    assert D(held["realized_pnl"]).quantize(D("0.0001")) == D("235.3333")
    # The same shares, now each at the average cost; the total P&L is the same.
    lots = (await get(client, desk, "lots"))["items"]
    assert [x["quantity"] for x in lots] == ["6", "10"]
    assert D(lots[0]["cost_per_share"]) == D(held["average_cost"])
    total = D(held["realized_pnl"]) - D(held["cost_basis"])
    assert abs(total - (D("335.8") - D("1862.6"))) < D("1e-20")


async def test_a_realized_range_backwards_is_refused(client: AsyncClient, desk: Desk) -> None:
    slug, headers = desk
    response = await client.get(
        f"/portfolios/{slug}/realized?start=2025-02-01&end=2025-01-01", headers=headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_range"
