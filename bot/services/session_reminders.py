"""Dialogue-session reminders: rows planned for each seat, dropped when a session changes,
and queued in the outbox once each when due (`send_due_reminders`, run by the scheduler).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import outbox
from bot.services import session_notices as notices
from bot.services.session_rules import REGISTERED, SCHEDULED, reminder_due
from storage.db import Database
from storage.models import DialogueSession, SessionRegistration, SessionReminder
from storage.repositories import DialogueSessions, SessionRegistrations, SessionReminders


async def plan_reminders(session: AsyncSession, item: DialogueSession,
                         registration: SessionRegistration, now: datetime,
                         timezone: str) -> None:
    """Plan the reminders of a new seat that fall between `now` and the start."""
    reminders = SessionReminders(session)
    for spec in item.reminders:
        due = reminder_due(spec, item.starts_at, timezone)
        if now < due < item.starts_at:
            reminders.add(SessionReminder(session_id=item.id, registration_id=registration.id,
                                          kind=spec, due_at=due))
    await session.flush()


async def drop_reminders(session: AsyncSession, session_id: int) -> None:
    """Cancel every pending reminder of a session, and those queued but not sent yet."""
    await outbox.cancel(session, await SessionReminders(session).cancel_pending(session_id))


async def send_due_reminders(db: Database, now: datetime, timezone: str,
                             batch: int = 200) -> int:
    """Queue every due reminder in the outbox, once; returns how many were queued.

    A reminder row becomes "sent" in the same transaction that queues its message (with
    a dedup key), so a crash or a restart in between can neither lose nor repeat it.
    """
    queued = 0
    while True:
        async with db.unit_of_work() as session:
            rows = await SessionReminders(session).due(now, batch)
            for row in rows:
                queued += await _fire(session, row, now, timezone)
            await session.commit()
        if len(rows) < batch:
            return queued


async def _fire(session: AsyncSession, row: SessionReminder, now: datetime,
                timezone: str) -> int:
    item = await DialogueSessions(session).get(row.session_id)
    registration = await SessionRegistrations(session).get(row.registration_id)
    stale = (item is None or registration is None or item.status != SCHEDULED
             or registration.status != REGISTERED or item.starts_at <= now)
    row.status = "cancelled" if stale else "sent"
    if not stale:
        row.sent_at = now
        row.outbox_id = await notices.notify(
            session, registration.user_id, f"session-reminder:{row.id}", "session_reminder",
            lambda _, loc: notices.reminder_text(_, loc, item, registration.ticket, timezone),
            session_id=item.id, count_only=False,
        ) or None
    session.add(row)
    return row.outbox_id is not None and not stale
