"""Controlled prices and a small desk for the analytics tests.

Instruments are created with their bars in the test's own transaction, under the simulated
provider's name, so every price the code under test sees is one set here.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from app.portfolios.models import Portfolio
from tests.factories import (
    StoredBar,
    bearer,
    make_portfolio,
    make_user,
    store_priced,
)


async def add_instrument(
    session: AsyncSession,
    ticker: str,
    closes: dict[str, str],
    adjusted: dict[str, str] | None = None,
) -> int:
    """The ticker with these closes (and adjusted closes, default the same), the vendor asked
    about every date from the first to the last: a weekday without a bar is a holiday."""
    bars = []
    for day, close in closes.items():
        price, adjusted_close = Decimal(close), Decimal((adjusted or {}).get(day, close))
        bars.append(StoredBar(date.fromisoformat(day), *(price,) * 4, adjusted_close, 1000))
    return await store_priced(session, ticker, bars)


@dataclass
class Desk:
    client: AsyncClient
    portfolio: Portfolio
    headers: dict[str, str]

    @property
    def base(self) -> str:
        return f"/portfolios/{self.portfolio.slug}"

    async def cash(self, kind: str, amount: str, on: str, ticker: str | None = None) -> None:
        body: dict[str, Any] = {"type": kind, "amount": amount, "date": on}
        if ticker:
            body["ticker"] = ticker
        response = await self.client.post(f"{self.base}/cash", json=body, headers=self.headers)
        assert response.status_code == 201, response.text

    async def trade(
        self, side: str, ticker: str, quantity: str, price: str, on: str, fees: str = "0"
    ) -> Response:
        body = {
            "ticker": ticker,
            "side": side,
            "quantity": quantity,
            "price": price,
            "fees": fees,
            "trade_date": on,
        }
        response = await self.client.post(f"{self.base}/trades", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return response

    async def performance(self, **params: str) -> dict[str, Any]:
        response = await self.client.get(
            f"{self.base}/performance", params=params, headers=self.headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def valuation(self, as_of: str) -> dict[str, Any]:
        response = await self.client.get(
            f"{self.base}/valuation", params={"as_of": as_of}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


async def make_desk(
    app: FastAPI, session: AsyncSession, client: AsyncClient, *, unbounded: bool = False
) -> Desk:
    """A PM's empty portfolio; `unbounded`: shorts and negative cash allowed."""
    pm = await make_user(session, Role.PORTFOLIO_MANAGER)
    portfolio = await make_portfolio(
        session, pm, allow_short=unbounded, allow_negative_cash=unbounded
    )
    return Desk(client, portfolio, await bearer(app, pm))


# The week every hand-computed case uses: Friday 2024-01-05 to Friday 2024-01-12.
A_CLOSES = {
    "2024-01-05": "100",
    "2024-01-08": "102",
    "2024-01-09": "110",
    "2024-01-10": "105",
    "2024-01-11": "107",
    "2024-01-12": "108",
}
B_CLOSES = {
    "2024-01-05": "50",
    "2024-01-08": "51",
    "2024-01-09": "49",
    "2024-01-10": "50",
    "2024-01-11": "52",
    "2024-01-12": "53",
}


async def book_the_week(desk: Desk) -> None:
    """A deposit, a buy, a price move, a withdrawal, a sell and a dividend."""
    await desk.cash("deposit", "10000", "2024-01-08")
    await desk.trade("buy", "TESTA", "50", "100", "2024-01-08")
    await desk.cash("withdrawal", "1000", "2024-01-10")
    await desk.trade("sell", "TESTA", "20", "106", "2024-01-11", fees="1")
    await desk.cash("dividend", "25", "2024-01-12", ticker="TESTA")
