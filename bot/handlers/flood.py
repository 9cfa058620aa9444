"""Per-person flood control at the channels' edge: slow a flooder, drop nothing, slow no one else.

A person may send FLOOD_BURST messages at once, then one every 1/FLOOD_RATE seconds (by
default 10, then 1 a second: faster than anyone types). Each event is given a `Ticket` when it
arrives (a GCRA token bucket per person: the time it may be processed). The runtime waits
for that time under the person's own lock, so the flooder's messages are all stored and
answered later, in order, while everyone else's go ahead at once. The first time a person
is slowed (then at most once a minute) they are told so politely.

The buckets live in the process: with several bot processes each counts its own share (the
order of one person's turns across processes is kept in the database, not here). At stop,
events still waiting are left pending in the database and processed at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.i18n import translations
from bot.messages import Reply
from storage.db import Database
from storage.models import InteractionLog
from storage.repositories import InteractionLogs, Users

if TYPE_CHECKING:
    from bot.services.inbound_events import EventLog

BURST = 10  # messages a person may send at once
RATE = 1.0  # then messages per second
NOTICE_EVERY = 60.0  # seconds between two "you are sending fast" notices to one person


@dataclass(frozen=True)
class Ticket:
    """When an event may be processed (`time.monotonic()`), and whether to tell the person."""

    key: Hashable
    release_at: float = 0.0
    notify: bool = False


class Stopped(Exception):
    """The runtime is stopping: a delayed event is left pending for the next start."""


class FloodControl:
    """Token buckets per person, kept as the time each one's next event may run."""

    def __init__(self, burst: int = BURST, rate: float = RATE,
                 notice_every: float = NOTICE_EVERY) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.tolerance = max(burst - 1, 0) * self.interval
        self.notice_every = notice_every
        self._due: dict[Hashable, float] = {}  # key -> theoretical arrival time (GCRA)
        self._told: dict[Hashable, float] = {}  # key -> when last told
        self._stopped = asyncio.Event()
        self.delayed = 0  # events slowed since start (for the log and the bench)

    def admit(self, key: Hashable) -> Ticket:
        """The ticket of an event of `key` arriving now."""
        if not self.interval:
            return Ticket(key)
        now = time.monotonic()
        if len(self._due) > 10_000:
            self._forget(now)
        due = max(self._due.get(key, now), now)
        release_at = max(now, due - self.tolerance)
        self._due[key] = due + self.interval
        if release_at <= now:
            return Ticket(key)
        self.delayed += 1
        notify = now - self._told.get(key, float("-inf")) >= self.notice_every
        if notify:
            self._told[key] = now
        return Ticket(key, release_at, notify)

    async def wait(self, ticket: Ticket) -> None:
        """Wait until the ticket's time; raises Stopped if the runtime stops meanwhile."""
        delay = ticket.release_at - time.monotonic()
        if delay <= 0:
            return
        if self._stopped.is_set():
            raise Stopped()
        try:
            await asyncio.wait_for(self._stopped.wait(), delay)
        except TimeoutError:
            return
        raise Stopped()

    def stop(self) -> None:
        """Release every waiting event as Stopped (they stay pending in the database)."""
        self._stopped.set()

    def _forget(self, now: float) -> None:
        """Drop the buckets that are full again and old notices: memory stays bounded."""
        self._due = {k: t for k, t in self._due.items() if t > now}
        self._told = {k: t for k, t in self._told.items() if now - t < self.notice_every}


async def notice(db: Database, channel: str, user_id: str, default_locale: str) -> Reply:
    """The polite "you are sending fast" message, in the person's language, recorded in the
    interaction log as sent to no one in particular (a flooder may be in a flow whose turns
    the log must not link to a person, such as a denunciation)."""
    locale = default_locale
    with contextlib.suppress(Exception):  # neither is ever worth failing the notice
        async with db.session() as session:
            user = await Users(session).get(channel, user_id)
            locale = user.locale if user is not None and user.locale else default_locale
            InteractionLogs(session).append(InteractionLog(
                channel=channel, direction="out", kind="flood_notice", user_ref=""))
            await session.commit()
    _ = translations(locale).gettext
    return Reply(_("You are sending messages very fast; the assistant will answer them "
                   "one by one."))


async def in_turn(control: FloodControl, ticket: Ticket, events: EventLog, event_id: str,
                  work: Callable[[], Awaitable[None]],
                  failed: Callable[[Exception], None]) -> None:
    """Run one stored event's `work` when its ticket allows and its turn among processes
    comes, then mark it done (committed before the chat's next event is taken). A failure
    goes to `failed`, never raised; at stop a delayed event is left pending for the next start.
    """
    try:
        await control.wait(ticket)
    except Stopped:
        return
    try:
        await events.wait_turn(event_id)
        await work()
    except Exception as exc:
        failed(exc)
    finally:
        await events.done(event_id)
