"""Random sequences of buys, sells, back-dated trades, cash moves and cancels: after every
step each position and the cash balance equal a plain re-computation from the booked
history, and nothing the portfolio forbids is negative."""

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from app.auth.permissions import Role
from app.main import create_app
from tests.conftest import REDIS_URL, make_settings
from tests.factories import bearer, make_portfolio, make_user

TICKERS = ("AAPL", "MSFT", "SPY")
START = date(2025, 1, 1)
money = st.decimals(min_value=Decimal("1"), max_value=Decimal("5000"), places=2)
quantities = st.decimals(min_value=Decimal("1"), max_value=Decimal("40"), places=4)
prices = st.decimals(min_value=Decimal("1"), max_value=Decimal("500"), places=8)
fees = st.decimals(min_value=Decimal("0"), max_value=Decimal("1"), places=2)


@dataclass
class Booked:
    id: int
    ticker: str
    side: str
    quantity: Decimal
    price: Decimal
    fees: Decimal
    day: date
    cancelled: bool = False

    @property
    def cash_effect(self) -> Decimal:
        gross = self.quantity * self.price
        return -gross - self.fees if self.side == "buy" else gross - self.fees


def recompute(trades: list[Booked], ticker: str) -> tuple[Decimal, Decimal, Decimal, bool]:
    """Quantity, cost basis and realised P&L by the average-cost method, and whether the
    quantity ever went below zero along the way."""
    qty = basis = realized = Decimal(0)
    went_short = False
    live = [t for t in trades if t.ticker == ticker and not t.cancelled]
    for t in sorted(live, key=lambda t: (t.day, t.id)):
        if t.side == "buy":
            qty, basis = qty + t.quantity, basis + t.quantity * t.price + t.fees
            continue
        if t.quantity > qty:
            went_short = True
            break
        avg = basis / qty
        realized += (t.price - avg) * t.quantity - t.fees
        basis -= avg * t.quantity
        qty -= t.quantity
        if qty == 0:
            basis = Decimal(0)
    return qty, basis, realized, went_short


class Desk:
    """A real app on its own database, driven from synchronous Hypothesis rules."""

    def __init__(self, database_url: str) -> None:
        self.runner = asyncio.Runner()
        self.app: FastAPI = create_app(
            make_settings(database_url=database_url, redis_url=REDIS_URL)
        )
        self.lifespan: LifespanManager = self.run(self._start())
        self.client = AsyncClient(transport=ASGITransport(app=self.app), base_url="https://test")

    async def _start(self) -> LifespanManager:
        lifespan = LifespanManager(self.app)
        await lifespan.__aenter__()
        return lifespan

    def run(self, coroutine: Any) -> Any:
        return self.runner.run(coroutine)

    async def new_portfolio(self) -> tuple[str, dict[str, str]]:
        async with self.app.state.sessionmaker() as session:
            pm = await make_user(session, Role.PORTFOLIO_MANAGER)
            portfolio = await make_portfolio(session, pm)
            return portfolio.slug, await bearer(self.app, pm)

    def close(self) -> None:
        self.run(self.client.aclose())
        self.run(self.lifespan.__aexit__(None, None, None))
        self.runner.close()


class DeskMachine(RuleBasedStateMachine):
    desk: Desk

    def __init__(self) -> None:
        super().__init__()
        self.slug, self.headers = self.desk.run(self.desk.new_portfolio())
        self.trades: list[Booked] = []
        self.cash = Decimal(0)

    def post(self, path: str, body: dict[str, Any]) -> Response:
        url = f"/portfolios/{self.slug}/{path}"
        response: Response = self.desk.run(
            self.desk.client.post(url, json=body, headers=self.headers)
        )
        return response

    def expect(self, response: Response, ok: bool, refusal: str) -> None:
        if ok:
            assert response.status_code in (200, 201), response.text
        else:
            assert response.status_code == 409, response.text
            assert response.json()["error"]["code"] == refusal

    @rule(amount=money)
    def deposit(self, amount: Decimal) -> None:
        self.expect(
            self.post("cash", {"type": "deposit", "amount": str(amount), "date": "2025-01-01"}),
            True,
            "",
        )
        self.cash += amount

    @rule(amount=money)
    def withdraw(self, amount: Decimal) -> None:
        ok = self.cash - amount >= 0
        response = self.post(
            "cash", {"type": "withdrawal", "amount": str(amount), "date": "2025-03-01"}
        )
        self.expect(response, ok, "insufficient_cash")
        if ok:
            self.cash -= amount

    @rule(
        ticker=st.sampled_from(TICKERS),
        side=st.sampled_from(["buy", "sell"]),
        quantity=quantities,
        price=prices,
        fee=fees,
        day=st.integers(0, 59),
    )
    def trade(
        self, ticker: str, side: str, quantity: Decimal, price: Decimal, fee: Decimal, day: int
    ) -> None:
        candidate = Booked(10**12, ticker, side, quantity, price, fee, START + timedelta(days=day))
        cash_ok = self.cash + candidate.cash_effect >= 0 or candidate.cash_effect >= 0
        quantity_ok = not recompute([*self.trades, candidate], ticker)[3]
        response = self.post(
            "trades",
            {
                "ticker": ticker,
                "side": side,
                "quantity": str(quantity),
                "price": str(price),
                "fees": str(fee),
                "trade_date": candidate.day.isoformat(),
            },
        )
        self.expect(
            response,
            cash_ok and quantity_ok,
            "insufficient_cash" if not cash_ok else "insufficient_quantity",
        )
        if response.status_code == 201:
            candidate.id = response.json()["id"]
            self.trades.append(candidate)
            self.cash += candidate.cash_effect

    @precondition(lambda self: any(not t.cancelled for t in self.trades))
    @rule(pick=st.integers(min_value=0))
    def cancel(self, pick: int) -> None:
        live = [t for t in self.trades if not t.cancelled]
        target = live[pick % len(live)]
        target.cancelled = True
        quantity_ok = not recompute(self.trades, target.ticker)[3]
        cash_ok = self.cash - target.cash_effect >= 0
        response = self.post(f"trades/{target.id}/cancel", {"reason": "property test"})
        self.expect(
            response,
            quantity_ok and cash_ok,
            "insufficient_quantity" if not quantity_ok else "insufficient_cash",
        )
        if response.status_code == 200:
            self.cash -= target.cash_effect
        else:
            target.cancelled = False

    @invariant()
    def positions_and_cash_equal_the_history(self) -> None:
        base = f"/portfolios/{self.slug}"
        held = self.desk.run(
            self.desk.client.get(
                f"{base}/positions?include_closed=true&limit=500", headers=self.headers
            )
        ).json()["items"]
        balance = self.desk.run(self.desk.client.get(f"{base}/cash", headers=self.headers))
        assert Decimal(balance.json()["balance"]) == self.cash >= 0
        by_ticker = {p["ticker"]: p for p in held}
        for ticker in {t.ticker for t in self.trades}:
            qty, basis, realized, went_short = recompute(self.trades, ticker)
            assert not went_short
            position = by_ticker[ticker]
            assert Decimal(position["quantity"]) == qty >= 0
            assert Decimal(position["cost_basis"]) == basis
            assert Decimal(position["realized_pnl"]) == realized


@pytest.fixture
def desk(fresh_database_url: str) -> Iterator[Desk]:
    desk = Desk(fresh_database_url)
    yield desk
    desk.close()


def test_positions_and_cash_always_equal_the_fold_of_history(desk: Desk) -> None:
    DeskMachine.desk = desk
    machine = DeskMachine.TestCase
    machine.settings = settings(
        max_examples=25,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    machine().runTest()
