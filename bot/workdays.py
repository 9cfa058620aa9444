"""Working days in Vietnam: Monday to Friday, minus public holidays (Tết included), plus
the make-up working days: the Saturdays the Government swaps for a bridging day off (e.g.
Saturday 22/8/2026 worked for Monday 31/8/2026 off) and those a commune announces itself.

Holidays and the Government's swaps come from the `holidays` package (pyproject.toml sets the
oldest version that knows the current year's); the commune file may add days off and
make-up days. Some legal deadlines count working days, others calendar days; a calendar-day
deadline that ends on a day off ends on the next working day (`next_working_day`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

import holidays

if TYPE_CHECKING:
    from storage.models import Commune


@lru_cache(maxsize=32)
def _official(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """The public holidays of `year`, and the weekend days worked by the swaps announced for
    it (a swap for early January may fall on a Saturday of the December before)."""
    calendar = holidays.Vietnam(years=year)
    return frozenset(calendar), frozenset(calendar.weekend_workdays)


def _public_holidays(year: int) -> frozenset[date]:
    return _official(year)[0]


def _official_make_up_day(day: date) -> bool:
    """A weekend day the Government made a working day."""
    return any(day in _official(year)[1] for year in (day.year, day.year + 1))


@dataclass(frozen=True)
class Calendar:
    """The working-day calendar of one commune."""

    days_off: frozenset[date] = field(default_factory=frozenset)
    make_up_days: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def of(cls, days_off: Iterable[date] = (), make_up_days: Iterable[date] = ()) -> Calendar:
        """A calendar with the commune's own days off and make-up working days."""
        return cls(frozenset(days_off), frozenset(make_up_days))

    @classmethod
    def of_commune(cls, commune: Commune | None) -> Calendar:
        """From the commune file's [calendar] section (the national calendar without one)."""
        section = commune.options.get("calendar", {}) if commune else {}
        return cls.of((date.fromisoformat(d) for d in section.get("days_off", ())),
                      (date.fromisoformat(d) for d in section.get("make_up_days", ())))

    def is_working_day(self, day: date) -> bool:
        """A weekday that is neither a public holiday nor a day off, or a make-up day (the
        Government's or the commune's)."""
        if day in self.make_up_days:
            return True
        if day in self.days_off or day in _public_holidays(day.year):
            return False
        return day.weekday() < 5 or _official_make_up_day(day)

    def add_working_days(self, start: date, count: int) -> date:
        """The day `count` working days after `start` (start itself does not count)."""
        day = start
        while count > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def next_working_day(self, day: date) -> date:
        """`day` itself when it is a working day, otherwise the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
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
