"""The books valued over a vendor's data: Tiingo's real shapes on loopback, with holidays,
splits and dividends, asked in many orders."""

import asyncio
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import respx
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.market.models import CorporateAction
from app.market.service import MarketData
from tests.analytics.helpers import Desk, make_desk
from tests.market.conftest import MarketFactory
from tests.market.tiingo_table import Listing, TiingoTable, weekdays

MLK_DAY, PRESIDENTS_DAY = date(2024, 1, 15), date(2024, 2, 19)
HOLIDAYS = (MLK_DAY, PRESIDENTS_DAY)
DAYS = weekdays(date(2024, 1, 2), date(2024, 3, 28), skip=HOLIDAYS)
SPLIT_DAY = date(2024, 2, 5)


def walk(seed: int, start: Decimal) -> dict[date, Decimal]:
    rng = random.Random(seed)
    closes, price = {}, start
    for day in DAYS:
        price = max(Decimal("1.00"), price + Decimal(rng.randint(-300, 310)) / 100)
        closes[day] = price
    return closes


def split_closes(before: Decimal, after: Decimal) -> dict[date, Decimal]:
    return {d: before if d < SPLIT_DAY else after for d in DAYS}


LISTINGS = {
    "AAPL": Listing(walk(1, Decimal("185.00"))),
    "MSFT": Listing(walk(2, Decimal("370.00"))),
    "SPY": Listing(walk(3, Decimal("470.00"))),  # the portfolios' benchmark
    "FOUR": Listing(split_closes(Decimal("100"), Decimal("25")), splits={SPLIT_DAY: Decimal(4)}),
    "TENTH": Listing(split_closes(Decimal("5"), Decimal("50")), splits={SPLIT_DAY: Decimal("0.1")}),
    "DIVV": Listing(
        {d: Decimal("40") for d in DAYS}, dividends={date(2024, 2, 9): Decimal("0.24")}
    ),
}


