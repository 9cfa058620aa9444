"""The quiet hours: no non-urgent push reaches a person's private chat between 21:00 and
06:30 local time; it waits for the morning.

Broadcasts apply the rule when they plan their deliveries (an urgent one goes at once); every
other push to a private chat (petition and session notices, reminders, followed topics,
staff alerts sent privately) is held by the dispatcher. Answers to a person's own message,
broadcast deliveries and relays to hamlet heads are never held here, nor is anything sent
to a group.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

QUIET_FROM, QUIET_UNTIL = time(21, 0), time(6, 30)

# Outbox kinds that are never held: answers in the conversation itself, and broadcasts,
# which hold their own private deliveries unless urgent (relays pass a broadcast on).
NEVER_HELD = frozenset({"reply", "broadcast_delivery", "relay", "relay_hint"})


def quiet_until(moment: datetime, timezone: str) -> datetime | None:
    """The end of the quiet hours (06:30 local) if `moment` falls inside them, else None."""
    local = moment.astimezone(ZoneInfo(timezone))
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return None
    day = local.date() + timedelta(days=1) if local.time() >= QUIET_FROM else local.date()
    return datetime.combine(day, QUIET_UNTIL, ZoneInfo(timezone))


def held(kind: str, is_group: bool) -> bool:
    """Whether a push of this outbox kind waits out the quiet hours."""
    return not is_group and kind not in NEVER_HELD
