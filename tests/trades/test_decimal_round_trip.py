"""Prices and quantities with up to 8 decimal places come back exactly as they were sent."""

from decimal import Decimal

from fastapi import FastAPI
from httpx import AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from app.ledger.models import Trade
from tests.factories import bearer, make_portfolio, make_user


def exact(max_integer: int) -> st.SearchStrategy[Decimal]:
    """Decimals with 0 to 8 places, written the way a client would (no exponent)."""
    return st.builds(
        lambda n, places: Decimal(n).scaleb(-places),
        st.integers(1, max_integer * 10**8),
        st.integers(0, 8),
    ).filter(lambda d: d.adjusted() < 12)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(quantity=exact(10**6), price=exact(10**6), fees=exact(100))
async def test_prices_and_quantities_round_trip_unchanged(
    client: AsyncClient,
    app: FastAPI,
    session: AsyncSession,
    quantity: Decimal,
    price: Decimal,
    fees: Decimal,
) -> None:
    pm = await make_user(session, Role.PORTFOLIO_MANAGER)
    portfolio = await make_portfolio(session, pm, allow_negative_cash=True)
    sent = {
        "ticker": "MSFT",
        "side": "buy",
        "quantity": f"{quantity:f}",
        "price": f"{price:f}",
        "fees": f"{fees:f}",
        "trade_date": "2026-02-02",
    }
    headers = await bearer(app, pm)
    booked = await client.post(f"/portfolios/{portfolio.slug}/trades", json=sent, headers=headers)
    assert booked.status_code == 201, booked.text
    read = await client.get(
        f"/portfolios/{portfolio.slug}/trades/{booked.json()['id']}", headers=headers
    )
    for field in ("quantity", "price", "fees"):
        assert booked.json()[field] == read.json()[field] == sent[field]
    stored = (
        await session.execute(
            select(Trade.quantity, Trade.price).where(Trade.id == booked.json()["id"])
        )
    ).one()
    assert (stored.quantity, stored.price) == (quantity, price)
    assert f"{stored.quantity:f}" == sent["quantity"]
