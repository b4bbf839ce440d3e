"""After each close the worker fills the paper broker's working orders on that day's bar."""

from datetime import UTC, date, datetime

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.queue import queue
from app.jobs.tasks import EVALUATE_CRON, PAPER_CRON, run_paper_broker
from tests.jobs.worker import job_context
from tests.orders.helpers import DAYS, make_desk, place_on


def tick(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, 21, 50, tzinfo=UTC).timestamp())


def test_the_paper_broker_runs_after_the_evaluation_of_each_close() -> None:
    crons = {p.task.name: p.cron for p in queue.periodic_registry.periodic_tasks.values()}
    assert crons["run_paper_broker"] == PAPER_CRON == "50 21 * * 1-5"
    assert PAPER_CRON > EVALUATE_CRON


async def test_the_close_s_run_fills_working_orders_once_and_not_on_holidays(
    app: FastAPI, client: AsyncClient, session: AsyncSession
) -> None:
    desk = await make_desk(app, client, session)
    placed = await place_on(app, desk, DAYS[3])
    assert await run_paper_broker(job_context(app), timestamp=tick(date(2024, 1, 15))) == 0  # MLK
    assert await run_paper_broker(job_context(app), timestamp=tick(DAYS[4])) == 1
    assert await run_paper_broker(job_context(app), timestamp=tick(DAYS[5])) == 0
    url = f"/portfolios/{desk.slug}/orders/{placed.id}"
    assert (await client.get(url, headers=desk.pm)).json()["status"] == "filled"
