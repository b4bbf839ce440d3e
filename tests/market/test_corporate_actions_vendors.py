"""Corporate actions from Tiingo's daily rows and Polygon's reference endpoints, served by
respx in the vendors' real shapes."""

import json
from datetime import date
from decimal import Decimal

import httpx
import pytest
import respx

from app.market.provider import Action, ActionType, VendorDataInvalid
from tests.market.conftest import POLYGON_URL, TIINGO_URL, MarketFactory, vendor_json

AAPL_PRICES = f"{TIINGO_URL}/tiingo/daily/AAPL/prices"
SPLITS = f"{POLYGON_URL}/v3/reference/splits"
DIVIDENDS = f"{POLYGON_URL}/v3/reference/dividends"
SPLITS_CURSOR = (
    "YXA9MjAxNC0wNi0wOSZhcz0mbGltaXQ9MiZvcmRlcj1kZXNjJnNvcnQ9ZXhlY3V0aW9uX2RhdGUmdGlja2VyPUFBUEw"
)


def tiingo_row(day: str, close: str, div_cash: str = "0.0", split_factor: str = "1.0") -> str:
    """One daily row as Tiingo writes it (numbers as JSON numbers)."""
    return (
        f'{{"date":"{day}T00:00:00.000Z","close":{close},"high":{close},"low":{close},'
        f'"open":{close},"volume":1000,"adjClose":{close},"adjHigh":{close},"adjLow":{close},'
        f'"adjOpen":{close},"adjVolume":1000,"divCash":{div_cash},"splitFactor":{split_factor}}}'
    )


def tiingo_body(*rows: str) -> httpx.Response:
    return httpx.Response(
        200, content=f"[{','.join(rows)}]".encode(), headers={"Content-Type": "application/json"}
    )


