"""Ticket codes of dialogue sessions: drawn unique at registration, read back as people type
them, and checked in at the door (a code works once).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import N_
from bot.services.session_rules import CANCELLED, REGISTERED, WAITLISTED, SessionError
from storage.models import SessionRegistration
from storage.repositories import DialogueSessions, SessionRegistrations

# Ticket codes avoid characters people confuse when reading them aloud: 0/O, 1/I/L.
TICKET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TICKET_LENGTH = 8


def new_ticket() -> str:
    """A random ticket code of 8 characters from the unambiguous alphabet."""
    return "".join(secrets.choice(TICKET_ALPHABET) for _ in range(TICKET_LENGTH))


def normal_ticket(text: str) -> str:
    """A typed ticket code as stored: upper case, without spaces or dashes."""
    return re.sub(r"[\s\-.]", "", text).upper()


async def free_ticket(session: AsyncSession) -> str:
    """A new ticket code that no registration has yet."""
    registrations = SessionRegistrations(session)
    while True:
        ticket = new_ticket()
        if await registrations.by_ticket(ticket) is None:
            return ticket


async def check_in(session: AsyncSession, ticket: str, *, now: datetime, timezone: str,
                   session_id: int | None = None) -> SessionRegistration:
    """Mark attendance for a ticket code; a code works once.

    A refused ticket (used, waiting, cancelled) is answered without its holder's name: the
    door needs a name only to seat the person it lets in."""
    code = normal_ticket(ticket)
    registration = await SessionRegistrations(session).by_ticket(code) if (
        len(code) == TICKET_LENGTH) else None
    if registration is None or (session_id and registration.session_id != session_id):
        raise SessionError(N_("No ticket {code} for this session. Please check the code: it has "
                              "8 characters and never contains 0, O, 1, I or L."), code=code[:12])
    if registration.checked_in_at is not None:
        at = registration.checked_in_at.astimezone(ZoneInfo(timezone))
        raise SessionError(N_("Ticket {code} was already used at {at}."), code=code,
                           at=f"{at:%H:%M %d/%m/%Y}")
    if registration.status == WAITLISTED:
        raise SessionError(N_("Ticket {code} is on the waiting list and has no seat."),
                           code=code)
    if registration.status != REGISTERED:
        raise SessionError(N_("Ticket {code} was cancelled."), code=code)
    item = await DialogueSessions(session).get(registration.session_id)
    if item is not None and item.status == CANCELLED:
        raise SessionError(N_("This dialogue session has been cancelled."))
    registration.checked_in_at = now
    await SessionRegistrations(session).save(registration)
    return registration
