"""Backtests and sweeps over HTTP: checked when asked, run as the worker runs them, stored,
read back by whoever asked; every fill recomputed here from the rules of PRODUCT.md."""

from typing import Any

import numpy as np
import pytest
import talib
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from app.backtests import service
from app.backtests.models import BacktestStatus
from tests.backtests.helpers import CASH, CLOSES, DAYS, OPENS, RATE, SMA, TICKER, asked, stored_bars
from tests.factories import bearer, make_user, store_priced
from tests.strategies.helpers import create_strategy


@pytest.fixture
async def stored(session: AsyncSession) -> None:
    await store_priced(session, TICKER, stored_bars())


@pytest.fixture
async def analyst(app: FastAPI, session: AsyncSession) -> dict[str, str]:
    return await bearer(app, await make_user(session, Role.ANALYST))


async def run_queued(app: FastAPI, backtest_id: int) -> BacktestStatus | None:
    """What the worker's task does with the job."""
    shared = app.state.shared
    return await service.run(shared.sessions, shared.market, backtest_id)


async def backtested(
    app: FastAPI, client: AsyncClient, headers: dict[str, str], url: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(url, json=body, headers=headers)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "queued" and accepted["progress"] == 0
    assert await run_queued(app, accepted["id"]) is BacktestStatus.SUCCEEDED
    done = await client.get(f"/backtests/{accepted['id']}", headers=headers)
    assert done.status_code == 200, done.text
    found: dict[str, Any] = done.json()
    assert found["status"] == "succeeded" and found["progress"] == 1
    return found


def expected_run(fast: int, slow: int) -> tuple[list[tuple[Any, ...]], list[float]]:
    """Round trips and equity by PRODUCT.md's rules, worked out bar by bar here."""
    close = np.array([float(c) for c in CLOSES])
    opens = [float(o) for o in OPENS]
    a, b = talib.SMA(close, fast), talib.SMA(close, slow)
    cash, shares, entry = CASH, 0, None
    trades: list[tuple[Any, ...]] = []
    equity = [CASH]
    for t in range(1, len(close)):
        if t >= 2:  # the decision of bar t - 1 fills at this bar's open
            i = t - 1
            up = a[i - 1] < b[i - 1] and a[i] > b[i]
            down = a[i - 1] > b[i - 1] and a[i] < b[i]
            price = opens[t]
            if up and shares == 0:
                shares = int(cash // (price + price * RATE))
                cash -= shares * price * (1 + RATE)
                entry = (DAYS[t].isoformat(), price, shares)
            elif down and shares:
                cash += shares * price * (1 - RATE)
                assert entry is not None
                trades.append((*entry, DAYS[t].isoformat(), price))
                shares = 0
        equity.append(cash + shares * close[t])
    return trades, equity


async def test_a_backtest_fills_every_signal_by_the_rules(
    app: FastAPI, client: AsyncClient, analyst: dict[str, str], stored: None
) -> None:
    found = await backtested(app, client, analyst, "/backtests", asked(**SMA))
    trades, equity = expected_run(5, 20)
    got = [
        (
            t["entry_date"],
            float(t["entry_price"]),
            t["quantity"],
            t["exit_date"],
            float(t["exit_price"]),
        )
        for t in found["trades"]
    ]
    assert len(got) > 3 and got == [pytest.approx(t) for t in trades]
    assert [e["date"] for e in found["equity"]] == [d.isoformat() for d in DAYS]
    assert [float(e["equity"]) for e in found["equity"]] == pytest.approx(equity, rel=1e-9)
    stats = found["stats"]
    assert stats["trades"] == len(trades)
    assert stats["equity_final"] == pytest.approx(equity[-1], rel=1e-9)
    assert stats["total_return"] == pytest.approx(equity[-1] / CASH - 1, rel=1e-9)
    assert stats["buy_hold_return"] == pytest.approx(float(CLOSES[-1] / CLOSES[0]) - 1)
    assert found["stale"] is False and found["request"]["params"] == SMA["params"]


async def test_a_strategy_is_backtested_with_its_own_kind_and_parameters(
    app: FastAPI, client: AsyncClient, analyst: dict[str, str], stored: None
) -> None:
    strategy = await create_strategy(client, analyst, **SMA, tickers=[TICKER])
    by_id = await backtested(app, client, analyst, "/backtests", asked(strategy_id=strategy["id"]))
    inline = await backtested(app, client, analyst, "/backtests", asked(**SMA))
    assert by_id["request"]["kind"] == "sma_cross" and by_id["request"]["params"] == SMA["params"]
    assert by_id["stats"] == inline["stats"] and by_id["trades"] == inline["trades"]


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({**SMA, "ticker": "ZZZZ"}, 422, "unknown_ticker"),
        ({**SMA, "end": DAYS[20].isoformat()}, 422, "too_few_bars"),
        ({**SMA, "cash": "0"}, 422, "validation_error"),
        ({**SMA, "commission": "-0.001"}, 422, "validation_error"),
        ({**SMA, "strategy_id": 1}, 422, "validation_error"),
        (
            {**SMA, "start": DAYS[9].isoformat(), "end": DAYS[0].isoformat()},
            422,
            "validation_error",
        ),
        ({"kind": "sma_cross", "params": {"fast": 20, "slow": 5}}, 422, "invalid_strategy_params"),
        ({"strategy_id": 2**31 - 1}, 404, "strategy_not_found"),
    ],
)
async def test_a_bad_request_is_refused_before_anything_runs(
    client: AsyncClient,
    analyst: dict[str, str],
    stored: None,
    fields: dict[str, Any],
    status: int,
    code: str,
) -> None:
    response = await client.post("/backtests", json=asked(**fields), headers=analyst)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert (await client.get("/backtests", headers=analyst)).json()["total"] == 0


