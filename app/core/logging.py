"""JSON logs that carry the request id, and a rotating file per domain."""

import logging
import logging.handlers
import sys
from contextvars import ContextVar
from pathlib import Path

from pythonjsonlogger.json import JsonFormatter

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

DOMAIN_LOGGERS = ("trades", "portfolios", "admin", "market")
LOG_FILE_MAX_BYTES = 1_048_576
LOG_FILE_BACKUPS = 5


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def configure_logging(level: str, log_dir: Path | None) -> None:
    formatter = JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )
    request_ids = RequestIdFilter()
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(formatter)
    console.addFilter(request_ids)
    root = logging.getLogger("folio")
    root.handlers = [console]
    root.setLevel(level.upper())
    root.propagate = False
    for name in DOMAIN_LOGGERS:
        domain = logging.getLogger(f"folio.{name}")
        for handler in list(domain.handlers):
            domain.removeHandler(handler)
            handler.close()
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(
                log_dir / f"{name}.log", maxBytes=LOG_FILE_MAX_BYTES, backupCount=LOG_FILE_BACKUPS
            )
            handler.setFormatter(formatter)
            handler.addFilter(request_ids)
            domain.addHandler(handler)
