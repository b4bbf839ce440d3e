"""`folio serve`: run the API with uvicorn."""

import typer
import uvicorn

from app.cli.common import load_settings
from app.cli.db import upgrade_to_head


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Worker processes."),
    reload: bool = typer.Option(False, help="Restart on code changes (development)."),
) -> None:
    """Serve the API. The embedded SQLite database is migrated first."""
    settings = load_settings()
    if settings.is_sqlite:
        upgrade_to_head(settings.database_url)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        server_header=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_level=settings.log_level.lower(),
    )
