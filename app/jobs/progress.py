"""A job's progress, reported as it goes: the work calls the reporter as often as it likes;
the latest count is written at most every FLUSH_SECONDS, and once more at the end."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.database import upsert, utcnow
from app.jobs.models import JobProgress

FLUSH_SECONDS = 0.5


@dataclass
class Reporter:
    sessions: async_sessionmaker[AsyncSession]
    job_id: int
    latest: tuple[int, int] | None = None  # done, total
    written: tuple[int, int] | None = None

    def __call__(self, done: int, total: int) -> None:
        self.latest = (done, total)

    async def flush(self) -> None:
        if self.latest is None or self.latest == self.written:
            return
        done, total = self.latest
        async with self.sessions() as session:
            statement = upsert(session, JobProgress).values(
                job_id=self.job_id, done=done, total=total, updated_at=utcnow()
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["job_id"],
                    set_={"done": done, "total": total, "updated_at": utcnow()},
                )
            )
            await session.commit()
        self.written = (done, total)


@contextlib.asynccontextmanager
async def reporting(
    sessions: async_sessionmaker[AsyncSession], job_id: int
) -> AsyncIterator[Reporter]:
    """A reporter for the job, written in the background while the block runs."""
    reporter = Reporter(sessions, job_id)

    async def keep_writing() -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            await reporter.flush()

    writer = asyncio.create_task(keep_writing())
    try:
        yield reporter
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        await reporter.flush()


async def progress_of(session: AsyncSession, job_id: int) -> float | None:
    """The job's last reported progress, from 0 to 1; None when it reports none."""
    found = await session.get(JobProgress, job_id)
    if found is None:
        return None
    return found.done / found.total if found.total else 1.0
