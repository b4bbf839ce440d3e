"""The paper broker fills the orders a backtest would place exactly as the backtest engine
does: the same bar, price, quantity and commission (the fill code is theirs in common)."""

import numpy as np
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.valuation import settled
from app.backtests.engine import Bars, Terms, run
from app.backtests.fills import Fill
from app.strategies.kinds import BUY, SELL
from tests.backtests.helpers import CASH, CLOSES, DAYS, OPENS, RATE, TICKER, stored_bars
from tests.factories import store_priced
from tests.orders.helpers import make_desk, place_on, run_paper


async def test_paper_fills_equal_the_backtest_engine_s(
    app: FastAPI, client: AsyncClient, session: AsyncSession
) -> None:
    await store_priced(session, TICKER, stored_bars(), covered_through=settled())
    # the check prices at the last close, not the day's: cash is the ledger's to refuse here
    desk = await make_desk(
        app, client, session, cash=str(int(CASH)), held="0", stored=[], allow_negative_cash=True
    )
    bars = Bars(
        np.array(DAYS, dtype="datetime64[D]"),
        np.array([float(o) for o in OPENS]),
        np.array([float(c) for c in CLOSES]),
    )
    rng = np.random.default_rng(11)
    decisions = rng.choice([0, BUY, SELL], size=len(DAYS), p=[0.9, 0.05, 0.05]).astype(np.int8)
    engine = run(bars, decisions, Terms(CASH, RATE, Fill.NEXT_OPEN, 0.0))
    assert len(engine.trades) >= 5

    rate = str(RATE)
    for trade in engine.trades:
        entry = trade.entry
        buy = await place_on(
            app, desk, DAYS[entry.bar - 1], ticker=TICKER, quantity=str(entry.quantity)
        )
        await run_paper(app, DAYS[entry.bar], rate)
        sell = await place_on(
            app,
            desk,
            DAYS[trade.exit_bar - 1],
            ticker=TICKER,
            side="sell",
            quantity=str(entry.quantity),
        )
        await run_paper(app, DAYS[trade.exit_bar], rate)
        for placed, bar, price, commission in (
            (buy, entry.bar, entry.price, entry.commission),
            (sell, trade.exit_bar, trade.exit_price, trade.exit_commission),
        ):
            url = f"/portfolios/{desk.slug}/orders/{placed.id}/events"
            [fill] = [
                e["data"]
                for e in (await client.get(url, headers=desk.pm)).json()["items"]
                if e["type"] == "fill"
            ]
            assert fill["date"] == DAYS[bar].isoformat()
            assert float(fill["price"]) == price
            assert fill["quantity"] == str(entry.quantity)
            assert abs(float(fill["commission"]) - commission) < 1e-9

    final_cash = (await client.get(f"/portfolios/{desk.slug}", headers=desk.pm)).json()
    engine_cash = CASH + sum(t.pnl for t in engine.trades)
    assert abs(float(final_cash["cash_balance"]) - engine_cash) < 1e-6