@dataclass
class VendorDesk:
    desk: Desk
    table: TiingoTable
    market: MarketData

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.desk.client.get(path, params=params, headers=self.desk.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def listed(self, ticker: str) -> None:
        """The ticker known to Folio (its instrument stored by the market data, committed)."""
        await self.get(f"/market/tickers/{ticker}/actions")


@pytest.fixture
def table() -> TiingoTable:
    return TiingoTable(
        {t: Listing(dict(v.closes), v.splits, v.dividends) for t, v in LISTINGS.items()}
    )


@pytest.fixture
def served(vendor: respx.MockRouter, table: TiingoTable) -> Iterator[TiingoTable]:
    table.install(vendor)
    yield table


@pytest.fixture
async def books(
    build: MarketFactory,
    served: TiingoTable,
    app: FastAPI,
    session: AsyncSession,
    client: AsyncClient,
) -> Iterator[VendorDesk]:
    original = app.state.shared.market
    market = build("tiingo", circuit_cooldown_seconds=0.01)
    app.state.shared.market = market
    desk = await make_desk(app, session, client)
    yield VendorDesk(desk, served, market)
    app.state.shared.market = original


async def seed_aapl_msft(v: VendorDesk) -> dict[str, list[tuple[date, Decimal]]]:
    """Holdings over the quarter: (date, signed quantity) per ticker."""
    for ticker in ("AAPL", "MSFT"):
        await v.listed(ticker)
    await v.desk.cash("deposit", "100000", "2024-01-02")
    trades = [
        ("buy", "AAPL", "10", "2024-01-03"),
        ("buy", "MSFT", "5", "2024-01-10"),
        ("sell", "AAPL", "3", "2024-02-05"),
        ("buy", "MSFT", "2.5", "2024-03-01"),
    ]
    moves: dict[str, list[tuple[date, Decimal]]] = {"AAPL": [], "MSFT": []}
    for side, ticker, quantity, day in trades:
        await v.desk.trade(side, ticker, quantity, "100", day)
        sign = 1 if side == "buy" else -1
        moves[ticker].append((date.fromisoformat(day), sign * Decimal(quantity)))
    return moves


def held(moves: list[tuple[date, Decimal]], day: date) -> Decimal:
    return sum((q for d, q in moves if d <= day), Decimal(0))


@pytest.mark.parametrize("seed", [11, 12, 13])
async def test_a_past_valuation_is_that_days_close_whatever_was_asked_before(
    books: VendorDesk, seed: int
) -> None:
    moves = await seed_aapl_msft(books)
    rng = random.Random(seed)
    requests: list[Callable[[], Any]] = []
    for _ in range(8):
        a, b = sorted(rng.sample(DAYS, 2))
        kind = rng.choice(["valuation", "performance", "prices"])
        if kind == "valuation":
            requests.append(lambda a=a: books.desk.valuation(a.isoformat()))
        elif kind == "performance":
            requests.append(
                lambda a=a, b=b: books.desk.performance(start=a.isoformat(), end=b.isoformat())
            )
        else:
            ticker = rng.choice(["AAPL", "MSFT"])
            path = f"/market/tickers/{ticker}/prices"
            requests.append(
                lambda p=path, a=a, b=b: books.get(p, start=a.isoformat(), end=b.isoformat())
            )
    for request in requests:
        await request()
    for day in [*sorted(rng.sample(DAYS, 6)), MLK_DAY]:
        body = await books.desk.valuation(day.isoformat())
        for position in body["positions"]:
            ticker = position["ticker"]
            assert Decimal(position["last_price"]) == books.table.close(ticker, day), (ticker, day)
            assert Decimal(position["quantity"]) == held(moves[ticker], day)
        assert body["stale_prices"] == [] and body["missing_prices"] == []


async def test_the_last_days_of_a_performance_range_are_fetched_not_carried(
    books: VendorDesk,
) -> None:
    moves = await seed_aapl_msft(books)
    await books.desk.valuation("2024-01-08")  # the store now ends on the 8th
    body = await books.desk.performance(start="2024-01-03", end="2024-01-12")
    cash = Decimal(100000) - 10 * 100 - 5 * 100
    for point in body["series"]:
        day = date.fromisoformat(point["date"])
        value = sum(held(moves[t], day) * books.table.close(t, day) for t in ("AAPL", "MSFT"))
        assert (
            Decimal(point["nav"])
            == (Decimal(100000) - 1000 if day < date(2024, 1, 10) else cash) + value
        )
    assert body["missing_prices"] == []


async def test_a_holiday_is_carried_and_named(books: VendorDesk) -> None:
    await seed_aapl_msft(books)
    body = await books.desk.performance(start="2024-01-11", end="2024-01-17")
    navs = {p["date"]: p["nav"] for p in body["series"]}
    assert navs["2024-01-15"] == navs["2024-01-12"]
    assert {
        (m["ticker"], m["first_date"], m["carried"], m["stale"]) for m in body["missing_prices"]
    } == {
        ("AAPL", "2024-01-15", True, False),
        ("MSFT", "2024-01-15", True, False),
    }


async def test_days_the_vendor_could_not_be_asked_about_are_named_stale(
    books: VendorDesk,
) -> None:
    await seed_aapl_msft(books)
    await books.desk.valuation("2024-01-31")
    books.table.failing = True
    body = await books.desk.valuation("2024-03-05")
    assert body["stale_prices"] == ["AAPL", "MSFT"]
    performance = await books.desk.performance(start="2024-01-29", end="2024-02-09")
    assert {(m["ticker"], m["stale"]) for m in performance["missing_prices"]} >= {
        ("AAPL", True),
        ("MSFT", True),
    }
    books.table.failing = False
    await asyncio.sleep(0.02)  # the circuit's cool-down: one trial call, then all again
    await books.desk.valuation("2024-03-05")
    healed = await books.desk.valuation("2024-03-05")
    assert healed["stale_prices"] == []
    assert Decimal(healed["positions"][0]["last_price"]) == books.table.close(
        "AAPL", date(2024, 3, 5)
    )


async def positions(v: VendorDesk) -> dict[str, dict[str, Any]]:
    body = await v.get(f"{v.desk.base}/positions")
    return {p["ticker"]: p for p in body["items"]}


@pytest.mark.parametrize(
    ("ticker", "bought", "price", "after", "cost_after"),
    [("FOUR", "10", "100", "40", "25"), ("TENTH", "100", "5", "10", "50")],
)
async def test_a_split_multiplies_the_quantity_and_keeps_the_cost_and_the_nav(
    books: VendorDesk, ticker: str, bought: str, price: str, after: str, cost_after: str
) -> None:
    await books.listed(ticker)
    await books.desk.cash("deposit", "10000", "2024-01-02")
    await books.desk.trade("buy", ticker, bought, price, "2024-01-10")
    position = (await positions(books))[ticker]
    assert (position["quantity"], position["average_cost"]) == (after, cost_after)
    cost = str(Decimal(bought) * Decimal(price))
    assert position["cost_basis"] == cost and position["unrealized_pnl"] == "0.00"

    before_day = await books.desk.valuation("2024-02-02")
    on_day = await books.desk.valuation(SPLIT_DAY.isoformat())
    assert before_day["positions"][0]["quantity"] == bought
    assert on_day["positions"][0]["quantity"] == after
    assert before_day["nav"] == on_day["nav"] == "10000.00"
    assert before_day["market_value"] == on_day["market_value"] == f"{cost}.00"
    series = await books.desk.performance(start="2024-01-29", end="2024-02-09")
    assert {p["nav"] for p in series["series"]} == {"10000.00"}

    sold = await books.desk.trade("sell", ticker, after, cost_after, "2024-02-06")
    assert sold.status_code == 201
    assert (await positions(books)).get(ticker, {"quantity": "0"})["quantity"] in ("0", None)


async def test_a_back_dated_trade_before_a_split_is_folded_with_it(books: VendorDesk) -> None:
    await books.listed("FOUR")
    await books.desk.cash("deposit", "10000", "2024-01-02")
    await books.desk.trade("buy", "FOUR", "10", "100", "2024-02-06")  # after: 10 new shares
    await books.desk.trade("buy", "FOUR", "10", "100", "2024-01-10")  # before: 40 new shares
    position = (await positions(books))["FOUR"]
    assert position["quantity"] == "50" and position["cost_basis"] == "2000"
    lots = await books.get(f"{books.desk.base}/lots")
    assert sorted(lot["quantity"] for lot in lots["items"]) == ["10", "40"]


async def test_syncing_the_actions_again_adds_nothing(
    books: VendorDesk, session: AsyncSession
) -> None:
    first = await books.get("/market/tickers/FOUR/actions")
    assert [(a["type"], a["ex_date"], a["split_to"], a["split_from"]) for a in first["items"]] == [
        ("split", "2024-02-05", 4, 1)
    ]
    refreshed = await books.desk.client.post(
        "/market/tickers/FOUR/refresh", headers=books.desk.headers
    )
    assert refreshed.status_code == 200
    again = await books.get("/market/tickers/FOUR/actions")
    assert again["items"] == first["items"]
    count = select(func.count()).select_from(CorporateAction)
    assert await session.scalar(count) == len(first["items"])


async def test_a_dividend_is_proposed_from_the_entitlement_and_booked_once(
    books: VendorDesk,
) -> None:
    await books.listed("DIVV")
    await books.desk.cash("deposit", "10000", "2024-01-02")
    await books.desk.trade("buy", "DIVV", "150", "40", "2024-02-08")  # the close before the ex-date
    await books.desk.trade("buy", "DIVV", "50", "40", "2024-02-09")  # on the ex-date: not entitled
    listed = await books.get(f"{books.desk.base}/dividends")
    [proposal] = listed["items"]
    assert (proposal["quantity"], proposal["cash_amount"], proposal["amount"]) == (
        "150",
        "0.24",
        "36.00",
    )
    assert (proposal["ex_date"], proposal["pay_date"], proposal["status"]) == (
        "2024-02-09",
        "2024-02-09",  # Tiingo gives no pay date: dated the ex-date
        "proposed",
    )
    url = f"{books.desk.base}/dividends/{proposal['id']}/book"
    booked = await books.desk.client.post(url, headers=books.desk.headers)
    assert booked.status_code == 200 and booked.json()["status"] == "booked"
    again = await books.desk.client.post(url, headers=books.desk.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "dividend_not_proposed"
    cash = await books.get(f"{books.desk.base}/cash")
    assert [c["amount"] for c in cash["items"] if c["type"] == "dividend"] == ["36.00"]
    assert cash["balance"] == str(Decimal(10000) - 200 * 40 + Decimal("36.00"))
    relisted = await books.get(f"{books.desk.base}/dividends")
    assert [d["status"] for d in relisted["items"]] == ["booked"]


async def test_a_sale_of_the_split_quantity_books_before_anything_was_read(
    books: VendorDesk,
) -> None:
    await books.desk.cash("deposit", "10000", "2024-01-02")
    await books.desk.trade("buy", "FOUR", "10", "100", "2024-01-10")  # Folio's first sight of it
    sold = await books.desk.trade("sell", "FOUR", "40", "26", "2024-02-07")
    assert sold.status_code == 201
    position = (await positions(books)).get("FOUR")
    assert position is None or position["quantity"] == "0"
