"""`folio strategies evaluate` on the embedded SQLite database, over a history with a split."""

import numpy as np
import talib
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from app.auth.permissions import Role
from app.cli.main import cli
from app.strategies.models import Signal, Strategy
from tests.cli.conftest import in_session
from tests.factories import make_user
from tests.indicators.history import DATES, TICKER, expected, store_history

NAME = "Golden cross"
RANGE = ["--start", DATES[50].isoformat(), "--end", DATES[-1].isoformat()]


async def _strategy(session: AsyncSession) -> None:
    await store_history(session)
    user = await make_user(session, Role.ANALYST)
    session.add(
        Strategy(
            name=NAME,
            kind="sma_cross",
            params={"fast": 5, "slow": 20},
            tickers=[TICKER],
            sizing={"type": "all_cash", "value": None},
            created_by=user.id,
        )
    )
    await session.commit()


def _expected_signals() -> int:
    close = expected()["close"]
    fast, slow = talib.SMA(close, 5), talib.SMA(close, 20)
    with np.errstate(invalid="ignore"):
        up = (fast[:-1] < slow[:-1]) & (fast[1:] > slow[1:])
        down = (fast[:-1] > slow[:-1]) & (fast[1:] < slow[1:])
    return int((up | down)[49:].sum())  # bars 50 on: their crossings from the bar before


async def _stored(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Signal)) or 0


def test_evaluate_prints_the_new_signals_and_stores_them_once(
    runner: CliRunner, sqlite_url: str
) -> None:
    in_session(sqlite_url, _strategy)
    want = _expected_signals()
    assert want > 0
    first = runner.invoke(cli, ["strategies", "evaluate", NAME, *RANGE])
    assert first.exit_code == 0, first.output
    assert f"{NAME}: new signals {want}, tickers evaluated 1" in first.stdout
    assert in_session(sqlite_url, _stored) == want
    again = runner.invoke(cli, ["strategies", "evaluate", NAME, *RANGE])
    assert f"{NAME}: new signals 0, tickers evaluated 1" in again.stdout
    assert in_session(sqlite_url, _stored) == want


def test_an_unknown_strategy_is_explained(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["strategies", "evaluate", "Nope", *RANGE])
    assert result.exit_code == 1
    assert "No such strategy." in result.output
