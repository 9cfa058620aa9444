"""The program's one clock: every read of the current time goes through `now()`.

Production reads the system clock. Tests set another source with `use()` (the suite's
`Clock` does it and puts the system clock back after each test); nothing else in the
program may read the wall clock itself (tests/test_layering.py checks). Durations are
measured with `time.monotonic()`, which is not the time of day and may be read anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

Source = Callable[[], datetime]


def system() -> datetime:
    """The machine's wall clock, timezone-aware UTC."""
    return datetime.now(UTC)


_source: Source = system


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _source()


def today(timezone: str) -> date:
    """Today's date where the commune is."""
    return now().astimezone(ZoneInfo(timezone)).date()


def use(source: Source | None) -> None:
    """Read the time from `source` from now on; None goes back to the system clock."""
    global _source
    _source = source or system
