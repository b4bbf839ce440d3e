"""The hand-written prices JSON is exactly what the documented PricesRead model writes."""

from datetime import UTC, date, datetime
from decimal import Decimal

from app.market.provider import Bar
from app.market.results import BarsResult
from app.market.schemas import PricesRead, prices_json


def test_prices_json_is_prices_read_byte_for_byte() -> None:
    tiny, big = Decimal("0.0000001"), Decimal("123456789.123456789")
    bars = [
        Bar(date(2024, 1, 2), tiny, big, tiny, Decimal("1E+2"), Decimal("99.50"), 0),
        Bar(date(2024, 1, 3), Decimal(1), Decimal(2), Decimal("0.5"), big, tiny, 12_345_678_901),
    ]
    result = BarsResult(
        ticker="BRK.B",
        items=bars,
        provider="tiingo",
        fetched_at=datetime(2024, 1, 3, 21, 0, 0, 123456, tzinfo=UTC),
        stale=True,
    )
    written = prices_json(result, date(2024, 1, 1), date(2024, 1, 5))
    model = PricesRead.model_validate_json(written)
    assert written == model.model_dump_json().encode()
    assert model.items[0].open == tiny and b'"open":"0.0000001"' in written
    assert b'"close":"100"' in written and model.stale and model.ticker == "BRK.B"
