"""Working days in Vietnam: Monday to Friday, minus public holidays (Tết included), plus
the make-up working days a commune announces (a Saturday worked to bridge a holiday).

Legal deadlines (disclosure within 5 working days, petition processing) count working days.
Holidays come from the `holidays` package; the commune file may add days off and make-up days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=32)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.Vietnam(years=year))


@dataclass(frozen=True)
class Calendar:
    """The working-day calendar of one commune."""

    days_off: frozenset[date] = field(default_factory=frozenset)
    make_up_days: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def of(cls, days_off: Iterable[date] = (), make_up_days: Iterable[date] = ()) -> Calendar:
        """A calendar with the commune's own days off and make-up working days."""
        return cls(frozenset(days_off), frozenset(make_up_days))

    def is_working_day(self, day: date) -> bool:
        """A weekday that is neither a public holiday nor a day off, or a make-up day."""
        if day in self.make_up_days:
            return True
        return (day.weekday() < 5 and day not in _public_holidays(day.year)
                and day not in self.days_off)

    def add_working_days(self, start: date, count: int) -> date:
        """The day `count` working days after `start` (start itself does not count)."""
        day = start
        while count > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count


NATIONAL = Calendar()


def is_working_day(day: date) -> bool:
    """On the national calendar (no commune-specific days)."""
    return NATIONAL.is_working_day(day)


def add_working_days(start: date, count: int) -> date:
    """On the national calendar: the day `count` working days after `start`."""
    return NATIONAL.add_working_days(start, count)
