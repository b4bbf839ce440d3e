"""Sign-in attempts counted per account and per client address, in the cache; a right
password takes its attempt off the address and starts the account's count again."""

import logging
import math

from app.core.cache import Cache, CacheUnavailable
from app.core.errors import TooManyRequests

logger = logging.getLogger("folio.admin")

WINDOW_SECONDS = 15 * 60
MAX_PER_ACCOUNT = 5
# High enough that one office's typos behind one address lock no one else out; low enough
# to bound guessing across many accounts from one address.
MAX_PER_ADDRESS = 100
LIMITS = (MAX_PER_ACCOUNT, MAX_PER_ADDRESS)


class LoginThrottled(TooManyRequests):
    code = "login_throttled"
    message = "Too many failed sign-in attempts; try again later."


def _keys(email: str, address: str) -> tuple[str, str]:
    return f"login_failures:account:{email.lower()}", f"login_failures:address:{address}"


async def admit(cache: Cache, email: str, address: str) -> None:
    """Count the attempt before its slow password check, so that attempts made in parallel
    cannot all pass; refuse it when the account's or the address's count is spent. An
    unreachable cache does not lock everyone out: the attempt goes on, and it is logged."""
    try:
        for key, limit in zip(_keys(email, address), LIMITS, strict=True):
            if await cache.incr(key, WINDOW_SECONDS) > limit:
                retry_after = math.ceil(await cache.ttl(key) or WINDOW_SECONDS)
                raise LoginThrottled(headers={"Retry-After": str(retry_after)})
    except CacheUnavailable:
        logger.warning("login throttling skipped: the cache is unavailable")


async def succeeded(cache: Cache, email: str, address: str) -> None:
    """The right password: the account's count starts again, and the attempt no longer
    counts against the address (only failures do)."""
    account_key, address_key = _keys(email, address)
    try:
        await cache.delete(account_key)
        await cache.incr(address_key, WINDOW_SECONDS, by=-1)
    except CacheUnavailable:
        return
