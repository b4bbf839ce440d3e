"""Background work around an API process: the job queue, or the in-process schedule."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from procrastinate import App

from app.core.config import Settings
from app.jobs.embedded import refresh_schedule
from app.jobs.queue import open_queue
from app.jobs.tasks import Resources

API_QUEUE_CONNECTIONS = 2


@asynccontextmanager
async def background_work(settings: Settings, resources: Resources) -> AsyncIterator[App | None]:
    """On PostgreSQL the queue, to defer and read jobs; on SQLite (no worker) None, and the
    after-close refresh runs in this process."""
    if settings.is_sqlite:
        async with refresh_schedule(resources):
            yield None
    else:
        async with open_queue(settings, API_QUEUE_CONNECTIONS, "folio-api") as queue:
            yield queue
