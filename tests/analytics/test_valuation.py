"""Valuation and the positions' valuation fields, against hand-computed values."""

from decimal import Context, Decimal, localcontext

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.analytics.helpers import A_CLOSES, Desk, add_instrument, book_the_week, make_desk
from tests.factories import bearer, make_user


async def test_valuation_at_a_past_close(desk: Desk) -> None:
    await book_the_week(desk)
    body = await desk.valuation("2024-01-11")
    # 50 bought at 100, 20 sold at 106 with a fee of 1: 30 left at an average cost of 100.
    assert {k: body[k] for k in ("as_of", "nav", "cash", "market_value", "cost_basis")} == {
        "as_of": "2024-01-11",
        "nav": "9329.00",
        "cash": "6119.00",
        "market_value": "3210.00",
        "cost_basis": "3000.00",
    }
    assert (body["unrealized_pnl"], body["unrealized_pnl_pct"]) == ("210.00", "7.0000")
    assert (body["day_change"], body["day_change_pct"]) == ("60.00", "1.9048")  # 30 x (107-105)
    [position] = body["positions"]
    assert position | {"weight": None} == {
        "ticker": "TESTA",
        "quantity": "30",
        "average_cost": "100",
        "cost_basis": "3000",
        "realized_pnl": "119",
        "last_price": "107",
        "price_date": "2024-01-11",
        "price_source": "close",
        "stale": False,
        "market_value": "3210.00",
        "unrealized_pnl": "210.00",
        "unrealized_pnl_pct": "7.0000",
        "weight": None,
        "previous_close": "105",
        "day_change": "60.00",
        "day_change_pct": "1.9048",
    }
    assert abs(Decimal(position["weight"]) - Decimal(3210) / Decimal(9329)) < Decimal("1e-10")
    assert body["missing_prices"] == [] and body["stale_prices"] == []


async def test_valuation_values_exact_fractions_exactly(
    app: FastAPI, session: AsyncSession, client: AsyncClient
) -> None:
    await add_instrument(session, "TESTF", {"2024-01-08": "1234567.123456"})
    desk = await make_desk(app, session, client)
    await desk.cash("deposit", "1000000000", "2024-01-08")
    await desk.trade("buy", "TESTF", "0.12345678", "1234567.123456", "2024-01-08")
    body = await desk.valuation("2024-01-08")
    value = Decimal("0.12345678") * Decimal("1234567.123456")
    assert Decimal(body["positions"][0]["market_value"]) == value
    assert Decimal(body["nav"]) == Decimal(1000000000)
    series = await desk.performance(start="2024-01-08", end="2024-01-08", benchmark="TESTF")
    assert series["series"][0]["nav"] == "1000000000.00"


async def test_a_holding_without_any_price_is_named_and_leaves_the_totals_null(
    app: FastAPI, session: AsyncSession, client: AsyncClient
) -> None:
    await add_instrument(session, "TESTP", A_CLOSES)
    await add_instrument(session, "TESTQ", {})
    desk = await make_desk(app, session, client)
    await desk.cash("deposit", "10000", "2024-01-08")
    await desk.trade("buy", "TESTP", "10", "100", "2024-01-08")
    await desk.trade("buy", "TESTQ", "10", "100", "2024-01-08")
    body = await desk.valuation("2024-01-12")
    assert body["missing_prices"] == ["TESTQ"]
    assert body["nav"] is None and body["market_value"] is None and body["cash"] == "8000.00"
    priced, unpriced = body["positions"]
    assert priced["market_value"] == "1080.00" and priced["weight"] is None
    assert unpriced["last_price"] is None and unpriced["market_value"] is None


async def test_an_outsider_gets_404_and_a_bad_date_422(
    app: FastAPI, session: AsyncSession, desk: Desk
) -> None:
    stranger = await bearer(app, await make_user(session))
    for path in ("valuation", "performance"):
        response = await desk.client.get(f"{desk.base}/{path}", headers=stranger)
        assert response.status_code == 404
    future = await desk.client.get(
        f"{desk.base}/valuation", params={"as_of": "2999-01-01"}, headers=desk.headers
    )
    assert (future.status_code, future.json()["error"]["code"]) == (422, "invalid_range")
    backwards = await desk.client.get(
        f"{desk.base}/performance",
        params={"start": "2024-02-01", "end": "2024-01-01"},
        headers=desk.headers,
    )
    assert backwards.json()["error"]["code"] == "invalid_range"
    unknown = await desk.client.get(
        f"{desk.base}/performance", params={"benchmark": "NOPE!"}, headers=desk.headers
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_ticker")


async def test_dates_outside_the_trading_era_are_422_not_500(desk: Desk) -> None:
    for path, params in (
        ("valuation", {"as_of": "0001-01-01"}),
        ("performance", {"start": "0001-01-01"}),
        ("performance", {"end": "1969-12-31"}),
    ):
        response = await desk.client.get(f"{desk.base}/{path}", params=params, headers=desk.headers)
        assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_range")


async def test_quantities_beyond_64_bit_sums_stay_exact(
    app: FastAPI, session: AsyncSession, client: AsyncClient
) -> None:
    await add_instrument(session, "TESTL", {"2024-01-08": "123456.789012", "2024-01-09": "2"})
    desk = await make_desk(app, session, client, unbounded=True)
    await desk.trade("buy", "TESTL", "900000000000.12345678", "0.01", "2024-01-08")
    body = await desk.performance(start="2024-01-08", end="2024-01-09", benchmark="TESTL")
    with localcontext(Context(prec=60)):  # 31 significant digits: more than the default 28
        quantity = Decimal("900000000000.12345678")
        monday = quantity * Decimal("123456.789012") - quantity * Decimal("0.01")
    assert Decimal(body["series"][0]["nav"]) == monday
    valued = await desk.valuation("2024-01-08")
    assert Decimal(valued["nav"]) == monday
