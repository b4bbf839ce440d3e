"""The positions route carries each position's value at its latest stored close."""

from decimal import Decimal

from tests.analytics.helpers import Desk, book_the_week


async def test_positions_carry_their_valuation(desk: Desk) -> None:
    await book_the_week(desk)
    response = await desk.client.get(f"{desk.base}/positions", headers=desk.headers)
    [position] = response.json()["items"]
    nav = Decimal(6144 + 30 * 108)
    assert {k: position[k] for k in ("last_price", "price_date", "market_value")} == {
        "last_price": "108",
        "price_date": "2024-01-12",
        "market_value": "3240.00",
    }
    assert position["unrealized_pnl"] == "240.00"
    assert abs(Decimal(position["weight"]) - Decimal(3240) / nav) < Decimal("1e-10")