async def test_tiingo_actions_are_the_splits_and_dividends_of_the_daily_rows(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    route = vendor.get(AAPL_PRICES).mock(
        return_value=tiingo_body(
            tiingo_row("2020-08-28", "499.23"),
            tiingo_row("2020-08-31", "129.04", split_factor="4.0"),
            tiingo_row("2023-05-11", "173.75"),
            tiingo_row("2023-05-12", "172.57", div_cash="0.24"),
        )
    )
    actions = await build().provider.corporate_actions("AAPL", date(2020, 8, 1), date(2023, 5, 31))
    assert actions == [
        Action(ActionType.SPLIT, date(2020, 8, 31), split_to=4, split_from=1),
        Action(ActionType.CASH_DIVIDEND, date(2023, 5, 12), cash_amount=Decimal("0.24")),
    ]
    assert str(actions[1].cash_amount) == "0.24"
    assert dict(route.calls.last.request.url.params) == {
        "startDate": "2020-08-01",
        "endDate": "2023-05-31",
        "resampleFreq": "daily",
        "format": "json",
    }


@pytest.mark.parametrize(
    ("factor", "split_to", "split_from"),
    [("0.1", 1, 10), ("0.33333333", 1, 3), ("1.04347826", 24, 23), ("1.5", 3, 2)],
)
async def test_tiingo_split_factors_become_whole_terms(
    build: MarketFactory, vendor: respx.MockRouter, factor: str, split_to: int, split_from: int
) -> None:
    vendor.get(f"{TIINGO_URL}/tiingo/daily/SIRI/prices").mock(
        return_value=tiingo_body(tiingo_row("2024-09-10", "32.5", split_factor=factor))
    )
    provider = build().provider
    [bar] = await provider.daily_bars("SIRI", date(2024, 9, 10), date(2024, 9, 10))
    assert str(bar.split_factor) == factor  # exactly the vendor's decimal, never a float's
    assert await provider.corporate_actions("SIRI", date(2024, 9, 10), date(2024, 9, 10)) == [
        Action(ActionType.SPLIT, date(2024, 9, 10), split_to=split_to, split_from=split_from)
    ]


def polygon_split(
    day: str, split_from: float, split_to: float, ticker: str = "XYZ"
) -> dict[str, object]:
    return {
        "execution_date": day,
        "id": f"E{ticker}{day}",
        "split_from": split_from,
        "split_to": split_to,
        "ticker": ticker,
    }


def splits_second_page() -> bytes:
    page = vendor_json("polygon/polygon_splits.json")
    del page["next_url"]
    page["results"] = [polygon_split("2005-02-28", split_from=1, split_to=2, ticker="AAPL")]
    return json.dumps(page).encode()


def polygon_body(body: bytes | object) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.Response(200, content=content, headers={"Content-Type": "application/json"})


async def test_polygon_actions_follow_next_url_with_the_key_and_come_oldest_first(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    splits = vendor.get(SPLITS).mock(
        side_effect=[
            polygon_body(vendor_json("polygon/polygon_splits.json")),
            polygon_body(splits_second_page()),
        ]
    )
    dividends = vendor.get(DIVIDENDS).mock(
        return_value=polygon_body(vendor_json("polygon/polygon_dividends.json"))
    )
    actions = await build("polygon").provider.corporate_actions(
        "AAPL", date(2000, 1, 1), date(2023, 12, 31)
    )
    assert actions == [
        Action(ActionType.SPLIT, date(2005, 2, 28), split_to=2, split_from=1),
        Action(ActionType.SPLIT, date(2014, 6, 9), split_to=7, split_from=1),
        Action(ActionType.SPLIT, date(2020, 8, 31), split_to=4, split_from=1),
        Action(
            ActionType.CASH_DIVIDEND,
            date(2023, 5, 12),
            cash_amount=Decimal("0.24"),
            pay_date=date(2023, 5, 18),
        ),
        Action(
            ActionType.CASH_DIVIDEND,
            date(2023, 8, 11),
            cash_amount=Decimal("0.24"),
            pay_date=date(2023, 8, 17),
        ),
    ]
    first, cursor = (call.request for call in splits.calls)
    assert dict(first.url.params) == {
        "ticker": "AAPL",
        "execution_date.gte": "2000-01-01",
        "execution_date.lte": "2023-12-31",
        "limit": "1000",
    }
    assert cursor.url.path == "/v3/reference/splits"
    assert dict(cursor.url.params) == {"cursor": SPLITS_CURSOR}
    assert cursor.headers["Authorization"] == "Bearer polygon-test-key"
    assert dict(dividends.calls.last.request.url.params) == {
        "ticker": "AAPL",
        "ex_dividend_date.gte": "2000-01-01",
        "ex_dividend_date.lte": "2023-12-31",
        "limit": "1000",
    }


async def test_polygon_odd_ratios_and_dividend_types(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    splits = vendor_json("polygon/polygon_splits.json")
    del splits["next_url"]
    splits["results"] = [
        polygon_split("2021-03-01", split_from=1.0, split_to=0.5),
        polygon_split("2022-03-01", split_from=2.0, split_to=3.0),
        polygon_split("2023-03-01", split_from=1.0, split_to=1.0),
    ]
    vendor.get(SPLITS).mock(return_value=polygon_body(splits))
    dividends = vendor_json("polygon/polygon_dividends.json")
    regular = dividends["results"][1]
    dividends["results"] = [
        {**regular, "dividend_type": "SC", "cash_amount": 1.5, "ex_dividend_date": "2023-06-01"},
        {**regular, "dividend_type": "LT", "cash_amount": 0.7, "ex_dividend_date": "2023-06-02"},
        {k: v for k, v in regular.items() if k != "cash_amount"},
        {**regular, "dividend_type": "XX", "ex_dividend_date": "2023-06-03"},
    ]
    vendor.get(DIVIDENDS).mock(return_value=polygon_body(dividends))
    actions = await build("polygon").provider.corporate_actions(
        "XYZ", date(2021, 1, 1), date(2023, 12, 31)
    )
    assert [(a.type, a.ex_date, a.split_to, a.split_from, a.cash_amount) for a in actions] == [
        (ActionType.SPLIT, date(2021, 3, 1), 1, 2, Decimal(0)),
        (ActionType.SPLIT, date(2022, 3, 1), 3, 2, Decimal(0)),
        (ActionType.CASH_DIVIDEND, date(2023, 6, 1), 1, 1, Decimal("1.5")),
        (ActionType.CASH_DIVIDEND, date(2023, 6, 2), 1, 1, Decimal("0.7")),
    ]


async def test_polygon_actions_go_through_the_retrying_client(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    limited = httpx.Response(429, json={"status": "ERROR"}, headers={"Retry-After": "0.01"})
    splits = vendor.get(SPLITS).mock(side_effect=[limited, polygon_body(splits_second_page())])
    vendor.get(DIVIDENDS).mock(return_value=polygon_body({"status": "OK", "results": []}))
    actions = await build("polygon").provider.corporate_actions(
        "AAPL", date(2005, 1, 1), date(2005, 12, 31)
    )
    assert actions == [Action(ActionType.SPLIT, date(2005, 2, 28), split_to=2, split_from=1)]
    assert splits.call_count == 2


async def test_polygon_an_error_status_in_a_200_is_refused(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    vendor.get(SPLITS).mock(
        return_value=httpx.Response(200, json={"status": "ERROR", "error": "something"})
    )
    with pytest.raises(VendorDataInvalid):
        await build("polygon").provider.corporate_actions(
            "AAPL", date(2020, 1, 1), date(2020, 12, 31)
        )
