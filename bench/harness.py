"""What every benchmark shares: table rows, API servers on loopback, load, a scratch database.

A benchmark module exposes `run(ctx: Context) -> list[Row]`; `python -m bench` finds it.
"""

import asyncio
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.cli.db import upgrade_to_head

ROOT = Path(__file__).resolve().parents[1]
FOLIO_APP = "app.main:create_app"
BARE_APP = "bench.bare_app:app"
POSTGRES_SERVER_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
START_TIMEOUT_SECONDS = 30.0
HTTPX_CONNECTIONS = 16


@dataclass(frozen=True)
class Aim:
    """What a figure should reach: on its ratio to the baseline, or on the value itself."""

    bound: Literal["<=", ">="]
    target: float
    on_ratio: bool = True

    def met(self, value: float, ratio: float | None) -> bool | None:
        measured = ratio if self.on_ratio else value
        if measured is None:
            return None
        return measured <= self.target if self.bound == "<=" else measured >= self.target

    def describe(self, unit: str) -> str:
        if self.on_ratio:
            return f"ratio {self.bound} {self.target:g}"
        return f"{self.bound} {self.target:g} {unit}"


@dataclass(frozen=True)
class Row:
    figure: str
    value: float
    unit: str
    baseline: float | None = None
    aim: Aim | None = None

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None


@dataclass(frozen=True)
class Context:
    database_url: str
    redis_url: str
    load_seconds: float
    connections: int

    def folio_env(self, **extra: str) -> dict[str, str]:
        """Folio as in production: PostgreSQL, Redis, a real secret, simulated market data."""
        return {
            "ENVIRONMENT": "production",
            "SECRET_KEY": uuid.uuid4().hex * 2,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "MARKET_DATA_PROVIDER": "simulated",
            "LOG_DIR": tempfile.gettempdir() + "/folio-bench-logs",
            "LOG_LEVEL": "WARNING",
        } | extra


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    driver: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spawn(
    target: str, port: int, env: Mapping[str, str], workers: int = 1
) -> subprocess.Popen[bytes]:
    """Uvicorn (one worker unless told), with no access log, the same way for Folio and the
    baseline."""
    command = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--no-access-log", "--log-level", "warning", "--no-server-header"]
    if target == FOLIO_APP:
        command.append("--factory")
    if workers > 1:
        command += ["--workers", str(workers)]
    child_env = os.environ | {"PYTHONPATH": str(ROOT)} | dict(env)
    # Outside the repository, so a developer's `.env` does not change what is measured.
    return subprocess.Popen(command, env=child_env, cwd=tempfile.gettempdir())


def _wait_for_health(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.perf_counter() + START_TIMEOUT_SECONDS
    with httpx.Client(timeout=1.0) as client:
        while time.perf_counter() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode} before serving")
            try:
                if client.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.005)
    raise RuntimeError(f"server not serving /health after {START_TIMEOUT_SECONDS} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serving(target: str, env: Mapping[str, str] | None = None, workers: int = 1) -> Iterator[str]:
    """Start TARGET on a free loopback port, wait until /health answers, yield its base URL."""
    port = free_port()
    process = _spawn(target, port, env or {}, workers)
    try:
        _wait_for_health(process, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


def time_to_first_health(target: str, env: Mapping[str, str] | None = None) -> float:
    """Seconds from spawning the server process to its first 200 on /health."""
    port = free_port()
    started = time.perf_counter()
    process = _spawn(target, port, env or {})
    try:
        _wait_for_health(process, port)
        return time.perf_counter() - started
    finally:
        _stop(process)


@dataclass(frozen=True)
class Request:
    """What each load request sends; with `paths`, each picks one of them at random."""

    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    paths: tuple[str, ...] = ()


GET = Request()


def load(url: str, seconds: float, connections: int, request: Request = GET) -> Load:
    """Drive URL for SECONDS with CONNECTIONS connections, after a one-second warm-up."""
    drive = _wrk if shutil.which("wrk") else _httpx_load
    drive(url, 1.0, connections, request)
    return drive(url, seconds, connections, request)


def _lua(request: Request) -> str:
    lines = [f"wrk.method = {json.dumps(request.method)}"]
    if request.body is not None:
        lines.append(f"wrk.body = {json.dumps(request.body)}")
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in request.headers.items()]
    if request.paths:
        lines.append("local paths = {" + ", ".join(json.dumps(p) for p in request.paths) + "}")
        lines.append("request = function() return wrk.format(nil, paths[math.random(#paths)]) end")
    return "\n".join(lines) + "\n"


_WRK_DURATION = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _wrk(url: str, seconds: float, connections: int, request: Request) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(_lua(request))
        script.flush()
        command = ["wrk", "-t2", f"-c{connections}", f"-d{max(seconds, 1):.0f}s", "--latency"]
        command += ["--timeout", "10s"]
        out = subprocess.run(
            [*command, "-s", script.name, url], capture_output=True, text=True, check=True
        ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"errors under load on {url}:\n{out}")

    def percentile(p: int) -> float:
        match = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s|m)\s*$", out, flags=re.MULTILINE)
        assert match, out
        return float(match[1]) * _WRK_DURATION[match[2]]

    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, flags=re.MULTILINE)
    assert rps, out
    return Load(float(rps[1]), percentile(50), percentile(99), "wrk")


def _httpx_load(url: str, seconds: float, connections: int, request: Request) -> Load:
    return asyncio.run(_httpx_load_async(url, seconds, connections, request))


async def _httpx_load_async(url: str, seconds: float, connections: int, request: Request) -> Load:
    # A Python client on the same cores saturates long before the server: past 16
    # connections it only adds queueing, so the figures stay client-bound either way.
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        async with httpx.AsyncClient(timeout=10.0, headers=dict(request.headers)) as client:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                target = url + random.choice(request.paths) if request.paths else url
                response = await client.request(request.method, target, content=request.body)
                if not response.is_success:
                    raise RuntimeError(f"{url} answered {response.status_code}")
                latencies.append((time.perf_counter() - sent) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(min(connections, HTTPX_CONNECTIONS))))
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return Load(len(latencies) / elapsed, cuts[49], cuts[98], "httpx")


async def _admin(statement: str) -> None:
    engine = create_async_engine(POSTGRES_SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """A migrated PostgreSQL database of the run's own, dropped at the end."""
    name = f"folio_bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(False)
        upgrade_to_head(url)
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
