"""Market dates in New York time: when a day's close exists and when the next one is due."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
# Vendors publish a day's bar after about 17:30 and correct it until about 20:00.
CLOSE_FINAL = time(20, 0)
CLOSE_DUE = time(17, 30)
SATURDAY = 5


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
