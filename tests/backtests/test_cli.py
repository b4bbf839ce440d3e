"""`folio backtest` on the embedded SQLite database, over a history with a 2-for-1 split."""

from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from app.backtests import results
from app.backtests.engine import Terms
from app.backtests.fills import Fill
from app.cli.main import cli
from app.market.history import Adjusted
from tests.cli.conftest import in_session
from tests.indicators.history import DATES, TICKER, expected, store_history

RANGE = ["--start", DATES[0].isoformat(), "--end", DATES[-1].isoformat()]
PARAMS = ["--param", "fast=5", "--param", "slow=20"]


def _on_the_adjusted_bars() -> dict[str, float]:
    """The statistics computed here on the history as adjusted, not read from the database."""
    bars = expected()
    days = np.array(DATES, dtype="datetime64[D]")
    adjusted = Adjusted(days, *(bars[k] for k in ("open", "high", "low", "close", "volume")))
    terms = Terms(cash=100_000.0, commission=0.001, fill=Fill.NEXT_OPEN, risk_free_rate=0.0)
    stats: dict[str, float] = results.backtest(
        adjusted, "sma_cross", {"fast": 5, "slow": 20}, terms
    )["stats"]
    return stats


def test_the_statistics_are_printed_and_the_chart_drawn(
    runner: CliRunner, sqlite_url: str, tmp_path: Path
) -> None:
    in_session(sqlite_url, store_history)
    chart = tmp_path / "equity.png"
    command = ["backtest", "sma_cross", "--ticker", TICKER, *RANGE, *PARAMS]
    result = runner.invoke(cli, [*command, "--commission", "0.001", "--chart", str(chart)])
    assert result.exit_code == 0, result.output
    stats = _on_the_adjusted_bars()
    assert stats["trades"] > 2
    lines = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "│" in line}
    assert f"{stats['total_return'] * 100:,.2f}%" in lines["total_return"]
    assert f"{stats['trades']}" in lines["trades"]
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_bad_parameters_are_explained(runner: CliRunner, sqlite_url: str) -> None:
    in_session(sqlite_url, store_history)
    command = ["backtest", "sma_cross", "--ticker", TICKER, *RANGE]
    crossed = runner.invoke(cli, [*command, "--param", "fast=20", "--param", "slow=5"])
    assert crossed.exit_code == 1
    assert "fast (20) must be less than slow (5)" in crossed.output
    unnamed = runner.invoke(cli, [*command, "--param", "20"])
    assert unnamed.exit_code == 2 and "NAME=VALUE" in unnamed.output
    nowhere = runner.invoke(cli, [*command, *PARAMS, "--chart", "/no/such/dir/x.png"])
    assert nowhere.exit_code == 2 and "is not a directory" in nowhere.output
