"""PostgreSQL stopped and started under a stream of bookings, the API left running.

While the database is down every request fails fast with 503 `database_unavailable` in the
envelope (and Retry-After); once it is back the same app serves 2xx again. A booking that
failed with 503 and is retried with its Idempotency-Key is booked exactly once, and the
books hold: positions and cash equal their folds, nothing half-written, no key in flight.
"""

import asyncio
import time

from asyncpg.exceptions import CannotConnectNowError
from httpx import ASGITransport, AsyncClient

from app.main import create_app
from tests.conftest import REDIS_URL, make_settings
from tests.faults.conftest import (
    Outcome,
    Stream,
    ThrowawayPostgres,
    booking,
    books_hold,
    call,
    migrated_database,
    open_desk,
)

WORKERS = 6
FAIL_FAST_SECONDS = 2.0
RECOVERY_SECONDS = 20.0
RETRY_PAUSE_SECONDS = 0.1


async def test_postgres_restart_mid_load_fails_fast_then_recovers(
    throwaway_postgres: ThrowawayPostgres,
) -> None:
    url = await asyncio.to_thread(migrated_database, throwaway_postgres)
    settings = make_settings(
        database_url=url, redis_url=REDIS_URL, db_pool_timeout=2, db_pool_size=WORKERS
    )
    async with open_desk(settings) as desk:
        book = booking(desk, "AAPL")

        async def send(worker: int, n: int) -> Outcome:
            if n % 4 == 3:  # reads in between
                outcome = await call(
                    desk.client, "positions", "GET", f"/portfolios/{desk.slug}/positions",
                    headers=desk.viewer,
                )  # fmt: skip
            else:
                outcome = await book(worker, n)
            if outcome.status == 503:
                await asyncio.sleep(RETRY_PAUSE_SECONDS)  # a client backing off a little
            return outcome

        stream = Stream(send, WORKERS)
        await asyncio.sleep(1.0)
        stopping = time.perf_counter()
        await asyncio.to_thread(throwaway_postgres.stop)
        down = time.perf_counter()
        await asyncio.sleep(2.0)
        starting = time.perf_counter()
        await asyncio.to_thread(throwaway_postgres.start)
        up = time.perf_counter()
        back = await stream.until(lambda o: o.status < 300, RECOVERY_SECONDS, after=up)
        await asyncio.sleep(0.5)
        outcomes = await stream.stop()

        before = [o for o in outcomes if o.started + o.elapsed < stopping]
        during = [o for o in outcomes if down <= o.started and o.started + o.elapsed <= starting]
        assert before and all(o.status < 300 for o in before), _summary(before)
        assert during, "no request was sent while the database was down"
        assert all(o.status == 503 for o in during), _summary(during)
        for o in [o for o in outcomes if o.status >= 500]:
            assert o.status == 503 and o.code == "database_unavailable", (o.status, o.body)
            assert o.headers.get("Retry-After") and o.headers.get("X-Request-ID"), o.headers
            assert o.elapsed < FAIL_FAST_SECONDS, f"a failure took {o.elapsed:.2f} s"
        assert {o.status for o in outcomes} <= {200, 201, 503}, _summary(outcomes)
        assert back.started - up < RECOVERY_SECONDS

        # Retried with its key, each failed booking is booked once (or replayed if it was).
        failed = [o for o in outcomes if o.name == "book" and o.status == 503]
        for o in failed:
            retry = await desk.client.post(
                f"/portfolios/{desk.slug}/trades", json=o.sent["json"], headers=o.sent["headers"]
            )
            assert retry.status_code == 201, retry.text
        booked_keys = {
            o.sent["headers"]["Idempotency-Key"]
            for o in outcomes
            if o.name == "book" and o.status in (201, 503)
        }
        listing = await desk.client.get(
            f"/portfolios/{desk.slug}/trades?limit=1", headers=desk.viewer
        )
        assert listing.json()["total"] == len(booked_keys)

    books = await books_hold(url)
    assert books.trades == len(booked_keys) and books.idempotency_keys == len(booked_keys)


def _summary(outcomes: list[Outcome]) -> str:
    counts: dict[tuple[str, int, str | None], int] = {}
    for o in outcomes:
        key = (o.name, o.status, o.code)
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(
        f"{n}x {name} {status} {code or ''}" for (name, status, code), n in counts.items()
    )


async def test_a_database_still_starting_up_is_503_not_500() -> None:
    """asyncpg raises its own error, unwrapped, when the server refuses to connect yet."""
    app = create_app(make_settings(database_url="sqlite+aiosqlite://"))

    @app.get("/starting")
    async def starting() -> None:
        raise CannotConnectNowError("the database system is starting up")

    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://desk") as client:
        response = await client.get("/starting")
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "database_unavailable"
    assert response.headers["Retry-After"] and response.headers["X-Request-ID"]
