"""Market data as the rest of Folio sees it: one provider behind one facade.

Reads go cache -> database -> vendor. Vendor calls pass a circuit breaker and (inside the
vendor clients) a shared rate limiter, and concurrent misses share one call. When the
vendor fails, the last value known is served marked stale; with none, MarketDataUnavailable.
The facade commits its own writes of bars in its own sessions; `ensure_instrument` alone
works in the caller's session.
"""

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from functools import partial
from typing import TypeVar

from cachetools import TTLCache
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.cache import Cache, CacheUnavailable, soft_get, soft_set
from app.core.config import ProviderName, Settings
from app.core.database import chunks, release_reads, utcnow
from app.core.errors import InvalidInput
from app.market import store
from app.market.calendar import close_time, last_final_date, new_york_date, next_close_due
from app.market.flight import SingleFlight
from app.market.guards import CircuitBreaker
from app.market.models import Instrument
from app.market.provider import (
    Action,
    Bar,
    MarketDataProvider,
    MarketDataUnauthorized,
    MarketDataUnavailable,
    Quote,
    TickerInfo,
    UnknownTicker,
)
from app.market.results import (
    CACHED_BAR,
    CACHED_INFO,
    CACHED_QUOTE,
    ActionsResult,
    BarsResult,
    Cached,
    CloseResult,
    QuoteResult,
    TickerResult,
)
from app.market.store import DateRange
from app.market.vendors import create_provider
from app.ops.schemas import Check

logger = logging.getLogger("folio.market")

T = TypeVar("T")
TICKER = re.compile(r"[A-Z0-9][A-Z0-9.\-]{0,15}")
MAX_QUOTES = 50
LAST_CLOSE_LOOKBACK_DAYS = 10
LAST_CLOSE_MIN_TTL_SECONDS = 60.0
# GET /market/quotes answers the same query from the process's memory for a second: a
# desk polling the same tickers costs one cache read per process per second.
RECENT_ANSWER_SECONDS = 1.0
RECENT_ANSWERS = 4096
REFRESH_DAYS = 10
ONE_DAY = timedelta(days=1)
ACTIONS_FROM = date(1970, 1, 1)  # a ticker's first sync asks for every action since
# Providers whose daily bars carry the corporate actions of their dates.
BARS_CARRY_ACTIONS = {ProviderName.TIINGO}

MarketDataError = UnknownTicker | MarketDataUnavailable | MarketDataUnauthorized
MARKET_ERRORS = (UnknownTicker, MarketDataUnavailable, MarketDataUnauthorized)


def final_date() -> date:
    """The last date whose close is final."""
    return last_final_date(utcnow())


def normalise(ticker: str) -> str:
    """The ticker as Folio keys it (`brk.b ` -> `BRK.B`); a malformed one is unknown."""
    clean = ticker.strip().upper()
    if not TICKER.fullmatch(clean):
        raise UnknownTicker(details={"ticker": ticker})
    return clean


