"""The command line's fixtures (a migrated SQLite file and a runner), for `folio indicators`."""

from tests.cli.conftest import runner, sqlite_url

__all__ = ["runner", "sqlite_url"]
