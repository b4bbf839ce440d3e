"""Tiingo's daily endpoints answering from a table of closes, splits and dividends, in the
real response shapes (tests/market/vendor/tiingo/), for tests of the books over vendor data.

Rows are those of the table's dates inside the asked range: a weekday without a row is a
day the vendor has no bar for (a holiday, a halt).
"""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from math import prod
from typing import Any

import httpx
import respx

from tests.market.conftest import TIINGO_URL, vendor_json


@dataclass
class Listing:
    closes: dict[date, Decimal]
    splits: dict[date, Decimal] = field(default_factory=dict)  # Tiingo's splitFactor
    dividends: dict[date, Decimal] = field(default_factory=dict)  # divCash


def weekdays(first: date, last: date, *, skip: tuple[date, ...] = ()) -> list[date]:
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [d for d in days if d.weekday() < 5 and d not in skip]


@dataclass
class TiingoTable:
    listings: dict[str, Listing]
    failing: bool = False
    price_calls: list[tuple[str, date, date]] = field(default_factory=list)

    def install(self, router: respx.MockRouter) -> None:
        base = re.escape(TIINGO_URL)
        router.get(url__regex=rf"{base}/tiingo/daily/(?P<symbol>[^/?]+)/prices").mock(
            side_effect=self._prices
        )
        router.get(url__regex=rf"{base}/tiingo/daily/(?P<symbol>[^/?]+)$").mock(
            side_effect=self._meta
        )

    def close(self, ticker: str, day: date) -> Decimal:
        """The close a valuation of `day` uses: that day's, else the last one before it."""
        closes = self.listings[ticker].closes
        return closes[max(d for d in closes if d <= day)]

    def _listing(self, symbol: str) -> Listing | None:
        return self.listings.get(symbol.upper())

    def _meta(self, request: httpx.Request, symbol: str) -> httpx.Response:
        if self.failing:
            return httpx.Response(500, json={"detail": "Internal Server Error"})
        listing = self._listing(symbol)
        if listing is None:
            return httpx.Response(404, json=vendor_json("tiingo/tiingo_error_notfound.json"))
        body = vendor_json("tiingo/tiingo_meta.json")
        body |= {
            "ticker": symbol.upper(),
            "name": f"{symbol.upper()} Inc.",
            "startDate": min(listing.closes).isoformat(),
            "endDate": max(listing.closes).isoformat(),
        }
        return httpx.Response(200, json=body)

    def _prices(self, request: httpx.Request, symbol: str) -> httpx.Response:
        if self.failing:
            return httpx.Response(500, json={"detail": "Internal Server Error"})
        listing = self._listing(symbol)
        if listing is None:
            return httpx.Response(404, json=vendor_json("tiingo/tiingo_error_notfound.json"))
        start = date.fromisoformat(request.url.params["startDate"])
        end = date.fromisoformat(request.url.params["endDate"])
        self.price_calls.append((symbol.upper(), start, end))
        rows = [self._row(listing, d) for d in sorted(listing.closes) if start <= d <= end]
        return httpx.Response(200, json=rows)

    @staticmethod
    def _row(listing: Listing, day: date) -> dict[str, Any]:
        close = float(listing.closes[day])
        later = prod(float(f) for d, f in listing.splits.items() if d > day)
        adjusted = round(close / later, 4)
        return {
            "date": f"{day.isoformat()}T00:00:00.000Z",
            "close": close,
            "high": close,
            "low": close,
            "open": close,
            "volume": 1000,
            "adjClose": adjusted,
            "adjHigh": adjusted,
            "adjLow": adjusted,
            "adjOpen": adjusted,
            "adjVolume": int(1000 * later),
            "divCash": float(listing.dividends.get(day, Decimal(0))),
            "splitFactor": float(listing.splits.get(day, Decimal(1))),
        }