class MarketData:
    def __init__(
        self,
        provider: MarketDataProvider,
        cache: Cache,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
    ) -> None:
        self.provider = provider
        self.cache = cache
        self.sessions, self._own_engine = store.own_sessions(sessionmaker, settings)
        self.settings = settings
        self.breaker = CircuitBreaker(
            provider.name, settings.circuit_failure_threshold, settings.circuit_cooldown_seconds
        )
        self.flight = SingleFlight(
            cache, settings.market_lock_ttl_seconds, settings.market_lock_poll_seconds
        )
        # Fresh and complete answers only, as JSON, by the query's tickers.
        self.recent_quotes: TTLCache[str, bytes] = TTLCache(
            RECENT_ANSWERS, min(RECENT_ANSWER_SECONDS, settings.cache_ttl_quote_seconds)
        )

    def health(self) -> Check:
        state = self.breaker.state
        detail = f"circuit {state.replace('_', '-')}"
        if self.provider.name == ProviderName.SIMULATED:
            detail += "; simulated prices, not market data"
        return Check(
            status="down" if state == "open" else "up", backend=self.provider.name, detail=detail
        )

    async def close(self) -> None:
        await self.provider.aclose()
        if self._own_engine is not None:
            await self._own_engine.dispose()

    async def ticker_info(self, ticker: str) -> TickerResult:
        """Metadata: `ticker_metadata:<T>`, else the vendor, else a stale copy or stored row."""
        ticker = normalise(ticker)
        key = f"ticker_metadata:{ticker}"
        try:
            entry = await self._through_cache(
                key,
                CACHED_INFO,
                self.settings.cache_ttl_metadata_seconds,
                partial(self.provider.ticker_info, ticker),
            )
        except MarketDataUnavailable:
            if (copy := await self._stale_copy(key, CACHED_INFO)) is not None:
                return TickerResult(
                    info=copy.data, provider=copy.provider, fetched_at=copy.fetched_at, stale=True
                )
            async with self.sessions() as session:
                row = await store.instrument(session, ticker)
            if row is None:
                raise
            return TickerResult(
                info=store.info_of(row),
                provider=row.provider,
                fetched_at=row.updated_at,
                stale=True,
            )
        return TickerResult(info=entry.data, provider=entry.provider, fetched_at=entry.fetched_at)

    async def ensure_instrument(self, session: AsyncSession, ticker: str) -> Instrument:
        """The instrument of `ticker` in the caller's session, asking the provider the first time.

        Raises UnknownTicker when the provider does not know it. Only flushes.
        """
        ticker = normalise(ticker)
        found = await store.instrument(session, ticker)
        if found is not None:
            return found
        await release_reads(session)
        info = (await self.ticker_info(ticker)).info
        await store.add_instruments(session, [info], self.provider.name)
        created = await store.instrument(session, ticker)
        assert created is not None
        return created

    async def ensure_instruments(
        self, session: AsyncSession, tickers: Sequence[str]
    ) -> tuple[dict[str, int], set[str]]:
        """Instrument ids by ticker in the caller's session, the first-seen ones asked of the
        provider concurrently (MAX_QUOTES at a time); and the tickers it does not know."""
        wanted = sorted(set(tickers))
        known = await store.instrument_ids(session, wanted)
        unknown: set[str] = set()
        missing = [t for t in wanted if t not in known]
        if missing:
            await release_reads(session)
        for batch in chunks(missing, MAX_QUOTES):
            answers = await asyncio.gather(*(self._info_or_unknown(t) for t in batch))
            found = [info for info in answers if info is not None]
            unknown.update(t for t, info in zip(batch, answers, strict=True) if info is None)
            await store.add_instruments(session, found, self.provider.name)
        known |= await store.instrument_ids(session, [t for t in missing if t not in unknown])
        return known, unknown

    async def _info_or_unknown(self, ticker: str) -> TickerInfo | None:
        try:
            return (await self.ticker_info(ticker)).info
        except UnknownTicker:
            return None

    async def quote(self, ticker: str) -> QuoteResult:
        """The latest price (`quote:<T>`, seconds); when the vendor fails, the last one known."""
        ticker = normalise(ticker)
        key = f"quote:{ticker}"
        try:
            entry = await self._through_cache(
                key,
                CACHED_QUOTE,
                self.settings.cache_ttl_quote_seconds,
                partial(self.provider.latest_quote, ticker),
            )
        except MarketDataUnavailable:
            if (copy := await self._stale_copy(key, CACHED_QUOTE)) is not None:
                return QuoteResult(
                    quote=copy.data, provider=copy.provider, fetched_at=copy.fetched_at, stale=True
                )
            last = await self._known_close(ticker)
            if last is None:
                raise
            quote = Quote(ticker=ticker, price=last.bar.close, as_of=close_time(last.bar.date))
            return QuoteResult(
                quote=quote, provider=last.provider, fetched_at=last.fetched_at, stale=True
            )
        return QuoteResult(quote=entry.data, provider=entry.provider, fetched_at=entry.fetched_at)

    async def quotes(self, tickers: Sequence[str]) -> dict[str, QuoteResult | MarketDataError]:
        """Quotes of up to MAX_QUOTES tickers, asked concurrently; a ticker's error is its value."""
        unique = list(dict.fromkeys(t.strip().upper() for t in tickers))
        if len(unique) > MAX_QUOTES:
            raise InvalidInput(
                f"At most {MAX_QUOTES} tickers at a time.", details={"count": len(unique)}
            )
        answers = await asyncio.gather(*(self._quote_or_error(t) for t in unique))
        return dict(zip(unique, answers, strict=True))

    async def _quote_or_error(self, ticker: str) -> QuoteResult | MarketDataError:
        try:
            return await self.quote(ticker)
        except MARKET_ERRORS as exc:
            return exc

    async def last_close(self, ticker: str) -> CloseResult:
        """The latest final daily bar (`last_close:<T>`, kept until the next close is due)."""
        ticker = normalise(ticker)
        key = f"last_close:{ticker}"
        entry = await self._read_cache(key, CACHED_BAR)
        if entry is not None:
            return CloseResult(
                ticker=ticker, bar=entry.data, provider=entry.provider, fetched_at=entry.fetched_at
            )
        today = new_york_date(utcnow())
        bars = await self.daily_bars(
            ticker, today - timedelta(days=LAST_CLOSE_LOOKBACK_DAYS), today
        )
        if not bars.items:
            raise MarketDataUnavailable(
                "No recent close is known for this ticker.", details={"ticker": ticker}
            )
        last = CloseResult(
            ticker=ticker,
            bar=bars.items[-1],
            provider=bars.provider,
            fetched_at=bars.fetched_at,
            stale=bars.stale,
        )
        if not last.stale:
            cached = {"provider": last.provider, "fetched_at": last.fetched_at, "data": last.bar}
            value = self._dump(CACHED_BAR, CACHED_BAR.validate_python(cached))
            await soft_set(self.cache, key, value, self._close_ttl(last.bar))
        return last

    def _close_ttl(self, bar: Bar) -> float:
        until_next = (next_close_due(bar.date) - utcnow()).total_seconds()
        cap = self.settings.cache_ttl_last_close_max_seconds
        return min(max(until_next, LAST_CLOSE_MIN_TTL_SECONDS), cap)

    async def daily_bars(
        self, ticker: str, start: date, end: date, *, as_json: bool = False
    ) -> BarsResult:
        """Bars from start to end: stored ones, and the missing final dates from the vendor.
        `as_json`: the stored bars as the JSON array of the prices route, where the database
        can write it (`items_json`)."""
        ticker = normalise(ticker)
        if start > end:
            raise InvalidInput("start is after end.", details={"start": start, "end": end})
        fetch_end = min(end, last_final_date(utcnow()))
        try:
            instrument = await self.stored_instrument(ticker)
            return await self._stored_bars(
                ticker, instrument, DateRange(start, end), fetch_end, as_json=as_json
            )
        except store.StorageBusy:
            logger.info("storage of %s busy elsewhere; bars served without storing", ticker)
            return await self._unstored_bars(ticker, DateRange(start, fetch_end))

    async def _stored_bars(
        self, ticker: str, instrument: int, wanted: DateRange, fetch_end: date, *, as_json: bool
    ) -> BarsResult:
        failure: MarketDataUnavailable | None = None
        if wanted.start <= fetch_end:
            try:
                await self._fill(ticker, instrument, DateRange(wanted.start, fetch_end))
            except MarketDataUnavailable as exc:
                failure = exc
        bars: list[Bar] = []
        written: str | None = None
        async with self.sessions() as session:
            if as_json and session.get_bind().dialect.name == "postgresql":
                written, fetched_at, count = await store.bars_json(
                    session, instrument, self.provider.name, *wanted
                )
            else:
                bars, fetched_at = await store.read_bars(
                    session, instrument, self.provider.name, *wanted
                )
                count = len(bars)
        if failure is not None and not count:
            raise failure
        return BarsResult(
            ticker=ticker,
            items=bars,
            items_json=written,
            provider=self.provider.name,
            fetched_at=fetched_at or utcnow(),
            stale=failure is not None,
        )

    async def refresh(self, ticker: str) -> BarsResult:
        """Fetch the last REFRESH_DAYS of bars again (vendors correct them); drop cached prices."""
        ticker = normalise(ticker)
        today = new_york_date(utcnow())
        window = DateRange(today - timedelta(days=REFRESH_DAYS), today)
        try:
            instrument = await self.stored_instrument(ticker)
            bars = await self.flight.run(
                f"refresh:{ticker}", partial(self._refetch, ticker, instrument, window)
            )
        except store.StorageBusy:
            return await self._unstored_bars(ticker, window)
        if self.provider.name not in BARS_CARRY_ACTIONS:
            await self.sync_actions([(instrument, ticker, window.start - ONE_DAY)], final_date())
        with contextlib.suppress(CacheUnavailable):
            await self.cache.delete(f"quote:{ticker}", f"last_close:{ticker}")
        self.recent_quotes.clear()
        return BarsResult(
            ticker=ticker, items=bars, provider=self.provider.name, fetched_at=utcnow()
        )

    async def corporate_actions(
        self, ticker: str, start: date | None, end: date | None
    ) -> ActionsResult:
        """A ticker's splits and dividends with an ex-date from start to end, asking the
        vendor for those not known up to the last close."""
        ticker = normalise(ticker)
        instrument = await self.stored_instrument(ticker)
        through = final_date()
        async with self.sessions() as session:
            due = await store.actions_due(session, [instrument], through)
        failed = await self.sync_actions(due, through) if due else []
        async with self.sessions() as session:
            found = await store.actions(session, [instrument], start=start, end=end)
        return ActionsResult(
            ticker=ticker,
            items=found,
            provider=self.provider.name,
            fetched_at=max((a.fetched_at for a in found), default=utcnow()),
            stale=bool(failed),
        )

    async def fill(self, ticker: str, instrument: int, wanted: DateRange) -> list[Bar]:
        """Fetch and store what the store has not covered of `wanted` (final dates only);
        the bars fetched but not stored when storage is busy elsewhere."""
        try:
            await self._fill(ticker, instrument, wanted)
        except store.StorageBusy:
            return (await self._unstored_bars(ticker, wanted)).items
        return []

    async def ensure_actions(
        self,
        session: AsyncSession,
        instruments: dict[int, str],
        through: date,
        *,
        first_time: bool = False,
    ) -> list[str]:
        """Store the corporate actions of the instruments not yet known up to `through` (with
        `first_time`, only of those never synced); the tickers the vendor could not be asked
        about."""
        due = await store.actions_due(session, list(instruments), through)
        if first_time:
            due = [d for d in due if d[2] is None]
        if not due:
            return []
        await release_reads(session)
        return await self.sync_actions(due, through, session)

    async def sync_actions(
        self,
        due: Sequence[tuple[int, str, date | None]],
        through: date,
        caller: AsyncSession | None = None,
    ) -> list[str]:
        """Store the corporate actions of instruments (id, ticker, known up to) up to
        `through`, committed at once; the tickers the vendor could not be asked about. A
        caller's session writes them instead where no other can: on SQLite (it holds the
        write lock), or for an instrument it has not committed yet."""
        fetched: list[tuple[int, list[Action]]] = []
        failed: list[str] = []
        for batch in chunks(due, MAX_QUOTES):
            answers = await asyncio.gather(*(self._actions_of(*d, through) for d in batch))
            for (instrument, ticker, _), answer in zip(batch, answers, strict=True):
                if answer is None:
                    failed.append(ticker)
                else:
                    fetched.append((instrument, answer))
        if not fetched:
            return failed
        if caller is not None and caller.get_bind().dialect.name == "sqlite":
            await self._save_actions(caller, fetched, through)  # it holds the write lock
            return failed
        try:
            async with self.sessions() as session, store.writing(session):
                await self._save_actions(session, fetched, through)
                await session.commit()
        except store.StorageBusy:
            if caller is None:
                logger.warning("corporate actions not stored: storage busy elsewhere")
                return [ticker for _, ticker, _ in due]
            await self._save_actions(caller, fetched, through)  # its instrument is new
        return failed

    async def _actions_of(
        self, instrument: int, ticker: str, known: date | None, through: date
    ) -> list[Action] | None:
        start = known + ONE_DAY if known else ACTIONS_FROM
        ask = partial(self.provider.corporate_actions, ticker, start, through)
        try:
            found: list[Action] = await self.flight.run(
                f"actions:{ticker}:{start}:{through}", partial(self._call, ask)
            )
        except MARKET_ERRORS:
            logger.warning("corporate actions of %s not synced", ticker)
            return None
        return [a for a in found if start <= a.ex_date <= through]

    async def _save_actions(
        self, session: AsyncSession, fetched: list[tuple[int, list[Action]]], through: date
    ) -> None:
        for instrument, found in fetched:
            await store.save_actions(session, instrument, self.provider.name, found)
            await store.set_actions_through(session, instrument, through)

    async def _through_cache(
        self,
        key: str,
        adapter: TypeAdapter[Cached[T]],
        ttl: float,
        fetch: Callable[[], Awaitable[T]],
    ) -> Cached[T]:
        # Concurrent callers share even the cache read: a burst of requests for one key
        # makes one Redis round trip, not one new connection each.
        return await self.flight.run(
            key, partial(self._cached_or_fetched, key, adapter, ttl, fetch)
        )

    async def _cached_or_fetched(
        self,
        key: str,
        adapter: TypeAdapter[Cached[T]],
        ttl: float,
        fetch: Callable[[], Awaitable[T]],
    ) -> Cached[T]:
        entry = await self._read_cache(key, adapter)
        if entry is not None:
            return entry
        async with self.flight.shared_lock(key):
            entry = await self._read_cache(key, adapter)  # another process may have filled it
            if entry is not None:
                return entry
            value = await self._call(fetch)
            entry = adapter.validate_python(
                {"provider": self.provider.name, "fetched_at": utcnow(), "data": value}
            )
            value_json = self._dump(adapter, entry)
            await soft_set(self.cache, key, value_json, ttl)
            await soft_set(
                self.cache, f"stale:{key}", value_json, self.settings.cache_ttl_stale_seconds
            )
            return entry

    async def _stale_copy(self, key: str, adapter: TypeAdapter[Cached[T]]) -> Cached[T] | None:
        """The last value fetched for `key`, kept longer than its TTL to be served stale."""
        return await self._read_cache(f"stale:{key}", adapter)

    async def _read_cache(self, key: str, adapter: TypeAdapter[Cached[T]]) -> Cached[T] | None:
        raw = await soft_get(self.cache, key)
        if raw is None:
            return None
        try:
            return adapter.validate_json(raw)
        except ValidationError:
            logger.warning("unreadable cache value under %s ignored", key)
            return None

    @staticmethod
    def _dump(adapter: TypeAdapter[Cached[T]], entry: Cached[T]) -> str:
        return adapter.dump_json(entry).decode()

    async def _call(self, fetch: Callable[[], Awaitable[T]]) -> T:
        with self.breaker.guard():
            return await fetch()

    async def _known_close(self, ticker: str) -> CloseResult | None:
        """The last close already known (cache, then database), for a stale answer."""
        entry = await self._read_cache(f"last_close:{ticker}", CACHED_BAR)
        if entry is not None:
            return CloseResult(
                ticker=ticker,
                bar=entry.data,
                provider=entry.provider,
                fetched_at=entry.fetched_at,
                stale=True,
            )
        async with self.sessions() as session:
            latest = await store.latest_bar(session, ticker, self.provider.name)
        if latest is None:
            return None
        bar, fetched_at = latest
        return CloseResult(
            ticker=ticker, bar=bar, provider=self.provider.name, fetched_at=fetched_at, stale=True
        )

    async def stored_instrument(self, ticker: str) -> int:
        """The stored instrument's id, created (after asking the provider) when missing."""
        async with self.sessions() as session:
            found = await store.instrument_id(session, ticker)
        if found is not None:
            return found
        info = (await self.ticker_info(ticker)).info
        async with self.sessions() as session:
            async with store.writing(session):
                await store.add_instruments(session, [info], self.provider.name)
                await session.commit()
            created = await store.instrument_id(session, ticker)
        assert created is not None
        return created

    async def _fill(self, ticker: str, instrument: int, wanted: DateRange) -> None:
        for gap in await self._missing(instrument, wanted):
            key = f"bars:{ticker}:{gap.start}:{gap.end}"
            await self.flight.run(key, partial(self._fetch_gap, ticker, instrument, gap))

    async def _missing(self, instrument: int, wanted: DateRange) -> list[DateRange]:
        async with self.sessions() as session:
            covered = await store.coverage(session, instrument, self.provider.name)
        return store.gaps(wanted, covered)

    async def _fetch_gap(self, ticker: str, instrument: int, gap: DateRange) -> None:
        async with self.flight.shared_lock(f"bars:{ticker}"):
            for part in await self._missing(instrument, gap):  # another process may have filled it
                await self._refetch(ticker, instrument, part)

    async def _refetch(self, ticker: str, instrument: int, window: DateRange) -> list[Bar]:
        """Ask the vendor for the window, store its bars and record its final dates as covered."""
        fetched = await self._call(
            partial(self.provider.daily_bars, ticker, window.start, window.end)
        )
        bars = [bar for bar in fetched if window.start <= bar.date <= window.end]
        final = min(window.end, last_final_date(utcnow()))
        covered = DateRange(window.start, final) if window.start <= final else None
        carry = self.provider.name in BARS_CARRY_ACTIONS
        async with self.sessions() as session, store.writing(session):
            await store.save_bars(
                session, instrument, self.provider.name, bars, covered, carry_actions=carry
            )
            await session.commit()
        return bars

    async def _unstored_bars(self, ticker: str, window: DateRange) -> BarsResult:
        bars: list[Bar] = []
        if window.start <= window.end:
            bars = await self.flight.run(
                f"bars:{ticker}:{window.start}:{window.end}",
                partial(self._call, partial(self.provider.daily_bars, ticker, *window)),
            )
        return BarsResult(
            ticker=ticker, items=bars, provider=self.provider.name, fetched_at=utcnow()
        )


def create_market_data(
    settings: Settings, cache: Cache, sessionmaker: async_sessionmaker[AsyncSession]
) -> MarketData:
    return MarketData(create_provider(settings, cache), cache, sessionmaker, settings)
