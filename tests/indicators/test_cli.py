"""`folio indicators`: the latest days as a table, or every row of the range as CSV."""

import csv
import math
from pathlib import Path

import talib
from typer.testing import CliRunner

from app.cli.main import cli
from tests.cli.conftest import in_session
from tests.indicators.history import DATES, TICKER, expected, store_history

RANGE = ["--start", DATES[0].isoformat(), "--end", DATES[-1].isoformat()]


def test_csv_has_every_row_of_the_range_with_talib_values(
    runner: CliRunner, sqlite_url: str, tmp_path: Path
) -> None:
    in_session(sqlite_url, store_history)
    path = tmp_path / "out.csv"
    args = ["indicators", TICKER.lower(), "--names", "sma_5,bbands_5_2.5", *RANGE, "--csv", path]
    result = runner.invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    assert f"{len(DATES)} rows written" in result.output
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    bars = expected()
    upper, _, _ = talib.BBANDS(bars["close"], 5, 2.5, 2.5, talib.MA_Type.SMA)
    assert [row["date"] for row in rows] == [d.isoformat() for d in DATES]
    assert [float(row["close"]) for row in rows] == bars["close"].tolist()
    assert [row["sma_5"] for row in rows[:4]] == [""] * 4
    for row, want in zip(rows[4:], upper[4:], strict=True):
        assert math.isclose(float(row["bbands_5_2.5_upper"]), want, rel_tol=1e-9)


def test_the_table_shows_the_latest_days(runner: CliRunner, sqlite_url: str) -> None:
    in_session(sqlite_url, store_history)
    args = ["indicators", TICKER, "--names", "rsi_14", *RANGE, "--last", "2"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    rsi = talib.RSI(expected()["close"], 14)
    assert DATES[-1].isoformat() in result.output and DATES[-2].isoformat() in result.output
    assert DATES[-3].isoformat() not in result.output
    assert f"{rsi[-1]:,.4f}" in result.output and "history from 2022-01-03" in result.output


def test_a_bad_name_is_explained(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["indicators", TICKER, "--names", "macd_26_12_9"])
    assert result.exit_code == 1
    assert "the fast period must be shorter than the slow period" in result.output
