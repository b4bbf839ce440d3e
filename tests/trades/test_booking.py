"""Booking, cancelling and reading trades and cash over HTTP."""

from decimal import Decimal

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import Float, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from app.ledger.models import Trade
from app.models import Base
from app.portfolios.models import Portfolio
from tests.factories import bearer, make_portfolio, make_user
from tests.trades.helpers import book, deposit, positions, trade


@pytest.fixture
async def desk(app: FastAPI, session: AsyncSession) -> tuple[Portfolio, dict[str, str]]:
    pm = await make_user(session, Role.PORTFOLIO_MANAGER)
    portfolio = await make_portfolio(session, pm)
    headers = await bearer(app, pm)
    return portfolio, headers


async def test_a_trade_books_and_reads_back_as_sent(client: AsyncClient, desk) -> None:  # type: ignore[no-untyped-def]
    portfolio, headers = desk
    await deposit(client, portfolio.slug, headers, "10000")
    response = await book(
        client,
        portfolio.slug,
        headers,
        ticker=" aapl ",
        quantity="10",
        price="189.50",
        fees="1.00",
        notes="initial position",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["ticker"] == "AAPL"
    assert (body["quantity"], body["price"], body["fees"]) == ("10", "189.50", "1.00")
    assert body["status"] == "booked" and body["created_by"] and body["created_at"]
    again = await client.get(f"/portfolios/{portfolio.slug}/trades/{body['id']}", headers=headers)
    assert again.json() == body
    held = await positions(client, portfolio.slug, headers)
    assert held["AAPL"]["quantity"] == "10"
    assert Decimal(held["AAPL"]["cost_basis"]) == Decimal("1896.00")
    cash = (await client.get(f"/portfolios/{portfolio.slug}/cash", headers=headers)).json()
    assert Decimal(cash["balance"]) == Decimal("8104.00")


async def test_buy_beyond_cash_is_refused(client: AsyncClient, desk) -> None:  # type: ignore[no-untyped-def]
    portfolio, headers = desk
    await deposit(client, portfolio.slug, headers, "999.99")
    response = await book(client, portfolio.slug, headers, quantity="10", price="100")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_cash"
    assert await positions(client, portfolio.slug, headers) == {}


async def test_sell_beyond_holdings_is_refused(client: AsyncClient, desk) -> None:  # type: ignore[no-untyped-def]
    portfolio, headers = desk
    await deposit(client, portfolio.slug, headers, "10000")
    await book(client, portfolio.slug, headers, quantity="5")
    response = await book(client, portfolio.slug, headers, side="sell", quantity="6")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_quantity"
    assert (await positions(client, portfolio.slug, headers))["AAPL"]["quantity"] == "5"


async def test_shorts_and_negative_cash_when_the_portfolio_allows_them(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    pm = await make_user(session, Role.PORTFOLIO_MANAGER)
    portfolio = await make_portfolio(session, pm, allow_short=True, allow_negative_cash=True)
    headers = await bearer(app, pm)
    assert (
        await book(client, portfolio.slug, headers, side="sell", quantity="3")
    ).status_code == 201
    assert (await book(client, portfolio.slug, headers, ticker="MSFT")).status_code == 201
    held = await positions(client, portfolio.slug, headers)
    assert held["AAPL"]["quantity"] == "-3"


async def test_a_back_dated_sell_that_would_go_short_in_the_past_is_refused(
    client: AsyncClient,
    desk,  # type: ignore[no-untyped-def]
) -> None:
    portfolio, headers = desk
    await deposit(client, portfolio.slug, headers, "10000")
    await book(client, portfolio.slug, headers, quantity="10", trade_date="2026-01-10")
    response = await book(
        client, portfolio.slug, headers, side="sell", quantity="5", trade_date="2026-01-05"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_quantity"


async def test_a_back_dated_trade_refolds_the_average(client: AsyncClient, desk) -> None:  # type: ignore[no-untyped-def]
    portfolio, headers = desk
    await deposit(client, portfolio.slug, headers, "100000")
    await book(client, portfolio.slug, headers, quantity="10", price="100", trade_date="2026-01-05")
    await book(
        client,
        portfolio.slug,
        headers,
        side="sell",
        quantity="10",
        price="120",
        trade_date="2026-01-20",
    )
    await book(client, portfolio.slug, headers, quantity="10", price="80", trade_date="2026-01-10")
    held = (await positions(client, portfolio.slug, headers))["AAPL"]
    # history: buy 10@100, buy 10@80 (avg 90), sell 10@120 -> realised 300, 10 left at 90
    assert (held["quantity"], Decimal(held["average_cost"])) == ("10", Decimal(90))
    assert Decimal(held["realized_pnl"]) == Decimal(300)


async def test_cancel_refolds_and_keeps_the_trade_visible(client: AsyncClient, desk) -> None:  # type: ignore[no-untyped-def]
    portfolio, headers = desk
    await deposit(client, portfolio.slug, headers, "10000")
    first = (await book(client, portfolio.slug, headers, quantity="10", price="100")).json()
    await book(client, portfolio.slug, headers, quantity="10", price="120")
    url = f"/portfolios/{portfolio.slug}/trades/{first['id']}/cancel"
    cancelled = await client.post(url, json={"reason": "wrong price"}, headers=headers)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "wrong price"
    held = (await positions(client, portfolio.slug, headers))["AAPL"]
    assert (held["quantity"], Decimal(held["average_cost"])) == ("10", Decimal(120))
    cash = (await client.get(f"/portfolios/{portfolio.slug}/cash", headers=headers)).json()
    assert Decimal(cash["balance"]) == Decimal(8800)
    again = await client.post(url, json={"reason": "twice"}, headers=headers)
    assert again.json()["error"]["code"] == "trade_already_cancelled"
    listed = (
        await client.get(f"/portfolios/{portfolio.slug}/trades?status=cancelled", headers=headers)
    ).json()
    assert [t["id"] for t in listed["items"]] == [first["id"]]


async def test_cancelling_a_buy_that_later_sells_needed_is_refused(
    client: AsyncClient,
    desk,  # type: ignore[no-untyped-def]
) -> None:
    portfolio, headers = desk
    await deposit(client, portfolio.slug, headers, "10000")
    first = (await book(client, portfolio.slug, headers, quantity="10")).json()
    await book(client, portfolio.slug, headers, side="sell", quantity="10", trade_date="2026-01-06")
    url = f"/portfolios/{portfolio.slug}/trades/{first['id']}/cancel"
    response = await client.post(url, json={"reason": "oops"}, headers=headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_quantity"


@pytest.mark.parametrize(
    "field,value",
    [
        ("quantity", "0"),
        ("quantity", "-1"),
        ("price", "0"),
        ("fees", "-0.01"),
        ("quantity", "1.123456789"),
        ("trade_date", "2999-01-01"),
        ("trade_date", "1969-12-31"),
        ("side", "hold"),
        ("quantity", "NaN"),
        ("price", "Infinity"),
    ],
)
async def test_bad_trades_are_422(client: AsyncClient, desk, field: str, value: str) -> None:  # type: ignore[no-untyped-def]
    portfolio, headers = desk
    body = trade(**{field: value})
    response = await client.post(f"/portfolios/{portfolio.slug}/trades", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_unknown_ticker_is_422_unknown_ticker(client: AsyncClient, desk) -> None:  # type: ignore[no-untyped-def]
    portfolio, headers = desk
    await deposit(client, portfolio.slug, headers, "10000")
    response = await book(client, portfolio.slug, headers, ticker="NOPE")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_ticker"


async def test_archived_portfolio_is_read_only(client: AsyncClient, desk) -> None:  # type: ignore[no-untyped-def]
    portfolio, headers = desk
    await deposit(client, portfolio.slug, headers, "10000")
    assert (
        await client.delete(f"/portfolios/{portfolio.slug}", headers=headers)
    ).status_code == 200
    for response in (
        await book(client, portfolio.slug, headers),
        await deposit(client, portfolio.slug, headers, "1"),
        await client.patch(
            f"/portfolios/{portfolio.slug}", json={"description": "x"}, headers=headers
        ),
    ):
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "portfolio_archived"
    listed = (await client.get("/portfolios", headers=headers)).json()
    assert portfolio.slug not in [p["slug"] for p in listed["items"]]
    archived = (await client.get("/portfolios?include_archived=true", headers=headers)).json()
    assert portfolio.slug in [p["slug"] for p in archived["items"]]


async def test_cash_withdrawal_beyond_balance_and_dividend_rules(client: AsyncClient, desk) -> None:  # type: ignore[no-untyped-def]
    portfolio, headers = desk
    url = f"/portfolios/{portfolio.slug}/cash"
    await deposit(client, portfolio.slug, headers, "100")
    too_much = await client.post(
        url, json={"type": "withdrawal", "amount": "100.01", "date": "2026-01-03"}, headers=headers
    )
    assert too_much.json()["error"]["code"] == "insufficient_cash"
    no_ticker = await client.post(
        url, json={"type": "dividend", "amount": "1", "date": "2026-01-03"}, headers=headers
    )
    assert no_ticker.status_code == 422
    dividend = await client.post(
        url,
        json={"type": "dividend", "amount": "1.25", "ticker": "msft", "date": "2026-01-03"},
        headers=headers,
    )
    assert dividend.status_code == 201 and dividend.json()["ticker"] == "MSFT"
    for kind, amount in (("interest", "0.75"), ("fee", "2"), ("withdrawal", "50")):
        body = {"type": kind, "amount": amount, "date": "2026-01-04"}
        assert (await client.post(url, json=body, headers=headers)).status_code == 201
    listing = (await client.get(url, headers=headers)).json()
    assert (
        Decimal(listing["balance"]) == Decimal("100") + Decimal("1.25") + Decimal("0.75") - 2 - 50
    )
    assert listing["total"] == 5


async def test_idempotency_key_replays_and_refuses_another_body(client: AsyncClient, desk) -> None:  # type: ignore[no-untyped-def]
    portfolio, headers = desk
    await deposit(client, portfolio.slug, headers, "10000")
    keyed = headers | {"Idempotency-Key": "order-1"}
    first = await book(client, portfolio.slug, keyed)
    second = await book(client, portfolio.slug, keyed)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    other = await book(client, portfolio.slug, keyed, quantity="11")
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    held = await positions(client, portfolio.slug, headers)
    assert held["AAPL"]["quantity"] == "10"


async def test_trade_list_filters_and_paginates(client: AsyncClient, desk) -> None:  # type: ignore[no-untyped-def]
    portfolio, headers = desk
    await deposit(client, portfolio.slug, headers, "100000")
    for day, ticker in ((5, "AAPL"), (6, "MSFT"), (7, "AAPL")):
        await book(client, portfolio.slug, headers, ticker=ticker, trade_date=f"2026-01-0{day}")
    url = f"/portfolios/{portfolio.slug}/trades"
    page = (await client.get(f"{url}?limit=2", headers=headers)).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    assert page["items"][0]["trade_date"] == "2026-01-07"
    apple = (await client.get(f"{url}?ticker=aapl&start=2026-01-06", headers=headers)).json()
    assert [t["trade_date"] for t in apple["items"]] == ["2026-01-07"]


async def test_every_trade_and_cash_change_is_audited(
    client: AsyncClient,
    app: FastAPI,
    session: AsyncSession,
    desk,  # type: ignore[no-untyped-def]
) -> None:
    portfolio, headers = desk
    await deposit(client, portfolio.slug, headers, "1000")
    booked = (await book(client, portfolio.slug, headers, quantity="1")).json()
    await client.post(
        f"/portfolios/{portfolio.slug}/trades/{booked['id']}/cancel",
        json={"reason": "test"},
        headers=headers,
    )
    admin = await bearer(app, await make_user(session, Role.ADMIN))
    events = (await client.get(f"/admin/audit?portfolio_id={portfolio.id}", headers=admin)).json()
    assert [e["action"] for e in events["items"]] == ["trade.cancel", "trade.book", "cash.create"]
    assert events["items"][1]["after"]["quantity"] == "1"


def test_no_money_column_is_a_float() -> None:
    floats = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, Float)
    ]
    assert floats == []


async def test_portfolio_count_is_unchanged_by_refused_requests(
    client: AsyncClient,
    session: AsyncSession,
    desk,  # type: ignore[no-untyped-def]
) -> None:
    portfolio, headers = desk
    await book(client, portfolio.slug, headers)
    assert await session.scalar(select(func.count(Trade.id))) == 0


async def test_two_bookings_in_one_session_keep_both_cash_changes(
    app: FastAPI, session: AsyncSession
) -> None:
    from app.cash.schemas import CashCreate
    from app.cash.service import record_cash
    from app.ledger.posting import instrument_for
    from app.portfolios.service import lock
    from app.trades.booking import book as book_trade
    from app.trades.schemas import TradeCreate

    pm = await make_user(session, Role.PORTFOLIO_MANAGER)
    portfolio = await make_portfolio(session, pm)
    deposit_body = CashCreate(type="deposit", amount=Decimal(1000), date="2026-01-02")
    await record_cash(session, pm, await lock(session, portfolio.id), None, deposit_body)
    buy = TradeCreate(
        ticker="AAPL", side="buy", quantity=Decimal(1), price=Decimal(100), trade_date="2026-01-05"
    )
    instrument = await instrument_for(session, app.state.shared.market, "AAPL")
    await book_trade(session, pm, await lock(session, portfolio.id), instrument, buy)
    await session.commit()
    stored = await session.scalar(
        select(Portfolio.cash_balance).where(Portfolio.id == portfolio.id)
    )
    assert stored == Decimal(900)
