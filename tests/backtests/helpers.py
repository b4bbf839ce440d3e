"""A ticker's bars for backtests (opens apart from closes) and the requests that use them."""

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np

from tests.factories import StoredBar
from tests.strategies.helpers import trading_days

TICKER = "BTST"
DAYS = trading_days(date(2022, 1, 3), 300)
CASH, RATE = 10_000.0, 0.001
SMA = {"kind": "sma_cross", "params": {"fast": 5, "slow": 20}}
CENT = Decimal("0.01")


def _walk() -> tuple[list[Decimal], list[Decimal]]:
    rng = np.random.default_rng(7)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, len(DAYS))))
    open_ = close * np.exp(rng.normal(0, 0.01, len(DAYS)))
    return [Decimal(float(o)).quantize(CENT) for o in open_], [
        Decimal(float(c)).quantize(CENT) for c in close
    ]


OPENS, CLOSES = _walk()


def stored_bars() -> list[StoredBar]:
    return [
        StoredBar(d, o, max(o, c), min(o, c), c, c, 1000)
        for d, o, c in zip(DAYS, OPENS, CLOSES, strict=True)
    ]


def asked(**fields: Any) -> dict[str, Any]:
    """A request over every stored bar, with its cash and commission."""
    terms = {"ticker": TICKER, "start": DAYS[0].isoformat(), "end": DAYS[-1].isoformat()}
    return terms | {"cash": str(int(CASH)), "commission": str(RATE)} | fields
