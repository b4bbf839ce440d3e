"""sma_cross as a backtesting.py strategy (installed in the bench environment only), by
PRODUCT.md's rules: a BUY when flat buys every whole share, a SELL when long sells them all."""

import talib
from backtesting import Strategy
from backtesting.lib import crossover


class SmaCross(Strategy):  # type: ignore[misc]
    fast = 10
    slow = 30

    def init(self) -> None:
        self.a = self.I(talib.SMA, self.data.Close, self.fast)
        self.b = self.I(talib.SMA, self.data.Close, self.slow)

    def next(self) -> None:
        if crossover(self.a, self.b) and not self.position:
            self.buy(size=1 - 1e-12)  # the library's fraction of the cash, short of all of it
        elif crossover(self.b, self.a) and self.position:
            self.position.close()
