"""Indicators over whole arrays of bars with TA-Lib, in its conventions (PRODUCT.md)."""

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import talib
from talib import MA_Type  # type: ignore[attr-defined]  # public, not marked as re-exported

from app.indicators.spec import Indicator
from app.market.history import Adjusted

Floats = npt.NDArray[np.float64]
SMA = MA_Type.SMA

# By kind: the TA-Lib call, given the bars and the indicator's parameters in order.
CALLS: dict[str, Callable[..., Any]] = {
    "sma": lambda b, n: talib.SMA(b.close, timeperiod=n),
    "ema": lambda b, n: talib.EMA(b.close, timeperiod=n),
    "rsi": lambda b, n: talib.RSI(b.close, timeperiod=n),
    "atr": lambda b, n: talib.ATR(b.high, b.low, b.close, timeperiod=n),
    "macd": lambda b, f, s, g: talib.MACD(b.close, fastperiod=f, slowperiod=s, signalperiod=g),
    "bbands": lambda b, n, k: talib.BBANDS(b.close, timeperiod=n, nbdevup=k, nbdevdn=k, matype=SMA),
    "stoch": lambda b, n, k, d: talib.STOCH(
        b.high,
        b.low,
        b.close,
        fastk_period=n,
        slowk_period=k,
        slowk_matype=SMA,
        slowd_period=d,
        slowd_matype=SMA,
    ),
    "obv": lambda b: talib.OBV(b.close, b.volume),
}


def contiguous(bars: Adjusted) -> Adjusted:
    """The bars with each field in one contiguous float64 array, as TA-Lib reads them."""
    fields = (bars.open, bars.high, bars.low, bars.close, bars.volume)
    return Adjusted(bars.days, *(np.ascontiguousarray(f, dtype=np.float64) for f in fields))


def compute(bars: Adjusted, indicators: Sequence[Indicator]) -> dict[str, Floats]:
    """Each indicator's columns over every bar; NaN where it is still warming up."""
    bars = contiguous(bars)
    out: dict[str, Floats] = {}
    for indicator in indicators:
        result = CALLS[indicator.kind](bars, *indicator.params)
        arrays = result if isinstance(result, tuple) else (result,)
        out.update(zip(indicator.columns, arrays, strict=True))
    return out
