"""Session tokens: signed JWTs naming the user, their session version and the token itself.

A request is signed in when the token's signature and expiry hold and one statement finds
its user active, approved, on the same session version, with the token not signed out
(or the process still knows that answer: see sessions.py). Signed-out tokens live in the
database, so they stay revoked whatever happens to Redis.
"""

import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

import jwt
from sqlalchemy import bindparam, delete, exists, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import make_transient_to_detached

from app.auth.models import RevokedToken
from app.auth.sessions import SignedInCache
from app.core.database import upsert, utcnow
from app.users.models import User

ALGORITHM = "HS256"
AUDIENCE = "folio"
REQUIRED_CLAIMS = ["exp", "sub", "jti", "ver", "aud"]
USER_COLUMNS = tuple(c.key for c in User.__table__.columns)
VERIFIED_TOKENS = 4096
# Folio's tokens are about 250 characters; a longer one is not read (nor kept as verified).
MAX_TOKEN_LENGTH = 1024

Account = dict[str, Any]
"""A signed-in user's columns as read: enough to check a permission without building the
ORM object (which costs a signed-in request more than anything else it does)."""


class Claims(NamedTuple):
    user_id: uuid.UUID
    session_version: int
    jti: str
    expires_at: datetime


_SIGNED_IN = select(User).where(
    User.id == bindparam("user_id"),
    User.session_version == bindparam("session_version"),
    User.is_active.is_(True),
    User.approved_at.is_not(None),
    ~exists().where(RevokedToken.jti == bindparam("jti")),
)


class RevocableJWTStrategy:
    def __init__(self, secret: str, lifetime_seconds: int, keep_seconds: float = 0) -> None:
        self.encode_key = secret
        self.lifetime_seconds = lifetime_seconds
        self.signed_in = SignedInCache(keep_seconds)

    async def write_token(self, user: User) -> str:
        now = int(utcnow().timestamp())
        payload = {
            "sub": str(user.id),
            "ver": user.session_version,
            "jti": uuid.uuid4().hex,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + self.lifetime_seconds,
        }
        return jwt.encode(payload, self.encode_key, algorithm=ALGORITHM)

    def claims(self, token: str) -> Claims | None:
        """The token's claims while it has not expired. The signature of a token seen
        recently is not checked again: the same bytes carry the same claims."""
        claims = self._verified(token) if len(token) <= MAX_TOKEN_LENGTH else None
        return claims if claims is not None and claims.expires_at > utcnow() else None

    @lru_cache(maxsize=VERIFIED_TOKENS)  # noqa: B019 (one strategy lives as long as the app)
    def _verified(self, token: str) -> Claims | None:
        try:
            data = jwt.decode(
                token,
                self.encode_key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"require": REQUIRED_CLAIMS},
            )
            return Claims(
                uuid.UUID(data["sub"]),
                _integer(data["ver"]),
                _text(data["jti"]),
                datetime.fromtimestamp(data["exp"], UTC),
            )
        except (jwt.PyJWTError, ValueError, TypeError, OverflowError):
            return None

    async def signed_in_account(
        self, sessions: async_sessionmaker[AsyncSession], token: str
    ) -> Account | None:
        """The token's account, read in a session of its own that ends at once (no pooled
        connection is held by the request for it), unless the process knows the answer."""
        claims = self.claims(token)
        if claims is None:
            return None
        known = self.signed_in.get(claims.jti)
        if known is not None and _names(known, claims):
            return known
        parameters = {
            "user_id": claims.user_id,
            "session_version": claims.session_version,
            "jti": claims.jti,
        }
        async with sessions() as session:
            user = (await session.execute(_SIGNED_IN, parameters)).scalar_one_or_none()
        if user is None:
            return None
        account = {c: getattr(user, c) for c in USER_COLUMNS}
        self.signed_in.put(claims.jti, account)
        return account

    async def revoke(self, session: AsyncSession, token: str) -> None:
        """Sign the token out; tokens that have expired since are forgotten."""
        claims = self.claims(token)
        if claims is None:
            return
        await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
        revoked = upsert(session, RevokedToken).values(jti=claims.jti, expires_at=claims.expires_at)
        await session.execute(revoked.on_conflict_do_nothing())


def _names(account: Account, claims: Claims) -> bool:
    """Whether the token names this account as it is (a token id alone is not trusted)."""
    return (account["id"], account["session_version"]) == (claims.user_id, claims.session_version)


def as_user(account: Account) -> User:
    """The user as loaded, without a query: a session it is added to updates only what
    changes. Built as a load builds it (no attribute events): a third of the cost."""
    user: User = User._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    inspect(user).dict.update(account)
    make_transient_to_detached(user)
    return user


def _integer(value: object) -> int:
    if type(value) is not int:
        raise TypeError("not an integer")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 64:
        raise ValueError("not a token id")
    return value
