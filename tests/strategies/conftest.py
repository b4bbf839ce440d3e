"""The job fixtures (for the after-close evaluation on a real queue) and the command line's."""

from tests.cli.conftest import runner, sqlite_url
from tests.jobs.conftest import app_sessions, real_queue

__all__ = ["app_sessions", "real_queue", "runner", "sqlite_url"]
