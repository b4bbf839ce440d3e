"""Analytics on the embedded SQLite database (no PostgreSQL fast paths), and `folio report`."""

import asyncio
from pathlib import Path

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from typer.testing import CliRunner

from app.cli.db import upgrade_to_head
from app.cli.main import cli
from app.core.config import get_settings
from app.main import create_app
from tests.analytics.helpers import A_CLOSES, B_CLOSES, add_instrument, book_the_week, make_desk
from tests.conftest import make_settings

WEEK = {"start": "2024-01-08", "end": "2024-01-12", "benchmark": "TESTB"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def the_week_on(url: str) -> tuple[str, dict[str, object]]:
    """Book the hand-computed week on the database at `url`; its slug and performance."""
    app = create_app(make_settings(database_url=url, redis_url=None))
    transport = ASGITransport(app=app)
    async with LifespanManager(app), AsyncClient(transport=transport, base_url="http://t") as c:
        async with app.state.shared.sessions() as session:
            await add_instrument(session, "TESTA", A_CLOSES)
            await add_instrument(session, "TESTB", B_CLOSES)
            desk = await make_desk(app, session, c)
        await book_the_week(desk)
        return desk.portfolio.slug, await desk.performance(**WEEK)


@pytest.fixture
def sqlite_url(tmp_sqlite_url: str) -> str:
    upgrade_to_head(tmp_sqlite_url)
    return tmp_sqlite_url


def test_sqlite_gives_the_same_navs_and_returns(sqlite_url: str) -> None:
    _, body = asyncio.run(the_week_on(sqlite_url))
    series = body["series"]
    assert isinstance(series, list)
    assert [p["nav"] for p in series] == ["10100.00", "10500.00", "9250.00", "9329.00", "9384.00"]
    twr = (10250 / 10000) * (9384 / 9250) - 1
    assert abs(float(str(body["twr"])) - twr) < 1e-8


def test_report_prints_the_tables_and_draws_a_png(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slug, _ = asyncio.run(the_week_on(sqlite_url))
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("LOG_DIR", "")
    monkeypatch.setenv("MARKET_DATA_PROVIDER", "simulated")
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    chart = tmp_path / "nav.png"
    args = ["report", slug, "--start", "2024-01-08", "--end", "2024-01-12"]
    try:
        result = CliRunner().invoke(cli, [*args, "--benchmark", "TESTB", "--chart", str(chart)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert chart.read_bytes().startswith(PNG_SIGNATURE)
    assert "9,384.00" in result.output and "TWR" in result.output and "TESTB" in result.output
    assert "3.98%" in result.output and "-2.38%" in result.output  # TWR, drawdown
