"""Reading a background job: its starter (`requested_by` among its arguments) or an admin."""

from procrastinate import App
from procrastinate.jobs import Job
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role, effective_role
from app.backtests.models import Backtest
from app.backtests.service import progress
from app.core.errors import NotFound
from app.jobs.progress import progress_of
from app.jobs.schemas import JobRead
from app.users.models import User

REQUESTED_BY = "requested_by"


class JobNotFound(NotFound):
    code = "job_not_found"
    message = "No such job among those you started."


async def read_job(queue: App | None, session: AsyncSession, job_id: int, user: User) -> JobRead:
    """The job, if `user` may see it; the embedded mode (queue None) has no jobs."""
    found = list(await queue.job_manager.list_jobs_async(id=job_id)) if queue else []
    if not found or not _may_read(found[0], user):
        raise JobNotFound(details={"id": job_id})
    job = found[0]
    return JobRead(
        id=job_id,
        task=job.task_name,
        status=job.status or "todo",
        queue=job.queue,
        attempts=job.attempts,
        scheduled_at=job.scheduled_at,
        args=job.task_kwargs,
        progress=await _progress(session, job_id),
    )


async def _progress(session: AsyncSession, job_id: int) -> float | None:
    """How far the job is, as it reported (a backtest or sweep: as its row says)."""
    backtest = await session.scalar(select(Backtest).where(Backtest.job_id == job_id))
    if backtest is not None:
        return progress(backtest)
    return await progress_of(session, job_id)


def _may_read(job: Job, user: User) -> bool:
    return effective_role(user) is Role.ADMIN or job.task_kwargs.get(REQUESTED_BY) == str(user.id)
