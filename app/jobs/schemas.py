from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class JobRead(BaseModel):
    id: int
    task: str
    status: str = Field(description="todo, doing, succeeded, failed, cancelled or aborted")
    queue: str
    attempts: int = Field(description="Runs started so far; a failed run may be retried")
    scheduled_at: datetime | None = Field(description="Not to run before (a retry's wait)")
    args: dict[str, Any]
    progress: float | None = Field(
        default=None,
        description="From 0 to 1, for the jobs that report it (backtests, sweeps, evaluations)",
    )
