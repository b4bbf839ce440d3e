"""`folio worker`: run background jobs and the schedule (PostgreSQL)."""

import asyncio
import logging

import typer
from procrastinate.app import WorkerOptions

from app.cli.common import load_settings
from app.core.config import Settings
from app.core.logging import configure_logging
from app.jobs.queue import open_queue
from app.jobs.tasks import RESOURCES, Resources
from app.state import open_state

# Beyond one connection per concurrent job: listening for new jobs, the schedule, heartbeats.
SPARE_CONNECTIONS = 3


def worker(
    concurrency: int = typer.Option(4, min=1, help="Jobs this worker runs at once."),
    queues: list[str] = typer.Option(
        [], "--queue", help="Only this queue (repeatable). Default: every queue."
    ),
) -> None:
    """Run background jobs and the schedule: held prices refreshed after each market close,
    and jobs of a worker that died run again. Start one or many, on one or many machines."""
    settings = load_settings()
    if settings.is_sqlite:
        typer.secho(
            "folio worker needs PostgreSQL (DATABASE_URL). In the embedded mode the API "
            "process refreshes held prices itself; `folio prices refresh-held` does it now.",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    configure_logging(settings.log_level, settings.log_dir)
    logging.getLogger("procrastinate").handlers = logging.getLogger("folio").handlers
    logging.getLogger("procrastinate").setLevel(settings.log_level.upper())
    asyncio.run(_work(settings, concurrency, queues))


async def _work(settings: Settings, concurrency: int, queues: list[str]) -> None:
    async with (
        open_state(settings) as s,
        open_queue(settings, concurrency + SPARE_CONNECTIONS, "folio-worker") as queue,
    ):
        options: WorkerOptions = {
            "concurrency": concurrency,
            "additional_context": {RESOURCES: Resources(s.sessions, s.market)},
        }
        if queues:
            options["queues"] = queues
        await queue.run_worker_async(**options)
