"""Performance over HTTP against values computed here by hand, independently of the code."""

import math
import statistics
from datetime import date
from decimal import Decimal
from fractions import Fraction

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.analytics.helpers import (
    A_CLOSES,
    B_CLOSES,
    Desk,
    add_instrument,
    book_the_week,
    make_desk,
)

TOLERANCE = 1e-8
WEEK = {"start": "2024-01-08", "end": "2024-01-12", "benchmark": "TESTB"}


def close_to(value: str | None, expected: float) -> bool:
    return value is not None and abs(float(value) - expected) < TOLERANCE


def xirr_by_bisection(flows: list[tuple[date, float]]) -> float:
    """The rate where the flows' present value is zero, found by plain bisection on the rate."""
    first = flows[0][0]

    def npv(rate: float) -> float:
        return sum(a / (1 + rate) ** ((d - first).days / 365) for d, a in flows)

    low, high = -0.99, 1e6
    for _ in range(300):
        middle = (low + high) / 2
        if (npv(middle) > 0) == (npv(low) > 0):
            low = middle
        else:
            high = middle
    return (low + high) / 2


async def test_the_hand_computed_week(desk: Desk) -> None:
    await book_the_week(desk)
    body = await desk.performance(**WEEK)

    # NAV at each close: cash + 50 or 30 TESTA at the day's close.
    navs = [
        Fraction(5000 + 50 * 102),  # deposit 10,000, buy 50 at 100
        Fraction(5000 + 50 * 110),
        Fraction(4000 + 50 * 105),  # 1,000 withdrawn at the close
        Fraction(6119 + 30 * 107),  # sell 20 at 106, fee 1
        Fraction(6144 + 30 * 108),  # dividend 25
    ]
    assert [p["nav"] for p in body["series"]] == [
        "10100.00",
        "10500.00",
        "9250.00",
        "9329.00",
        "9384.00",
    ]
    assert [Fraction(Decimal(p["nav"])) for p in body["series"]] == navs
    inflow = [10000, 0, 0, 0, 0]
    outflow = [0, 0, 1000, 0, 0]
    previous = [Fraction(0), *navs[:-1]]
    returns = [(navs[i] + outflow[i]) / (previous[i] + inflow[i]) - 1 for i in range(len(navs))]
    wealth = [math.prod(1 + r for r in returns[: i + 1]) for i in range(len(returns))]
    twr = wealth[-1] - 1
    assert close_to(body["twr"], float(twr))
    assert close_to(body["twr_annualized"], float(1 + twr) ** (365 / 4) - 1)
    for point, w in zip(body["series"], wealth, strict=True):
        assert close_to(point["twr_cumulative"], float(w - 1))

    flows = [(date(2024, 1, 8), -10000.0), (date(2024, 1, 10), 1000.0), (date(2024, 1, 12), 9384.0)]
    assert close_to(body["xirr"], xirr_by_bisection(flows))

    # Wealth 1.01, 1.05, 1.025, ...: the deepest fall is from Tuesday's peak to Wednesday.
    assert close_to(body["max_drawdown"], float(wealth[2] / wealth[1] - 1))
    assert (body["max_drawdown_peak"], body["max_drawdown_trough"]) == ("2024-01-09", "2024-01-10")

    daily = [float(r) for r in returns]
    sd = statistics.stdev(daily)
    assert close_to(body["volatility"], sd * math.sqrt(252))
    assert close_to(body["sharpe"], statistics.mean(daily) / sd * math.sqrt(252))
    assert body["return_days"] == 5 and body["missing_prices"] == []


async def test_the_benchmark_is_a_buy_and_hold_of_its_ticker(desk: Desk) -> None:
    await book_the_week(desk)
    bench = (await desk.performance(**WEEK))["benchmark"]
    assert bench["ticker"] == "TESTB"
    closes = [50, 51, 49, 50, 52, 53]  # Friday's close is the base
    returns = [closes[i + 1] / closes[i] - 1 for i in range(5)]
    assert close_to(bench["twr"], 53 / 50 - 1)
    assert close_to(bench["xirr"], (53 / 50) ** (365 / 4) - 1)
    assert close_to(bench["max_drawdown"], 49 / 51 - 1)
    assert (bench["max_drawdown_peak"], bench["max_drawdown_trough"]) == (
        "2024-01-08",
        "2024-01-09",
    )
    assert close_to(bench["volatility"], statistics.stdev(returns) * math.sqrt(252))


