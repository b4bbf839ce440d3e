"""Background jobs over HTTP: the state of one job, for whoever started it."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from app.auth.dependencies import InvalidCredentials, require
from app.auth.permissions import Permission, PermissionDenied
from app.core.database import SessionDep
from app.core.errors import responses
from app.core.schemas import PlainInt
from app.jobs import service
from app.jobs.schemas import JobRead
from app.jobs.service import JobNotFound
from app.state import JobQueueDep
from app.users.models import User

MAX_JOB_ID = 2**63 - 1

router = APIRouter(
    prefix="/jobs",
    tags=["jobs"],
    responses=responses(InvalidCredentials, PermissionDenied, JobNotFound),
)

JobsReader = Annotated[User, Depends(require(Permission.JOBS_READ))]


@router.get("/{job_id}", response_model=JobRead, summary="A job's state (its starter or an admin)")
async def read_job(
    job_id: Annotated[PlainInt, Path(ge=1, le=MAX_JOB_ID)],
    user: JobsReader,
    queue: JobQueueDep,
    session: SessionDep,
) -> JobRead:
    return await service.read_job(queue, session, job_id, user)
