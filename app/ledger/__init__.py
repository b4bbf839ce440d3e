"""The books: the only writer of trades, cash, positions and lots, and their rules."""