async def test_a_deposit_invested_on_a_falling_day_leaves_twr_equal_to_the_market(
    app: FastAPI, session: AsyncSession, client: AsyncClient
) -> None:
    closes = {"2024-01-05": "100", "2024-01-08": "100", "2024-01-09": "90", "2024-01-10": "99"}
    await add_instrument(session, "TESTM", closes)
    steady = await make_desk(app, session, client)
    flooded = await make_desk(app, session, client)
    for desk in (steady, flooded):
        await desk.cash("deposit", "10000", "2024-01-08")
        await desk.trade("buy", "TESTM", "100", "100", "2024-01-08")
    # A million comes in on the day the market falls 10%, invested at the open.
    await flooded.cash("deposit", "1000000", "2024-01-09")
    await flooded.trade("buy", "TESTM", "10000", "100", "2024-01-09")
    week = {"start": "2024-01-08", "end": "2024-01-10", "benchmark": "TESTM"}
    calm, flood = await steady.performance(**week), await flooded.performance(**week)
    market = 99 / 100 - 1
    assert close_to(calm["twr"], market) and close_to(flood["twr"], market)
    assert close_to(flood["benchmark"]["twr"], market)
    assert [p["nav"] for p in flood["series"]] == ["10000.00", "909000.00", "999900.00"]


async def test_a_missing_close_is_named_and_carried_not_valued_at_zero(
    app: FastAPI, session: AsyncSession, client: AsyncClient
) -> None:
    gappy = {d: c for d, c in A_CLOSES.items() if d != "2024-01-10"}
    await add_instrument(session, "TESTG", gappy)
    await add_instrument(session, "TESTH", B_CLOSES)
    desk = await make_desk(app, session, client)
    await desk.cash("deposit", "10000", "2024-01-08")
    await desk.trade("buy", "TESTG", "50", "100", "2024-01-08")
    await desk.trade("buy", "TESTH", "10", "50", "2024-01-08")
    body = await desk.performance(start="2024-01-08", end="2024-01-12", benchmark="TESTH")
    assert body["missing_prices"] == [
        {
            "ticker": "TESTG",
            "first_date": "2024-01-10",
            "last_date": "2024-01-10",
            "days": 1,
            "carried": True,
            "stale": False,
        }
    ]
    wednesday = body["series"][2]
    assert wednesday["date"] == "2024-01-10"
    assert Decimal(wednesday["nav"]) == 4500 + 50 * 110 + 10 * 50  # TESTG at Tuesday's close
    assert body["twr"] is not None


async def test_a_holding_never_priced_leaves_the_nav_unknown_and_named(
    app: FastAPI, session: AsyncSession, client: AsyncClient
) -> None:
    await add_instrument(session, "TESTN", {})
    await add_instrument(session, "TESTO", B_CLOSES)
    desk = await make_desk(app, session, client)
    await desk.cash("deposit", "10000", "2024-01-08")
    await desk.trade("buy", "TESTN", "10", "100", "2024-01-10")
    body = await desk.performance(start="2024-01-08", end="2024-01-12", benchmark="TESTO")
    assert [p["nav"] for p in body["series"]] == ["10000.00", "10000.00", None, None, None]
    assert body["missing_prices"][0] | {"first_date": "2024-01-10", "days": 3} == {
        "ticker": "TESTN",
        "first_date": "2024-01-10",
        "last_date": "2024-01-12",
        "days": 3,
        "carried": False,
        "stale": True,  # the vendor does not know TESTN: it could not say there is no bar
    }
    assert body["twr"] is None and "TESTN" in body["reason"]
    assert body["benchmark"]["twr"] is not None


async def test_xirr_with_no_solution_is_null_with_a_reason(desk: Desk) -> None:
    await desk.cash("deposit", "1000", "2024-01-08")
    await desk.cash("fee", "1000", "2024-01-09")
    body = await desk.performance(**WEEK)
    assert body["xirr"] is None and "change sign" in body["xirr_reason"]
    assert close_to(body["twr"], -1.0)


async def test_series_are_sampled_by_week_and_month_but_figures_stay_daily(desk: Desk) -> None:
    await book_the_week(desk)
    daily = await desk.performance(start="2024-01-02", end="2024-01-31", benchmark="TESTB")
    weekly = await desk.performance(
        start="2024-01-02", end="2024-01-31", benchmark="TESTB", interval="week"
    )
    monthly = await desk.performance(
        start="2024-01-02", end="2024-01-31", benchmark="TESTB", interval="month"
    )
    assert [p["date"] for p in weekly["series"]] == [
        "2024-01-12",
        "2024-01-19",
        "2024-01-26",
        "2024-01-31",
    ]
    assert [p["date"] for p in monthly["series"]] == ["2024-01-31"]
    assert weekly["twr"] == daily["twr"] == monthly["twr"]
    assert daily["start"] == "2024-01-08"  # clamped to the first deposit


async def test_an_absurd_return_is_written_as_null_not_an_error(desk: Desk) -> None:
    await desk.cash("deposit", "0.01", "2024-01-08")
    await desk.cash("interest", "1000000000000", "2024-01-09")
    body = await desk.performance(**WEEK)
    assert abs(float(body["twr"]) / 1e14 - 1) < 1e-12  # (0.01 + 1e12) / 0.01 - 1
    assert body["twr_annualized"] is None  # beyond any float
    assert body["xirr"] is None and body["xirr_reason"]
