"""What MarketData answers: a value with the provider that gave it, when, and if it is stale."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, TypeAdapter

from app.market.provider import Bar, Quote, TickerInfo
from app.market.store import StoredAction

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Sourced:
    """Which provider answered, when it did, and whether the answer is an older one."""

    provider: str
    fetched_at: datetime
    stale: bool = False

    @property
    def age_seconds(self) -> float:
        return max((datetime.now(UTC) - self.fetched_at).total_seconds(), 0.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class TickerResult(Sourced):
    info: TickerInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteResult(Sourced):
    quote: Quote


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseResult(Sourced):
    ticker: str
    bar: Bar


@dataclass(frozen=True, slots=True, kw_only=True)
class BarsResult(Sourced):
    ticker: str
    items: list[Bar]
    # The bars as a JSON array the database wrote, for a route to pass on (items empty).
    items_json: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionsResult(Sourced):
    ticker: str
    items: list[StoredAction]


class Cached(BaseModel, Generic[T]):
    """A cache value as a person reads it in redis-cli: JSON, decimals as strings."""

    provider: str
    fetched_at: datetime
    data: T


CACHED_INFO = TypeAdapter(Cached[TickerInfo])
CACHED_QUOTE = TypeAdapter(Cached[Quote])
CACHED_BAR = TypeAdapter(Cached[Bar])
