"""Working days in Vietnam: Monday to Friday, minus public holidays (Tết included).

Legal deadlines (disclosure within 5 working days, petition answers) count working days.
Holidays come from the `holidays` package; a commune may add its own days off.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=32)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.Vietnam(years=year))


def is_working_day(day: date, extra_days_off: Iterable[date] = ()) -> bool:
    """True on a weekday that is neither a public holiday nor an extra day off."""
    return (day.weekday() < 5 and day not in _public_holidays(day.year)
            and day not in set(extra_days_off))


def add_working_days(start: date, count: int, extra_days_off: Iterable[date] = ()) -> date:
    """The day `count` working days after `start` (start itself does not count)."""
    days_off = frozenset(extra_days_off)
    day = start
    while count > 0:
        day += timedelta(days=1)
        if is_working_day(day, days_off):
            count -= 1
    return day


def working_days_between(start: date, end: date, extra_days_off: Iterable[date] = ()) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    days_off = frozenset(extra_days_off)
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day, days_off)
    return count
