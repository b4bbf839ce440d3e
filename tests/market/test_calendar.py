"""New York market dates: when a day's bar is final and when the next close is due."""

from datetime import UTC, date, datetime

from app.market.calendar import date_from_epoch_ms, last_final_date, next_close_due


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
