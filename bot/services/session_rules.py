"""Dialogue-session rules that need no database: statuses, limits, what a plan must satisfy,
when a reminder fires, and the error that says why something cannot be done
(../shared/DOMAIN.md §5).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import N_
from bot.services.quiet_hours import quiet_until
from bot.workdays import NATIONAL, Calendar
from storage.models import DialogueSession

SCHEDULED, CANCELLED, CLOSED = "scheduled", "cancelled", "closed"
REGISTERED, WAITLISTED = "registered", "waitlisted"
ACTIVE = (REGISTERED, WAITLISTED)
MAX_QUESTIONS = 3
MAX_QUESTION = 1_000
MAX_TOPIC = 300
MAX_NAME = 200
NOTICE_DAYS = 7  # announced at least 7 days ahead (DOMAIN.md §5)
OUTCOME_WITHIN_DAYS = 10  # results published within 10 days
DEFAULT_REMINDERS = ("1d@08:00", "2h")
_REMINDER = re.compile(r"^(?:(\d{1,2})d@([01]\d|2[0-3]):([0-5]\d)|(\d{1,3})h|(\d{1,4})m)$")


class SessionError(ValueError):
    """Something that cannot be done; `translated` gives the reason in a user's language."""

    def __init__(self, message: str, **values: Any) -> None:
        super().__init__(message.format(**values))
        self.message, self.values = message, values

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The reason in the language of `gettext` (staff-only reasons stay English)."""
        return gettext(self.message).format(**self.values)


@dataclass
class Plan:
    """What staff give to announce a session; `start` is an aware datetime."""

    topic: str
    start: datetime
    place: str
    capacity: int
    leaders: list[str] = field(default_factory=list)
    duration_minutes: int = 120
    reserved: int = 0
    online_link: str | None = None
    reminders: list[str] | None = None  # default: DEFAULT_REMINDERS


# --- rules ----------------------------------------------------------------------------------


def reminder_due(spec: str, starts_at: datetime, timezone: str) -> datetime:
    """When the reminder `spec` fires: "1d@08:00" the day before at 08:00 local, "2h", "30m"."""
    found = _REMINDER.match(spec.strip())
    if not found:
        raise SessionError("reminder {spec!r} must look like 1d@08:00, 2h or 30m", spec=spec)
    days, hour, minute, hours, minutes = found.groups()
    if days is not None:
        local_day = starts_at.astimezone(ZoneInfo(timezone)).date() - timedelta(days=int(days))
        return datetime.combine(local_day, time(int(hour), int(minute)), ZoneInfo(timezone))
    if hours is not None:
        return starts_at - timedelta(hours=int(hours))
    return starts_at - timedelta(minutes=int(minutes))


def open_seats(item: DialogueSession) -> int:
    """Seats residents can take: every seat but the reserved ones."""
    return max(0, item.capacity - item.reserved)


def check(plan: Plan, now: datetime, timezone: str) -> None:
    """Refuse a plan that cannot be announced."""
    if not plan.topic.strip():
        raise SessionError("the topic is empty")
    if len(plan.topic) > MAX_TOPIC:
        raise SessionError("the topic is longer than {n} characters", n=MAX_TOPIC)
    if not plan.place.strip():
        raise SessionError("the place is empty")
    if plan.start <= now:
        raise SessionError("the start time is in the past")
    if plan.capacity < 1:
        raise SessionError("the capacity must be at least 1")
    if not 0 <= plan.reserved < plan.capacity:
        raise SessionError("reserved seats must be from 0 to capacity - 1")
    if not 15 <= plan.duration_minutes <= 24 * 60:
        raise SessionError("the duration must be from 15 to 1440 minutes")
    if plan.online_link and not plan.online_link.startswith(("https://", "http://")):
        raise SessionError("the online link must start with https://")
    for spec in plan.reminders or ():
        reminder_due(spec, plan.start, timezone)


def warnings(start: datetime, now: datetime, timezone: str,
             calendar: Calendar = NATIONAL) -> list[str]:
    """What the rules ask and this timing does not do (announced anyway; staff are told):
    7 days' notice, and a time people can come (not a weekend, a holiday or the night)."""
    found = []
    if start - now < timedelta(days=NOTICE_DAYS):
        found.append(N_("The session is announced less than 7 days ahead; the law asks for at "
                        "least 7 days' notice (time, place, content, how to attend)."))
    local = start.astimezone(ZoneInfo(timezone))
    if not calendar.is_working_day(local.date()):
        found.append(N_("The session falls on a Saturday or Sunday; check that residents and "
                        "the leaders can come that day.") if local.weekday() >= 5 else
                     N_("The session falls on a public holiday or a day off; check that "
                        "residents and the leaders can come that day."))
    if quiet_until(start, timezone) is not None:
        found.append(N_("The session starts at night (between 21:00 and 06:30); check that "
                        "the time is right."))
    return found


def require_scheduled(item: DialogueSession) -> None:
    """Refuse a session that was cancelled or has taken place."""
    if item.status == CANCELLED:
        raise SessionError(N_("This dialogue session has been cancelled."))
    if item.status == CLOSED:
        raise SessionError(N_("This dialogue session has already taken place."))


def late_outcome(item: DialogueSession, now: datetime) -> bool:
    """True when the outcome comes later than the 10 days the rules ask for."""
    return now - item.starts_at > timedelta(days=OUTCOME_WITHIN_DAYS)
