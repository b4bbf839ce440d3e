"""A JWT strategy that can revoke: every token has an id, and logout denylists it."""

import logging
import time
import uuid

import jwt
from fastapi_users import exceptions
from fastapi_users.authentication import JWTStrategy
from fastapi_users.jwt import decode_jwt, generate_jwt

from app.core.cache import Cache, CacheUnavailable
from app.users.manager import UserManager
from app.users.models import User

logger = logging.getLogger("folio.admin")


def denylist_key(jti: str) -> str:
    return f"token_denylist:{jti}"


class RevocableJWTStrategy(JWTStrategy[User, uuid.UUID]):
    lifetime_seconds: int

    def __init__(self, secret: str, lifetime_seconds: int, cache: Cache) -> None:
        super().__init__(secret, lifetime_seconds)
        self.cache = cache

    async def write_token(self, user: User) -> str:
        data = {"sub": str(user.id), "aud": self.token_audience, "jti": uuid.uuid4().hex}
        return generate_jwt(data, self.encode_key, self.lifetime_seconds, self.algorithm)

    def claims(self, token: str) -> dict[str, object] | None:
        try:
            data = decode_jwt(token, self.decode_key, self.token_audience, [self.algorithm])
        except jwt.PyJWTError:
            return None
        return data if data.get("sub") and data.get("jti") else None

    async def read_token(self, token: str | None, user_manager: UserManager) -> User | None:  # type: ignore[override]
        data = self.claims(token) if token else None
        if data is None or await self._revoked(str(data["jti"])):
            return None
        try:
            return await user_manager.get(user_manager.parse_id(data["sub"]))
        except (exceptions.UserNotExists, exceptions.InvalidID):
            return None

    async def destroy_token(self, token: str, user: User) -> None:
        data = self.claims(token)
        if data is None:
            return
        remaining = float(str(data["exp"])) - time.time() if "exp" in data else 0.0
        if remaining > 0:
            await self.cache.set(denylist_key(str(data["jti"])), str(user.id), remaining)

    async def _revoked(self, jti: str) -> bool:
        try:
            return await self.cache.get(denylist_key(jti)) is not None
        except CacheUnavailable:
            logger.warning("token refused: the denylist cannot be checked")
            return True
