"""How orders fill on daily bars: the one place that decides it, for backtests and the paper
broker alike (PRODUCT.md, the conventions of the most used Python backtesting library).

A decision is taken on a bar's close. With `next_open` its market order fills at the next
bar's open; with `close`, at the same bar's close. A decision on the last bar has no bar to
fill on. A buy takes as many whole shares as the cash pays for with the commission; the
commission is shares x price x rate on each side.

Priced orders work from the bar after they were placed: a buy limit fills when the low
reaches it, at the better of the open and the limit; a buy stop when the high reaches it,
at the worse of the open and the stop; sells mirror them. A stop-limit arms when its stop is
touched and then fills as a limit: on the bar that armed it only if the price it armed at is
within the limit.
"""

import enum
from decimal import Decimal
from typing import NamedTuple, TypeVar

N = TypeVar("N", float, Decimal)


class Fill(enum.StrEnum):
    NEXT_OPEN = "next_open"
    CLOSE = "close"


class OrderKind(enum.StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


def fill_bar(decided_on: int, fill: Fill) -> int:
    """The bar whose price fills an order decided on the close of bar `decided_on`."""
    return decided_on + 1 if fill is Fill.NEXT_OPEN else decided_on


def affordable_shares(cash: float, price: float, rate: float) -> int:
    """The whole shares that cash buys at price with the commission: floor(cash / (price x
    (1 + rate))), in the reference library's float arithmetic; none when the price is not
    positive."""
    if price <= 0 or cash <= 0:
        return 0
    return int(cash // (price + commission(1, price, rate)))


def commission(shares: N, price: N, rate: N) -> N:
    return shares * price * rate


class PricedBar(NamedTuple):
    open: Decimal
    high: Decimal
    low: Decimal


class Outcome(NamedTuple):
    price: Decimal | None  # the fill's price, or None: no fill on this bar
    armed: bool  # a stop-limit's stop has been touched


def on_bar(
    kind: OrderKind,
    buy: bool,
    bar: PricedBar,
    limit: Decimal | None,
    stop: Decimal | None,
    armed: bool = False,
) -> Outcome:
    """Whether and at what price a working order fills on a bar it may fill on."""
    if kind is OrderKind.MARKET:
        return Outcome(bar.open, armed)
    if kind is OrderKind.LIMIT or (kind is OrderKind.STOP_LIMIT and armed):
        assert limit is not None
        return Outcome(_limit(buy, bar, limit), armed)
    assert stop is not None
    triggered = _stop(buy, bar, stop)
    if kind is OrderKind.STOP or triggered is None:
        return Outcome(triggered, armed)
    assert limit is not None
    within = triggered <= limit if buy else triggered >= limit
    return Outcome(triggered if within else None, True)


def _limit(buy: bool, bar: PricedBar, limit: Decimal) -> Decimal | None:
    if buy:
        return min(bar.open, limit) if bar.low <= limit else None
    return max(bar.open, limit) if bar.high >= limit else None


def _stop(buy: bool, bar: PricedBar, stop: Decimal) -> Decimal | None:
    if buy:
        return max(bar.open, stop) if bar.high >= stop else None
    return min(bar.open, stop) if bar.low <= stop else None
