"""Signed-in users kept in the process for a few seconds, so that a signed-in request needs
no database round trip. Only while the process listens to PostgreSQL: a change of a user's
row or a sign-out, by any process, is NOTIFYed (triggers on `users` and `revoked_tokens`)
and evicts at once. While the listener is down, and on SQLite, nothing is kept."""

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from app.core.config import Settings

logger = logging.getLogger("folio.admin")

CHANNEL = "folio_sessions"
RECONNECT_SECONDS = 1.0
SWEEP_FROM = 1024  # users kept before the first sweep of those expired


class SignedInCache:
    def __init__(self, keep_seconds: float) -> None:
        self.keep_seconds = keep_seconds
        self.listening = False
        self._users: dict[str, tuple[float, dict[str, Any]]] = {}  # by token id
        self._tokens: dict[str, set[str]] = defaultdict(set)  # token ids by user id
        self._sweep_at = SWEEP_FROM

    def get(self, jti: str) -> dict[str, Any] | None:
        found = self._users.get(jti) if self.listening else None
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, jti: str, user: dict[str, Any]) -> None:
        if not self.listening:
            return
        now = time.monotonic()
        if len(self._users) >= self._sweep_at:  # tokens not seen again would stay for good
            self._forget_expired(now)
            self._sweep_at = max(SWEEP_FROM, 2 * len(self._users))
        self._users[jti] = (now + self.keep_seconds, user)
        self._tokens[str(user["id"])].add(jti)

    def _forget_expired(self, now: float) -> None:
        for jti in [jti for jti, (until, _) in self._users.items() if until < now]:
            user_id = str(self._users.pop(jti)[1]["id"])
            self._tokens[user_id].discard(jti)
            if not self._tokens[user_id]:
                del self._tokens[user_id]

    def evict(self, key: str) -> None:
        """Forget a token (its id) or every token of a user (the user's id)."""
        self._users.pop(key, None)
        for jti in self._tokens.pop(key, ()):
            self._users.pop(jti, None)

    def _heard(self, *args: object) -> None:
        self.evict(str(args[-1]))

    def _forget_all(self) -> None:
        self.listening = False
        self._users.clear()
        self._tokens.clear()

    @asynccontextmanager
    async def listening_to(self, settings: Settings) -> AsyncIterator[None]:
        """Listen (reconnecting) for as long as the block runs; PostgreSQL only."""
        if settings.is_sqlite or not self.keep_seconds:
            yield
            return
        task = asyncio.create_task(self._listen(_dsn(settings.database_url)))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen(self, dsn: str) -> None:
        while True:
            try:
                connection = await asyncpg.connect(dsn, timeout=5)
            except (OSError, asyncpg.PostgresError, TimeoutError):
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            try:
                await self._listen_on(connection)
            finally:
                self._forget_all()
                await connection.close(timeout=1)
            logger.warning("signed-in users are read from the database until it is back")

    async def _listen_on(self, connection: asyncpg.Connection) -> None:
        closed = asyncio.Event()
        connection.add_termination_listener(lambda _: closed.set())
        await connection.add_listener(CHANNEL, self._heard)
        self.listening = True
        await closed.wait()


def _dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)
