"""Strategies with a portfolio and auto_trade turn their new BUY and SELL signals into
orders, sized by the strategy, bracketed by its stop-loss and take-profit, through the same
check as any order."""

from decimal import Decimal

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.orders.auto import place_from_signals
from app.strategies.models import Signal, SignalStatus, SignalType
from tests.orders.helpers import DAYS, TICKER, make_desk
from tests.strategies.helpers import create_strategy

DAY = DAYS[-1]


def signal(strategy_id: int, kind: SignalType, ticker: str = TICKER) -> Signal:
    return Signal(
        strategy_id=strategy_id,
        ticker=ticker,
        date=DAY,
        type=kind,
        close=Decimal(100),
        reasons=["a test's signal"],
        indicators={},
    )


async def test_signals_become_orders_by_the_strategy_s_sizing(
    app: FastAPI, client: AsyncClient, session: AsyncSession
) -> None:
    desk = await make_desk(app, client, session, held="0", cash="100000")
    strategy = await create_strategy(
        client,
        desk.pm,
        kind="sma_cross",
        params={"fast": 5, "slow": 20},
        tickers=[TICKER, "AAPL"],
        portfolio=desk.slug,
        sizing={"type": "percent_nav", "value": "5"},
        stop_loss_pct="8",
        take_profit_pct="20",
        auto_trade=True,
    )
    watcher = await create_strategy(
        client,
        desk.pm,
        kind="sma_cross",
        params={"fast": 5, "slow": 20},
        tickers=[TICKER],
        portfolio=desk.slug,
    )
    buy, sell = (
        signal(strategy["id"], SignalType.BUY),
        signal(strategy["id"], SignalType.SELL, "AAPL"),
    )
    untraded = signal(watcher["id"], SignalType.BUY)
    session.add_all([buy, sell, untraded])
    await session.commit()

    placed = await place_from_signals(session, app.state.shared.market, DAY, Decimal(0))
    await session.commit()
    assert (placed.orders, placed.ignored) == (1, 1)
    orders = (await client.get(f"/portfolios/{desk.slug}/orders", headers=desk.pm)).json()
    [order] = orders["items"]
    assert (order["client_order_id"], order["strategy_id"], order["signal_id"]) == (
        f"signal:{buy.id}",
        strategy["id"],
        buy.id,
    )
    # 5% of a 100,000 NAV at the 100 close; the stop 8% under it, the target 20% over
    assert (order["side"], order["type"], order["quantity"], order["status"]) == (
        "buy",
        "market",
        "50",
        "accepted",
    )
    assert [(leg["leg"], leg["stop_price"], leg["limit_price"]) for leg in order["legs"]] == [
        ("stop_loss", "92.00", None),
        ("take_profit", None, "120.00"),
    ]
    statuses = dict(
        (
            await session.execute(
                select(Signal.id, Signal.status).where(
                    Signal.id.in_([buy.id, sell.id, untraded.id])
                )
            )
        ).all()
    )
    assert statuses == {
        buy.id: SignalStatus.ACTED,
        sell.id: SignalStatus.IGNORED,
        untraded.id: SignalStatus.NEW,
    }
    events = (await client.get(f"/strategies/{strategy['id']}/events", headers=desk.pm)).json()
    messages = [e["message"] for e in events["items"] if e["type"] == "order"]
    assert f"BUY {TICKER} on {DAY}: buy 50 {TICKER}: order {order['id']} accepted" in messages
    assert f"SELL AAPL on {DAY}: nothing held to sell" in messages

    again = await place_from_signals(session, app.state.shared.market, DAY, Decimal(0))
    assert (again.orders, again.ignored) == (0, 0)


async def test_a_strategy_s_order_that_breaks_the_policy_is_denied(
    app: FastAPI, client: AsyncClient, session: AsyncSession
) -> None:
    desk = await make_desk(app, client, session, held="0", cash="100000")
    policy = {"max_position_weight": {"limit": "0.04", "severity": "hard"}}
    assert (
        await client.put(f"/portfolios/{desk.slug}/policy", json=policy, headers=desk.pm)
    ).status_code == 200
    strategy = await create_strategy(
        client,
        desk.pm,
        kind="sma_cross",
        params={"fast": 5, "slow": 20},
        tickers=[TICKER],
        portfolio=desk.slug,
        sizing={"type": "all_cash"},
        auto_trade=True,
    )
    session.add(signal(strategy["id"], SignalType.BUY))
    await session.commit()
    await place_from_signals(session, app.state.shared.market, DAY, Decimal("0.001"))
    await session.commit()
    [order] = (await client.get(f"/portfolios/{desk.slug}/orders", headers=desk.pm)).json()["items"]
    # all the cash with the commission: floor(100,000 / 100.1)
    assert (order["quantity"], order["status"]) == ("999", "denied")
