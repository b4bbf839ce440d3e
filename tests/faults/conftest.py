"""Fault tests: a desk served in-process, a stream of requests, and servers to break.

The throwaway PostgreSQL is initdb'ed into a temporary directory and run on a free loopback
port, so stopping it harms nobody; PostgreSQL refuses to run as root, so as root it runs as
the `postgres` OS user.
"""

import asyncio
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.auth.permissions import Role
from app.cli.db import upgrade_to_head
from app.core.config import Settings
from app.main import create_app
from tests.factories import bearer, make_portfolio, make_team, make_user
from tests.invariants import Books, check_books


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class ThrowawayPostgres:
    """A PostgreSQL server of the test's own, to stop and start at will."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="folio-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        if self.owner is not None:
            os.chown(self.root, self.owner.pw_uid, self.owner.pw_gid)

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.owner is not None else []
        result = subprocess.run(
            [*prefix, *command], capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{command[0]} failed: {result.stderr}{result.stdout}\n{log}")

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--no-sync", "--no-instructions",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), 0.2).close()
            return True
        except OSError:
            return False

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def destroy(self) -> None:
        if self.running():
            with suppress(RuntimeError):
                self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    bin_dir = _postgres_bin()
    if bin_dir is None or not (bin_dir / "pg_ctl").exists():
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _has_user("postgres")):
        pytest.skip("running as root needs the `postgres` OS user and runuser for initdb")
    server = ThrowawayPostgres(bin_dir)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.destroy()


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def migrated_database(server: ThrowawayPostgres, name: str = "folio") -> str:
    async def create() -> None:
        engine = create_async_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await engine.dispose()

    asyncio.run(create())
    url = server.url(name)
    upgrade_to_head(url)
    return url


@dataclass(frozen=True)
class Desk:
    """A served app, a portfolio with cash, and people to call it as."""

    app: FastAPI
    client: AsyncClient
    slug: str
    analyst: dict[str, str]
    viewer: dict[str, str]
    database_url: str
    analyst_email: str


@dataclass
class Outcome:
    name: str
    status: int
    started: float
    elapsed: float
    body: Any
    headers: httpx.Headers
    sent: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str | None:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return error.get("code") if isinstance(error, dict) else None


async def call(client: AsyncClient, name: str, method: str, url: str, **kwargs: Any) -> Outcome:
    started = time.perf_counter()
    response = await client.request(method, url, **kwargs)
    elapsed = time.perf_counter() - started
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return Outcome(name, response.status_code, started, elapsed, body, response.headers, kwargs)


class Stream:
    """WORKERS concurrent loops, each awaiting `send(worker, n)` until stopped."""

    def __init__(self, send: Callable[[int, int], Awaitable[Outcome]], workers: int) -> None:
        self.outcomes: list[Outcome] = []
        self._stop = asyncio.Event()
        self._tasks = [asyncio.create_task(self._loop(send, w)) for w in range(workers)]

    async def _loop(self, send: Callable[[int, int], Awaitable[Outcome]], worker: int) -> None:
        n = 0
        while not self._stop.is_set():
            self.outcomes.append(await send(worker, n))
            n += 1
            await asyncio.sleep(0)

    async def stop(self) -> list[Outcome]:
        self._stop.set()
        await asyncio.gather(*self._tasks)
        return self.outcomes

    def since(self, moment: float) -> list[Outcome]:
        return [o for o in self.outcomes if o.started >= moment]

    async def until(
        self, predicate: Callable[[Outcome], bool], timeout: float, after: float
    ) -> Outcome:
        """Wait for the first outcome started after AFTER that satisfies PREDICATE."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            for outcome in self.since(after):
                if predicate(outcome):
                    return outcome
            await asyncio.sleep(0.05)
        seen = Counter((o.name, o.status, o.code) for o in self.since(after))
        raise AssertionError(f"nothing matched within {timeout} s; answers since: {seen}")


@asynccontextmanager
async def open_desk(settings: Settings, cash: str = "10000000") -> AsyncIterator[Desk]:
    """The app on SETTINGS, served in-process, with a portfolio and its deposit booked."""
    app = create_app(settings)
    async with (
        LifespanManager(app, startup_timeout=30, shutdown_timeout=30),
        AsyncClient(
            # A 500 is an answer to record, not an exception in the test.
            transport=ASGITransport(app=app, raise_app_exceptions=False),
            base_url="http://desk",
            timeout=30,
        ) as client,
    ):
        async with app.state.shared.sessions() as session:
            team = await make_team(session)
            pm = await make_user(session, Role.PORTFOLIO_MANAGER, team=team)
            analyst = await make_user(session, Role.ANALYST, team=team)
            viewer = await make_user(session, Role.VIEWER, team=team)
            portfolio = await make_portfolio(session, pm, team=team)
        desk = Desk(
            app=app,
            client=client,
            slug=portfolio.slug,
            analyst=await bearer(app, analyst),
            viewer=await bearer(app, viewer),
            database_url=settings.database_url,
            analyst_email=analyst.email,
        )
        deposit = {"type": "deposit", "amount": cash, "date": "2025-01-02", "note": "seed"}
        response = await client.post(
            f"/portfolios/{desk.slug}/cash", json=deposit, headers=desk.analyst
        )
        assert response.status_code == 201, response.text
        yield desk


def booking(desk: Desk, ticker: str, day: str = "2025-03-03") -> Callable[[int, int], Any]:
    """A send() for Stream: small buys with a fresh Idempotency-Key each."""

    async def send(worker: int, n: int) -> Outcome:
        body = {
            "ticker": ticker,
            "side": "buy",
            "quantity": "1",
            "price": f"{100 + worker}.{n % 100:02d}",
            "fees": "0.10",
            "trade_date": day,
        }
        headers = desk.analyst | {"Idempotency-Key": uuid.uuid4().hex}
        return await call(
            desk.client, "book", "POST", f"/portfolios/{desk.slug}/trades", json=body,
            headers=headers,
        )  # fmt: skip

    return send


async def books_hold(database_url: str) -> Books:
    books = await check_books(database_url)
    assert not books.problems, str(books)
    return books
