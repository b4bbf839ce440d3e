"""The vectorised series, refreshed after back-dated trades and cancels, agrees day by day
and exactly with a valuation of that day (a plain Decimal fold of the trades)."""

import random
from datetime import date, timedelta
from decimal import Decimal

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.analytics.helpers import add_instrument, make_desk

FIRST = date(2024, 3, 4)  # a Monday
DAYS = 20


def weekdays() -> list[date]:
    days = (FIRST + timedelta(days=n) for n in range(DAYS + 8))
    return [d for d in days if d.weekday() < 5][:DAYS]


def closes(rng: random.Random) -> dict[str, str]:
    price = Decimal(rng.randint(2000, 20000)) / 100
    out = {}
    for day in weekdays():
        price = max(price + Decimal(rng.randint(-300, 300)) / 1000, Decimal("0.5"))
        if rng.random() > 0.1:  # some days without a close
            out[day.isoformat()] = str(price)
    return out


async def test_every_day_matches_a_valuation_of_that_day(
    app: FastAPI, session: AsyncSession, client: AsyncClient
) -> None:
    rng = random.Random(7)
    tickers = ["TESTX", "TESTY", "TESTZ"]
    prices = {t: closes(rng) for t in tickers}
    for ticker in tickers:
        await add_instrument(session, ticker, prices[ticker])
    desk = await make_desk(app, session, client, unbounded=True)
    await desk.cash("deposit", "100000", FIRST.isoformat())
    booked = []
    for _ in range(40):
        day, ticker = rng.choice(weekdays()), rng.choice(tickers)
        quantity = Decimal(rng.randint(1, 500000)) / 10000
        side = "sell" if rng.random() < 0.4 else "buy"  # shorts allowed
        price = Decimal(rng.randint(1000, 30000)) / 100
        # Booked in random date order, so later trades are often back-dated.
        response = await desk.trade(
            side, ticker, str(quantity), str(price), day.isoformat(), "0.35"
        )
        booked.append(response.json()["id"])
        if rng.random() < 0.3:
            await desk.performance(end=weekdays()[-1].isoformat(), benchmark="TESTX")
    for trade_id in rng.sample(booked, 3):
        url = f"{desk.base}/trades/{trade_id}/cancel"
        cancelled = await client.post(url, json={"reason": "test"}, headers=desk.headers)
        assert cancelled.status_code == 200, cancelled.text
        await desk.performance(end=weekdays()[-1].isoformat(), benchmark="TESTX")
    body = await desk.performance(end=weekdays()[-1].isoformat(), benchmark="TESTX")
    for point in body["series"]:
        valued = await desk.valuation(point["date"])
        assert point["nav"] == valued["nav"], point["date"]
