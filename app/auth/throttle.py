"""Failed sign-ins counted per account and per client address, in the cache."""

import logging
import math

from app.core.cache import Cache, CacheUnavailable
from app.core.errors import TooManyRequests

logger = logging.getLogger("folio.admin")

WINDOW_SECONDS = 15 * 60
MAX_PER_ACCOUNT = 5
MAX_PER_ADDRESS = 20


class LoginThrottled(TooManyRequests):
    code = "login_throttled"
    message = "Too many failed sign-in attempts; try again later."


def _keys(email: str, address: str) -> tuple[str, str]:
    return f"login_failures:account:{email.lower()}", f"login_failures:address:{address}"


async def check(cache: Cache, email: str, address: str) -> None:
    """Refuse the attempt when either counter is spent. An unreachable cache does not lock
    everyone out: the attempt goes on to the password check, and the outage is logged."""
    account_key, address_key = _keys(email, address)
    try:
        for key, limit in ((account_key, MAX_PER_ACCOUNT), (address_key, MAX_PER_ADDRESS)):
            count = await cache.get(key)
            if count is not None and int(count) >= limit:
                retry_after = math.ceil(await cache.ttl(key) or WINDOW_SECONDS)
                raise LoginThrottled(headers={"Retry-After": str(retry_after)})
    except CacheUnavailable:
        logger.warning("login throttling skipped: the cache is unavailable")


async def record_failure(cache: Cache, email: str, address: str) -> None:
    try:
        for key in _keys(email, address):
            await cache.incr(key, WINDOW_SECONDS)
    except CacheUnavailable:
        return


async def reset_account(cache: Cache, email: str) -> None:
    try:
        await cache.delete(_keys(email, "")[0])
    except CacheUnavailable:
        return
