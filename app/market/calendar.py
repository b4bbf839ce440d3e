"""Market dates in New York time: when a day's close exists and when the next one is due."""

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
# Vendors publish a day's bar after about 17:30 and correct it until about 20:00.
CLOSE_FINAL = time(20, 0)
CLOSE_DUE = time(17, 30)
SATURDAY = 5
SUNDAY = 6
MONDAY, THURSDAY = 0, 3
JUNETEENTH_FROM = 2022


def new_york_date(moment: datetime) -> date:
    return moment.astimezone(NEW_YORK).date()


def date_from_epoch_ms(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(NEW_YORK).date()


def last_final_date(now: datetime) -> date:
    """The latest market date whose daily bar will not change any more."""
    local = now.astimezone(NEW_YORK)
    return local.date() if local.time() >= CLOSE_FINAL else local.date() - timedelta(days=1)


def next_close_due(after: date) -> datetime:
    """When the bar of the weekday following `after` should be published (UTC)."""
    day = after + timedelta(days=1)
    while day.weekday() >= SATURDAY:
        day += timedelta(days=1)
    return datetime.combine(day, CLOSE_DUE, tzinfo=NEW_YORK).astimezone(UTC)


def close_time(day: date) -> datetime:
    return datetime.combine(day, time(16, 0), tzinfo=NEW_YORK).astimezone(UTC)


def is_trading_day(day: date) -> bool:
    """A weekday that is not one of the New York Stock Exchange's regular holidays."""
    return day.weekday() < SATURDAY and day not in market_holidays(day.year)


@lru_cache(maxsize=64)
def market_holidays(year: int) -> frozenset[date]:
    """The NYSE's regular full-day holidays of `year` (not its rare one-off closures)."""
    days = {
        _nth_weekday(year, 1, MONDAY, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, MONDAY, 3),  # Washington's Birthday
        _easter(year) - timedelta(days=2),  # Good Friday
        _nth_weekday(year, 5, MONDAY, -1),  # Memorial Day
        _observed(date(year, 7, 4)),
        _nth_weekday(year, 9, MONDAY, 1),  # Labor Day
        _nth_weekday(year, 11, THURSDAY, 4),  # Thanksgiving
        _observed(date(year, 12, 25)),
    }
    new_year = date(year, 1, 1)
    if new_year.weekday() != SATURDAY:  # the exchange does not close the Friday before
        days.add(_observed(new_year))
    if year >= JUNETEENTH_FROM:
        days.add(_observed(date(year, 6, 19)))
    return frozenset(days)


def _observed(day: date) -> date:
    if day.weekday() == SATURDAY:
        return day - timedelta(days=1)
    if day.weekday() == SUNDAY:
        return day + timedelta(days=1)
    return day


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th `weekday` of the month; n = -1 is the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _easter(year: int) -> date:
    """Easter Sunday in the Gregorian calendar (the anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    lx = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * lx) // 451
    month, day = divmod(h + lx - 7 * m + 114, 31)
    return date(year, month, day + 1)
