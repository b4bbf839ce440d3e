"""The booking baseline: a bare FastAPI route that inserts one row through Folio's own
session machinery (engine, per-request session, one commit)."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace

from fastapi import FastAPI
from sqlalchemy import BigInteger, Identity, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.core.config import Settings
from app.core.database import SessionDep, create_engine, create_sessionmaker


class Base(DeclarativeBase):
    pass


class BenchRow(Base):
    __tablename__ = "bench_rows"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    note: Mapped[str] = mapped_column(String(100))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = Settings(_env_file=None, database_url=os.environ["DATABASE_URL"])  # type: ignore[call-arg]
    engine = create_engine(settings)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    # Only what the request's session dependency reads of the app's state.
    app.state.shared = SimpleNamespace(sessions=create_sessionmaker(engine))
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/rows", status_code=201)
async def insert_row(session: SessionDep) -> dict[str, int]:
    row = BenchRow(note="one row")
    session.add(row)
    await session.flush()
    return {"id": row.id}
