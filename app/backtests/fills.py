"""How a market order fills: the one place that decides it, for backtests and the paper
broker alike (PRODUCT.md, the conventions of the most used Python backtesting library).

A decision is taken on a bar's close. With `next_open` its order fills at the next bar's
open; with `close`, at the same bar's close. A decision on the last bar has no bar to fill
on. A buy takes as many whole shares as the cash pays for with the commission; the
commission is shares x price x rate on each side.
"""

import enum


class Fill(enum.StrEnum):
    NEXT_OPEN = "next_open"
    CLOSE = "close"


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


def commission(shares: float, price: float, rate: float) -> float:
    return shares * price * rate