async def test_a_grid_of_more_than_ten_thousand_combinations_is_refused(
    client: AsyncClient, analyst: dict[str, str], stored: None
) -> None:
    grid = {"fast": list(range(1, 102)), "slow": list(range(2, 103))}
    body = asked(kind="sma_cross", grid=grid)
    response = await client.post("/backtests/sweep", json=body, headers=analyst)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "too_many_combinations"


async def test_each_sweep_result_is_the_single_backtest_with_its_parameters(
    app: FastAPI, client: AsyncClient, analyst: dict[str, str], stored: None
) -> None:
    grid = {"fast": [3, 5, 30], "slow": [10, 20]}
    body = asked(kind="sma_cross", grid=grid, fill="close")
    swept = await backtested(app, client, analyst, "/backtests/sweep", body)
    assert swept["skipped"] == 2  # 30/10 and 30/20
    assert [r["params"] for r in swept["results"]] == [
        {"fast": 3, "slow": 10},
        {"fast": 3, "slow": 20},
        {"fast": 5, "slow": 10},
        {"fast": 5, "slow": 20},
    ]
    for result in swept["results"]:
        single = asked(kind="sma_cross", params=result["params"], fill="close")
        alone = await backtested(app, client, analyst, "/backtests", single)
        assert alone["stats"] == result["stats"]


async def test_a_queued_backtest_cancelled_never_runs(
    app: FastAPI, client: AsyncClient, analyst: dict[str, str], stored: None
) -> None:
    accepted = (await client.post("/backtests", json=asked(**SMA), headers=analyst)).json()
    await client.post(f"/backtests/{accepted['id']}/cancel", headers=analyst)
    job = (await client.get(f"/jobs/{accepted['job_id']}", headers=analyst)).json()
    assert job["status"] == "cancelled"  # the worker will not take it
    assert await run_queued(app, accepted["id"]) is None


async def test_backtests_are_read_and_listed_only_by_whoever_asked(
    app: FastAPI, session: AsyncSession, client: AsyncClient, analyst: dict[str, str], stored: None
) -> None:
    mine = (await client.post("/backtests", json=asked(**SMA), headers=analyst)).json()
    other = await bearer(app, await make_user(session, Role.ANALYST))
    admin = await bearer(app, await make_user(session, Role.ADMIN))
    hidden = await client.get(f"/backtests/{mine['id']}", headers=other)
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "backtest_not_found"
    assert (await client.post(f"/backtests/{mine['id']}/cancel", headers=other)).status_code == 404
    assert (await client.get(f"/backtests/{mine['id']}", headers=admin)).status_code == 200
    assert (await client.get("/backtests", headers=other)).json()["total"] == 0
    listed = (await client.get("/backtests", headers=analyst)).json()
    assert [b["id"] for b in listed["items"]] == [mine["id"]]
