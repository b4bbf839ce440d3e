"""The job queue: procrastinate on Folio's PostgreSQL, opened by every process that uses it.

Tasks are declared on the module-level `queue`; a process opens it on its own database
with `open_queue` (the API to defer and read jobs, `folio worker` to run them).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from procrastinate import App, PsycopgConnector
from sqlalchemy.engine import make_url

from app.core.config import Settings

queue = App(connector=PsycopgConnector(), import_paths=["app.jobs.tasks"])


def libpq_url(database_url: str) -> str:
    """DATABASE_URL as psycopg reads it: `postgresql+asyncpg://…?ssl=x` -> `postgresql://…?sslmode=x`."""
    url = make_url(database_url)
    query = dict(url.query)
    if "ssl" in query:
        query["sslmode"] = query.pop("ssl")
    return url.set(drivername="postgresql", query=query).render_as_string(hide_password=False)


@asynccontextmanager
async def open_queue(settings: Settings, max_connections: int, name: str) -> AsyncIterator[App]:
    """The queue on DATABASE_URL, through a pool of at most `max_connections`."""
    connector = PsycopgConnector(
        conninfo=libpq_url(settings.database_url),
        min_size=1,
        max_size=max_connections,
        kwargs={"application_name": name},
    )
    with queue.replace_connector(connector):
        async with queue.open_async():
            yield queue
