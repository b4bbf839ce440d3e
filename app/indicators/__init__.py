"""Technical indicators on a ticker's split-adjusted daily bars, computed with TA-Lib."""
