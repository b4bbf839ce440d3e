"""Random orders, fills (whole and partial, some the ledger refuses), cancels and expiries on
one portfolio: after every step each order's status is the fold of its events, no order is
filled beyond its quantity, and positions and cash equal the fold of the booked trades."""

import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import select

from app.auth.permissions import Role
from app.ledger import queries
from app.ledger.fold import fold
from app.ledger.models import Trade
from app.ledger.rules import InsufficientCash, InsufficientQuantity, trade_cash_effect
from app.orders import service, states
from app.orders.broker import Execution
from app.orders.models import Order, OrderEvent, OrderEventType
from app.orders.states import IllegalTransition
from app.portfolios import service as portfolios
from app.portfolios.models import Portfolio
from tests.app_driver import AppDriver
from tests.factories import bearer, make_portfolio, make_user

DEPOSIT = Decimal(20_000)
FILLED_ON = date(2026, 1, 6)
quantities = st.integers(min_value=1, max_value=40).map(Decimal)
prices = st.decimals(min_value=Decimal("50"), max_value=Decimal("400"), places=2)


class Desk(AppDriver):
    """The app under Hypothesis's rules."""

    async def new_portfolio(self) -> tuple[uuid.UUID, str, dict[str, str]]:
        async with self.app.state.shared.sessions() as session:
            pm = await make_user(session, Role.PORTFOLIO_MANAGER)
            portfolio = await make_portfolio(session, pm)
            headers = await bearer(self.app, pm)
        deposit = {"type": "deposit", "amount": str(DEPOSIT), "date": "2026-01-02"}
        answer = await self.client.post(
            f"/portfolios/{portfolio.slug}/cash", json=deposit, headers=headers
        )
        assert answer.status_code == 201, answer.text
        return portfolio.id, portfolio.slug, headers

    async def under_lock(self, portfolio_id: uuid.UUID, order_id: int, change: Any) -> bool:
        """Apply a change to an order under its portfolio's lock; False when refused."""
        async with self.app.state.shared.sessions() as session:
            await portfolios.lock(session, portfolio_id)
            order = await session.get_one(Order, order_id)
            try:
                await change(session, order)
            except (IllegalTransition, InsufficientCash, InsufficientQuantity):
                return False
            await session.commit()
            return True


class OrdersMachine(RuleBasedStateMachine):
    desk: Desk

    def __init__(self) -> None:
        super().__init__()
        self.portfolio_id, self.slug, self.headers = self.desk.run(self.desk.new_portfolio())
        self.orders: list[int] = []
        self.executions = 0

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"/portfolios/{self.slug}{path}"
        return self.desk.run(self.desk.client.post(url, json=body, headers=self.headers))

    @rule(side=st.sampled_from(["buy", "sell"]), quantity=quantities)
    def place(self, side: str, quantity: Decimal) -> None:
        body = {"ticker": "AAPL", "side": side, "quantity": str(quantity)}
        answer = self.post("/orders", body)
        assert answer.status_code == 201, answer.text
        assert answer.json()["status"] in ("accepted", "denied")
        self.orders.append(answer.json()["id"])

    @rule(data=st.data(), price=prices, share=st.sampled_from([Decimal("0.5"), Decimal(1)]))
    def fill(self, data: st.DataObject, price: Decimal, share: Decimal) -> None:
        if not self.orders:
            return
        order_id = data.draw(st.sampled_from(self.orders))
        self.executions += 1
        execution_id = f"x-{self.portfolio_id.hex[:8]}-{self.executions}"

        async def execute(session: Any, order: Order) -> None:
            left = order.quantity - order.filled_quantity
            quantity = max(Decimal(1), (left * share).to_integral_value())
            if quantity > left or not left:
                raise IllegalTransition
            execution = Execution(execution_id, FILLED_ON, quantity, price)
            await service.execute(session, self.portfolio_id, order.id, execution)

        self.desk.run(self.desk.under_lock(self.portfolio_id, order_id, execute))

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        if not self.orders:
            return
        answer = self.post(f"/orders/{data.draw(st.sampled_from(self.orders))}/cancel")
        assert answer.status_code in (200, 409), answer.text
        if answer.status_code == 409:
            assert answer.json()["error"]["code"] == "illegal_transition"

    @rule(data=st.data())
    def expire(self, data: st.DataObject) -> None:
        if not self.orders:
            return

        async def end_of_day(session: Any, order: Order) -> None:
            await service.expire(session, order, FILLED_ON)

        order_id = data.draw(st.sampled_from(self.orders))
        self.desk.run(self.desk.under_lock(self.portfolio_id, order_id, end_of_day))

    @invariant()
    def orders_are_the_fold_of_their_events(self) -> None:
        self.desk.run(self._orders_fold())

    async def _orders_fold(self) -> None:
        async with self.desk.app.state.shared.sessions() as session:
            for order in await session.scalars(select(Order).where(Order.id.in_(self.orders))):
                rows = await session.execute(
                    select(OrderEvent.type, OrderEvent.data)
                    .where(OrderEvent.order_id == order.id)
                    .order_by(OrderEvent.id)
                )
                events = [(t, d) for t, d in rows]
                assert states.fold(events, order.quantity) is order.status
                fills = [d for t, d in events if t is OrderEventType.FILL]
                filled = sum((Decimal(d["quantity"]) for d in fills), Decimal(0))
                assert order.filled_quantity == filled <= order.quantity
                for data in fills:  # each fill booked its own trade
                    trade = await session.get_one(Trade, data["trade_id"])
                    assert (trade.quantity, trade.price) == (
                        Decimal(data["quantity"]),
                        Decimal(data["price"]),
                    )

    @invariant()
    def positions_and_cash_are_the_fold_of_the_trades(self) -> None:
        self.desk.run(self._books_fold())

    async def _books_fold(self) -> None:
        async with self.desk.app.state.shared.sessions() as session:
            trades = list(
                await session.scalars(select(Trade).where(Trade.portfolio_id == self.portfolio_id))
            )
            cash = DEPOSIT + sum(
                (trade_cash_effect(t.side, t.quantity, t.price, t.fees) for t in trades),
                Decimal(0),
            )
            portfolio = await session.get_one(Portfolio, self.portfolio_id)
            assert portfolio.cash_balance == cash >= 0
            held = {i: h for i, _, h in await queries.holdings(session, self.portfolio_id)}
            booked = await queries.booked_fills(session, self.portfolio_id, list(held))
            for instrument_id, fills in booked.items():
                folded = fold(fills, allow_short=False).holding()
                assert held[instrument_id].quantity == folded.quantity >= 0
                assert held[instrument_id].cost_basis == folded.cost_basis


@pytest.fixture
def desk(fresh_database_url: str) -> Iterator[Desk]:
    desk = Desk(fresh_database_url)
    yield desk
    desk.close()


def test_orders_positions_and_cash_always_equal_their_folds(desk: Desk) -> None:
    OrdersMachine.desk = desk
    machine = OrdersMachine.TestCase
    machine.settings = settings(
        max_examples=20,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    machine().runTest()
