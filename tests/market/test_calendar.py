"""New York market dates: when a day's bar is final and when the next close is due."""

from datetime import UTC, date, datetime

from app.market.calendar import (
    date_from_epoch_ms,
    is_trading_day,
    last_final_date,
    market_holidays,
    next_close_due,
)


def test_a_bar_is_final_after_eight_in_the_evening_in_new_york() -> None:
    # 2024-07-02 is in daylight time: 20:00 in New York is 00:00 UTC the next day.
    assert last_final_date(datetime(2024, 7, 2, 23, 59, tzinfo=UTC)) == date(2024, 7, 1)
    assert last_final_date(datetime(2024, 7, 3, 0, 0, tzinfo=UTC)) == date(2024, 7, 2)
    # In standard time it is 01:00 UTC.
    assert last_final_date(datetime(2024, 1, 3, 0, 30, tzinfo=UTC)) == date(2024, 1, 1)
    assert last_final_date(datetime(2024, 1, 3, 1, 0, tzinfo=UTC)) == date(2024, 1, 2)


def test_the_next_close_after_a_friday_is_due_on_monday_evening() -> None:
    assert next_close_due(date(2024, 3, 8)) == datetime(2024, 3, 11, 21, 30, tzinfo=UTC)
    assert next_close_due(date(2024, 3, 6)) == datetime(2024, 3, 7, 22, 30, tzinfo=UTC)


def test_polygon_day_starts_are_new_york_dates_across_daylight_saving() -> None:
    assert date_from_epoch_ms(1577941200000) == date(2020, 1, 2)  # 05:00 UTC, winter
    assert date_from_epoch_ms(1593662400000) == date(2020, 7, 2)  # 04:00 UTC, summer


def test_the_exchange_closes_on_its_regular_holidays() -> None:
    assert market_holidays(2026) == {
        date(2026, 1, 1),
        date(2026, 1, 19),  # Martin Luther King Jr. Day
        date(2026, 2, 16),  # Washington's Birthday
        date(2026, 4, 3),  # Good Friday
        date(2026, 5, 25),  # Memorial Day
        date(2026, 6, 19),  # Juneteenth
        date(2026, 7, 3),  # Independence Day, a Saturday, observed on Friday
        date(2026, 9, 7),  # Labor Day
        date(2026, 11, 26),  # Thanksgiving
        date(2026, 12, 25),
    }


def test_holidays_on_weekends_move_to_the_nearest_weekday_but_new_year_never_to_december() -> None:
    assert date(2027, 7, 5) in market_holidays(2027)  # Sunday -> Monday
    assert date(2027, 12, 24) in market_holidays(2027)  # Saturday -> Friday
    assert is_trading_day(date(2021, 12, 31))  # New Year's Day 2022 fell on a Saturday
    assert not any(d.month == 1 and d.day in (1, 2, 3) for d in market_holidays(2022))
    assert is_trading_day(date(2021, 6, 18)) and not is_trading_day(date(2022, 6, 20))


def test_weekends_are_not_trading_days() -> None:
    assert [is_trading_day(date(2026, 3, d)) for d in (6, 7, 8, 9)] == [True, False, False, True]
