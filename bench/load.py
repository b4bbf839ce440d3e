"""A desk's mixed load on two API workers, then the books checked.

Many signed-in users over several portfolios, each request picked at random: 90% reads
(positions, valuation, quotes, the trades list) and 10% trade bookings with an
Idempotency-Key, from an async httpx driver on loopback, against `uvicorn --workers 2` on
PostgreSQL and Redis. GET /health is driven the same way in the same run, for the ratio.
Afterwards: positions and cash equal their folds, no trade is half-written, and no
Idempotency-Key is left in flight.

    python -m bench.load --seconds 60      # on its own, with a full report
    python -m bench load                   # as a row group of `make bench`
"""

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import redis

from app.auth.permissions import Role
from app.core.database import create_engine, create_sessionmaker
from app.portfolios.models import Portfolio
from app.users.models import Team
from app.users.service import create_user
from bench import seed
from bench.harness import (
    FOLIO_APP,
    REDIS_URL,
    Aim,
    Context,
    Row,
    scratch_postgres,
    serving,
)
from tests.invariants import Books, check_books

WORKERS = 2
PORTFOLIOS = 8
USERS_PER_PORTFOLIO = 4
CONNECTIONS = 32
WARM_UP_SECONDS = 3.0
BOOKING_SHARE = 0.10
TICKERS = ("AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "JPM", "KO", "XOM")
OPENING_SHARES = 10_000


@dataclass(frozen=True)
class Member:
    slug: str
    headers: dict[str, str]


@dataclass
class Tally:
    """Latencies and answers, per kind of request where the driver can tell."""

    driver: str = "httpx"
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    sent: Counter[str] = field(default_factory=Counter)
    percentiles: dict[int, float] = field(default_factory=dict)
    count: int = 0
    elapsed: float = 0.0

    def add(self, kind: str, status: int, ms: float) -> None:
        self.latencies.setdefault(kind, []).append(ms)
        self.statuses.setdefault(kind, Counter())[status] += 1
        self.sent[kind] += 1

    @property
    def all_latencies(self) -> list[float]:
        return [ms for values in self.latencies.values() for ms in values]

    @property
    def requests(self) -> int:
        return self.count or len(self.all_latencies)

    def percentile(self, p: int) -> float:
        return self.percentiles.get(p) or percentile(self.all_latencies, p)

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def percentile(values: Sequence[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


# The desk


async def _people(database_url: str) -> list[tuple[str, Any]]:
    """Portfolios, each of a team, and its members; cash goes in through the API later."""
    engine = create_engine(seed.settings(database_url))
    members: list[tuple[str, Any]] = []
    try:
        async with create_sessionmaker(engine)() as session:
            pm = await create_user(
                session,
                email=f"pm{uuid.uuid4().hex[:8]}@desk.example",
                password=seed.PASSWORD,
                username=f"pm{uuid.uuid4().hex[:8]}",
                role=Role.PORTFOLIO_MANAGER,
            )
            for n in range(PORTFOLIOS):
                team = Team(name=f"Load desk {n} {uuid.uuid4().hex[:6]}")
                session.add(team)
                await session.flush()
                slug = f"load-{n}-{uuid.uuid4().hex[:6]}"
                session.add(
                    Portfolio(slug=slug, name=slug, pm_id=pm.id, team_id=team.id, cash_balance=0)
                )
                for _ in range(USERS_PER_PORTFOLIO):
                    tag = uuid.uuid4().hex[:8]
                    user = await create_user(
                        session,
                        email=f"analyst{tag}@desk.example",
                        password=seed.PASSWORD,
                        username=f"a{tag}",
                        role=Role.ANALYST,
                    )
                    user.team_id = team.id
                    members.append((slug, user))
            await session.commit()
    finally:
        await engine.dispose()
    return members


def open_desk(url: str, database_url: str) -> list[Member]:
    people = asyncio.run(_people(database_url))
    members = [Member(slug, seed.bearer(user)) for slug, user in people]
    first = {m.slug: m for m in reversed(members)}
    with httpx.Client(base_url=url, timeout=30) as client:
        for slug, member in first.items():
            deposit = {"type": "deposit", "amount": "1000000000", "date": "2025-01-02"}
            _ok(client.post(f"/portfolios/{slug}/cash", json=deposit, headers=member.headers))
            for ticker in TICKERS:  # opening positions, so sells never go short
                body = _trade(ticker, "buy", OPENING_SHARES, date(2025, 1, 6))
                _ok(client.post(f"/portfolios/{slug}/trades", json=body, headers=member.headers))
    return members


def _ok(response: httpx.Response) -> None:
    if not response.is_success:
        raise RuntimeError(f"setting the desk up: {response.status_code} {response.text}")


def _trade(ticker: str, side: str, quantity: int, day: date) -> dict[str, str]:
    price = Decimal(random.randint(5_000, 50_000)) / 100
    fees = Decimal(random.randint(0, 500)) / 100
    return {
        "ticker": ticker,
        "side": side,
        "quantity": str(quantity),
        "price": str(price),
        "fees": str(fees),
        "trade_date": day.isoformat(),
    }


# The load

Pick = Callable[[Member], tuple[str, str, dict[str, Any]]]


def _booking(m: Member) -> tuple[str, str, dict[str, Any]]:
    side = "sell" if random.random() < 0.3 else "buy"
    # Mostly today's trades; some back-dated ones make their instrument re-fold.
    day = date.today() - timedelta(days=random.choice((0, 0, 0, 1, 3, 10, 40)))
    body = _trade(random.choice(TICKERS), side, random.randint(1, 20), day)
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    return "POST", f"/portfolios/{m.slug}/trades", {"json": body, "headers": headers}


PICKS: dict[str, Pick] = {
    "positions": lambda m: ("GET", f"/portfolios/{m.slug}/positions", {}),
    "trades": lambda m: ("GET", f"/portfolios/{m.slug}/trades?limit=50", {}),
    "valuation": lambda m: ("GET", f"/portfolios/{m.slug}/valuation", {}),
    "quotes": lambda m: (
        "GET",
        f"/market/quotes?tickers={','.join(random.sample(TICKERS, 2))}",
        {},
    ),
    "booking": _booking,
    "health": lambda m: ("GET", "/health", {"headers": {"Authorization": ""}}),
}


def workload(routes: set[str]) -> list[tuple[float, str]]:
    """(weight, kind): 90% reads over the routes this API has, 10% bookings."""
    reads = ["positions", "trades"]
    if "/portfolios/{slug}/valuation" in routes:
        reads.append("valuation")
    if "/market/quotes" in routes:
        reads.append("quotes")
    share = (1 - BOOKING_SHARE) / len(reads)
    return [(share, kind) for kind in reads] + [(BOOKING_SHARE, "booking")]


async def drive(
    url: str,
    seconds: float,
    connections: int,
    picks: list[tuple[float, str]],
    members: Sequence[Member],
) -> Tally:
    """The load from an async httpx client, with latencies per kind of request."""
    tally = Tally()
    weights = [w for w, _ in picks]
    kinds = [k for _, k in picks]
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)

    async def connection(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline:
            member = random.choice(members)
            kind = random.choices(kinds, weights)[0]
            method, path, extra = PICKS[kind](member)
            headers = member.headers | extra.pop("headers", {})
            sent = time.perf_counter()
            try:
                response = await client.request(method, path, headers=headers, **extra)
            except httpx.HTTPError as exc:
                tally.errors[f"{kind}: {type(exc).__name__}"] += 1
                continue
            tally.add(kind, response.status_code, (time.perf_counter() - sent) * 1000)
            if response.status_code >= 400:
                tally.errors[f"{kind}: HTTP {response.status_code}"] += 1

    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(connection(client) for _ in range(connections)))
        tally.elapsed = time.perf_counter() - started
    return tally


DRIVER = "auto"  # wrk when installed; `--driver httpx` for latencies per kind of request


def drive_with(
    url: str, seconds: float, connections: int, picks: list[tuple[float, str]],
    members: Sequence[Member],
) -> Tally:  # fmt: skip
    if DRIVER == "wrk" or (DRIVER == "auto" and shutil.which("wrk")):
        return drive_wrk(url, seconds, connections, picks, members)
    return asyncio.run(drive(url, seconds, connections, picks, members))


LUA = r"""
local members = {%(members)s}
local kinds = {%(kinds)s}
local tickers = {%(tickers)s}
local days = {%(days)s}
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  statuses, sent, serial = {}, {}, 0
  math.randomseed(os.time() * 100 + tid)
end

local function pick_kind()
  local r, acc = math.random(), 0
  for _, k in ipairs(kinds) do
    acc = acc + k[2]
    if r <= acc then return k[1] end
  end
  return kinds[#kinds][1]
end

function request()
  local m = members[math.random(#members)]
  local kind = pick_kind()
  sent[kind] = (sent[kind] or 0) + 1
  local headers = {["Authorization"] = m[2]}
  if kind == "positions" then
    return wrk.format("GET", "/portfolios/" .. m[1] .. "/positions", headers)
  elseif kind == "trades" then
    return wrk.format("GET", "/portfolios/" .. m[1] .. "/trades?limit=50", headers)
  elseif kind == "valuation" then
    return wrk.format("GET", "/portfolios/" .. m[1] .. "/valuation", headers)
  elseif kind == "quotes" then
    local a, b = tickers[math.random(#tickers)], tickers[math.random(#tickers)]
    return wrk.format("GET", "/market/quotes?tickers=" .. a .. "," .. b, headers)
  elseif kind == "health" then
    return wrk.format("GET", "/health")
  end
  serial = serial + 1
  headers["Idempotency-Key"] = string.format("%%d-%%d-%%d", tid, serial, math.random(1e9))
  headers["Content-Type"] = "application/json"
  local side = math.random() < 0.3 and "sell" or "buy"
  local body = string.format(
    '{"ticker":"%%s","side":"%%s","quantity":"%%d","price":"%%d.%%02d","fees":"%%d.%%02d",' ..
    '"trade_date":"%%s"}',
    tickers[math.random(#tickers)], side, math.random(20), math.random(50, 499),
    math.random(0, 99), math.random(0, 4), math.random(0, 99), days[math.random(#days)])
  return wrk.format("POST", "/portfolios/" .. m[1] .. "/trades", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do io.write(string.format("status %%d %%d\n", k, v)) end
    for k, v in pairs(t:get("sent")) do io.write(string.format("sent %%s %%d\n", k, v)) end
  end
  for _, p in ipairs({50, 95, 99}) do
    io.write(string.format("p%%d %%f\n", p, latency:percentile(p) / 1000))
  end
  local e = summary.errors
  io.write(string.format("requests %%d\nseconds %%f\nsocket_errors %%d\n", summary.requests,
    summary.duration / 1e6, e.connect + e.read + e.write + e.timeout))
end
"""


def lua_script(picks: list[tuple[float, str]], members: Sequence[Member]) -> str:
    def quoted(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    today = date.today()
    days = [today - timedelta(days=d) for d in (0, 0, 0, 1, 3, 10, 40)]
    return LUA % {
        "members": ", ".join(
            f"{{{quoted(m.slug)}, {quoted(m.headers['Authorization'])}}}" for m in members
        ),
        "kinds": ", ".join(f"{{{quoted(kind)}, {weight!r}}}" for weight, kind in picks),
        "tickers": ", ".join(quoted(t) for t in TICKERS),
        "days": ", ".join(quoted(d.isoformat()) for d in days),
    }


def drive_wrk(
    url: str, seconds: float, connections: int, picks: list[tuple[float, str]],
    members: Sequence[Member],
) -> Tally:  # fmt: skip
    """The same load from wrk (two threads): far lighter than a Python client on these
    cores, so the figures are the server's. Latencies are kept for all requests together."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(lua_script(picks, members))
        script.flush()
        command = ["wrk", "-t2", f"-c{connections}", f"-d{max(seconds, 1):.0f}s"]
        command += ["--timeout", "30s", "-s", script.name, url]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    tally = Tally(driver="wrk")
    for line in out.splitlines():
        words = line.split()
        if len(words) == 3 and words[0] == "status":
            tally.statuses.setdefault("all", Counter())[int(words[1])] += int(words[2])
        elif len(words) == 3 and words[0] == "sent":
            tally.sent[words[1]] += int(words[2])
        elif len(words) == 2 and words[0] in ("p50", "p95", "p99"):
            tally.percentiles[int(words[0][1:])] = float(words[1])
        elif len(words) == 2 and words[0] == "requests":
            tally.count = int(words[1])
        elif len(words) == 2 and words[0] == "seconds":
            tally.elapsed = float(words[1])
        elif len(words) == 2 and words[0] == "socket_errors" and int(words[1]):
            tally.errors["socket errors"] += int(words[1])
    for status, n in tally.statuses.get("all", Counter()).items():
        if status >= 400:
            tally.errors[f"HTTP {status}"] += n
    return tally


@dataclass
class Outcome:
    mixed: Tally
    health: Tally
    books: Books
    connections: int
    seconds: float


def measure(database_url: str, redis_url: str, seconds: float, connections: int) -> Outcome:
    env = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": seed.SECRET_KEY,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "MARKET_DATA_PROVIDER": "simulated",
        "LOG_DIR": tempfile.gettempdir() + "/folio-bench-logs",
        "LOG_LEVEL": "WARNING",
        # Each worker's pool covers its share of the connections.
        "DB_POOL_SIZE": str(connections // WORKERS + 4),
        "DB_POOL_TIMEOUT": "30",
    }
    with serving(FOLIO_APP, env, workers=WORKERS) as url:
        members = open_desk(url, database_url)
        routes = set(httpx.get(f"{url}/openapi.json", timeout=30).json()["paths"])
        picks = workload(routes)
        drive_with(url, WARM_UP_SECONDS, connections, picks, members)
        mixed = drive_with(url, seconds, connections, picks, members)
        health = drive_with(url, min(seconds, 10.0), connections, [(1.0, "health")], members)
    books = asyncio.run(check_books(database_url))
    return Outcome(mixed, health, books, connections, seconds)


# Reporting


def report(outcome: Outcome) -> str:
    mixed, health = outcome.mixed, outcome.health
    mix = ", ".join(
        f"{kind} {n / max(mixed.requests, 1):.0%}" for kind, n in sorted(mixed.sent.items())
    )
    lines = [
        f"mixed desk load: {WORKERS} uvicorn workers on PostgreSQL + Redis, {PORTFOLIOS} "
        f"portfolios, {PORTFOLIOS * USERS_PER_PORTFOLIO} users, {outcome.connections} "
        f"connections, {outcome.seconds:g} s, driver {mixed.driver} on the same machine",
        f"requests sent: {mix}",
        "",
        f"{'request':<12} {'count':>8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}",
    ]
    for kind in sorted(mixed.latencies):
        values = mixed.latencies[kind]
        lines.append(_line(kind, len(values), len(values) / mixed.elapsed, values))
    lines.append(_line("all", mixed.requests, mixed.rate, None, mixed))
    lines.append(_line("GET /health", health.requests, health.rate, None, health))
    lines += [
        "",
        f"throughput: {mixed.rate:,.0f} req/s mixed, {health.rate:,.0f} req/s GET /health, "
        f"ratio {mixed.rate / health.rate:.3f}",
        f"errors: {mixed.error_count}"
        + (" (" + ", ".join(f"{k} x{n}" for k, n in mixed.errors.most_common()) + ")"
           if mixed.errors else ""),
        f"books: {outcome.books}",
    ]  # fmt: skip
    return "\n".join(lines)


def _line(
    kind: str, count: int, rate: float, values: list[float] | None, tally: Tally | None = None
) -> str:
    def at(p: int) -> float:
        return tally.percentile(p) if tally is not None else percentile(values or [], p)

    return f"{kind:<12} {count:>8,} {rate:>8,.0f} {at(50):>8.1f} {at(95):>8.1f} {at(99):>8.1f}"


def run(ctx: Context) -> list[Row]:
    # A database of its own: the books it checks afterwards are only the ones it wrote.
    with scratch_postgres() as database_url:
        outcome = measure(database_url, ctx.redis_url, ctx.load_seconds, CONNECTIONS)
    print(report(outcome), flush=True)
    mixed, health = outcome.mixed, outcome.health
    rps, ms = "req/s", "ms"
    label = f"mixed desk load (90% reads, 10% bookings), {WORKERS} workers"
    return [
        Row(
            f"{label}, vs GET /health",
            mixed.rate,
            rps,
            baseline=health.rate,
            aim=Aim(">=", 200, on_ratio=False),
        ),
        Row("mixed desk load p50", mixed.percentile(50), ms, baseline=health.percentile(50)),
        Row("mixed desk load p95", mixed.percentile(95), ms, baseline=health.percentile(95)),
        Row(
            "mixed desk load p99",
            mixed.percentile(99),
            ms,
            baseline=health.percentile(99),
            aim=Aim("<=", 500, on_ratio=False),
        ),
        Row("mixed desk load errors", mixed.error_count, "", aim=Aim("<=", 0, on_ratio=False)),
        Row(
            "books invariants broken after the load",
            len(outcome.books.problems),
            "",
            aim=Aim("<=", 0, on_ratio=False),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the mixed load")
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument(
        "--driver",
        choices=("auto", "wrk", "httpx"),
        default="auto",
        help="wrk (when installed) loads the server harder; httpx reports each kind of request",
    )
    args = parser.parse_args()
    global DRIVER
    DRIVER = args.driver
    redis.Redis.from_url(REDIS_URL).flushdb()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} before the run")
    with scratch_postgres() as database_url:
        outcome = measure(database_url, REDIS_URL, args.seconds, args.connections)
    print(report(outcome))
    if outcome.mixed.error_count or outcome.books.problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
