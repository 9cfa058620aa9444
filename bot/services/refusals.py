"""Refused attempts, written to the interaction log: a personal-data export without the admin
role, an identity view without the investigator role, a staff button or command used by
someone who is not staff.

Kind "refused", direction "admin"; the text says what was tried (never its data). Who tried
is the actor for a shell operator, and the log's pseudonymous reference for a chat identity
(a resident's chat id is personal data; an admin's export with personal data resolves it).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.pseudonym import user_ref
from storage import clock
from storage.models import InteractionLog
from storage.repositories import InteractionLogs

REFUSED = "refused"


def record(session: AsyncSession, what: str, *, actor: str = "", channel: str = "cli",
           ref: str = "", now: datetime | None = None) -> None:
    """Add the refusal to the caller's transaction, at the caller's `now`."""
    InteractionLogs(session).append(InteractionLog(
        at=now or clock.now(), channel=channel[:20] or "cli", direction="admin", kind=REFUSED,
        text=what[:200], actor=actor[:120] or None, user_ref=ref))


def in_chat(session: AsyncSession, key: bytes, channel: str, user_id: str, what: str, *,
            now: datetime | None = None) -> None:
    """A refusal in a chat: who tried, by reference."""
    record(session, what, channel=channel, ref=user_ref(key, channel, user_id), now=now)
