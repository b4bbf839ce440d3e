"""A real worker on an app's own database, for the length of a block."""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from procrastinate import JobContext

from app.jobs.queue import queue
from app.jobs.tasks import RESOURCES, Resources


@asynccontextmanager
async def client_with_worker(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """A client of the app while a real worker runs its jobs."""
    shared = app.state.shared
    worker = asyncio.create_task(
        shared.job_queue.run_worker_async(
            concurrency=1,
            install_signal_handlers=False,
            fetch_job_polling_interval=0.1,
            additional_context={RESOURCES: Resources(shared.sessions, shared.market)},
        )
    )
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="https://test") as c:
            yield c
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)


async def until(
    client: AsyncClient, url: str, headers: dict[str, str], done: Callable[[Any], bool]
) -> dict[str, Any]:
    """GET url until its answer is done (within a minute)."""
    deadline = time.monotonic() + 60
    found: dict[str, Any] = {}
    while time.monotonic() < deadline:
        found = (await client.get(url, headers=headers)).json()
        if done(found):
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"{url} never got there: {found}")


def job_context(app: FastAPI) -> JobContext:
    """What a worker hands the task, for calling it directly (in the test's transaction)."""
    shared = app.state.shared
    return JobContext(
        app=queue,
        job=None,  # type: ignore[arg-type]
        start_timestamp=0,
        abort_reason=lambda: None,
        additional_context={RESOURCES: Resources(shared.sessions, shared.market)},
    )
