"""The command line's fixtures."""

from tests.cli.conftest import runner, sqlite_url

__all__ = ["runner", "sqlite_url"]
