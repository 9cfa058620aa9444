"""Dialogue sessions ("Dân bàn"): announce, change or cancel, register within capacity,
waitlist (../shared/DOMAIN.md §5).

Every change of seats locks the session row first (`DialogueSessions.lock`), so two
registrations never count the same free seat. Staff alerts at 80% and 100% full go
through the outbox to every staff and admin identity (bot.services.session_notices).
Next to it: session_rules (no database), session_reminders, session_questions,
session_tickets (codes and check-in) and session_outcome (closing with the outcome).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import typed
from bot.i18n import N_, format_datetime
from bot.services import outbox
from bot.services import session_notices as notices
from bot.services.session_reminders import drop_reminders, plan_reminders
from bot.services.session_rules import (  # SessionError stays importable from here
    ACTIVE,
    CANCELLED,
    DEFAULT_REMINDERS,
    MAX_NAME,
    REGISTERED,
    SCHEDULED,
    WAITLISTED,
    Plan,
    SessionError,
    check,
    open_seats,
    require_scheduled,
)
from bot.services.session_tickets import free_ticket
from bot.textfold import nfc
from storage.models import (
    DialogueSession,
    SessionQuestion,
    SessionRegistration,
    User,
)
from storage.repositories import (
    DialogueSessions,
    InteractionLogs,
    SessionRegistrations,
    SessionReminders,
)

# --- announcing and changing ----------------------------------------------------------------


async def announce(session: AsyncSession, plan: Plan, *, actor: str, now: datetime,
                   timezone: str) -> DialogueSession:
    """Store a new scheduled session."""
    plan.topic, plan.place = nfc(plan.topic.strip()), nfc(plan.place.strip())
    check(plan, now, timezone)
    item = DialogueSession(
        topic=plan.topic, leaders=[nfc(x.strip()) for x in plan.leaders if x.strip()],
        place=plan.place, online_link=plan.online_link or None, starts_at=plan.start,
        duration_minutes=plan.duration_minutes, capacity=plan.capacity,
        reserved=plan.reserved, reminders=list(plan.reminders or DEFAULT_REMINDERS),
        created_by=actor,
    )
    await DialogueSessions(session).save(item)
    InteractionLogs(session).admin("session_add", f"#{item.id} cap {item.capacity}", actor,
                                   now=now)
    return item


async def locked(session: AsyncSession, session_id: int) -> DialogueSession:
    """The session row, locked until the caller commits; refused when it does not exist."""
    item = await DialogueSessions(session).lock(session_id)
    if item is None:
        raise SessionError(N_("This dialogue session does not exist (any more)."))
    return item


async def reschedule(session: AsyncSession, session_id: int, *, actor: str, now: datetime,
                     timezone: str, start: datetime | None = None, place: str | None = None,
                     online_link: str | None = None, duration_minutes: int | None = None
                     ) -> int:
    """Change time or place: every registrant is told once, reminders are planned again.

    Returns how many people will be told.
    """
    item = await locked(session, session_id)
    require_scheduled(item)
    plan = Plan(topic=item.topic, start=start or item.starts_at, place=place or item.place,
                capacity=item.capacity, duration_minutes=duration_minutes or
                item.duration_minutes, reserved=item.reserved,
                online_link=item.online_link if online_link is None else online_link,
                reminders=item.reminders)
    plan.place = nfc(plan.place.strip())
    check(plan, now, timezone)
    item.starts_at, item.place, item.online_link = plan.start, plan.place, plan.online_link
    item.duration_minutes = plan.duration_minutes
    item.version += 1
    await DialogueSessions(session).save(item)
    await drop_reminders(session, item.id)
    told = 0
    for registration in await SessionRegistrations(session).with_status(item.id, *ACTIVE):
        if registration.status == REGISTERED:
            await plan_reminders(session, item, registration, now, timezone)
        told += await notices.notify(
            session, registration.user_id, f"session:{item.id}:v{item.version}:{registration.id}",
            "session_change", lambda _, loc, r=registration: notices.change_text(
                _, loc, item, r.ticket if r.status == REGISTERED else None, timezone),
            session_id=item.id,
        )
    InteractionLogs(session).admin("session_move", f"#{item.id} v{item.version}", actor, now=now)
    return told


async def cancel_session(session: AsyncSession, session_id: int, *, actor: str,
                         timezone: str) -> int:
    """Cancel the session: every registrant is told once, no reminder is sent any more."""
    item = await locked(session, session_id)
    require_scheduled(item)
    item.status = CANCELLED
    await DialogueSessions(session).save(item)
    await drop_reminders(session, item.id)
    await notices.withdraw_invitations(session, item.id, actor)
    told = 0
    for registration in await SessionRegistrations(session).with_status(item.id, *ACTIVE):
        told += await notices.notify(
            session, registration.user_id, f"session:{item.id}:cancelled:{registration.id}",
            "session_change",
            lambda _, loc: _("The dialogue session “{topic}” planned for {when} has been "
                             "cancelled. We apologise for the inconvenience.").format(
                topic=item.topic, when=format_datetime(item.starts_at, loc, timezone)),
        )
    InteractionLogs(session).admin("session_cancel", f"#{item.id}", actor)
    return told


async def set_capacity(session: AsyncSession, session_id: int, capacity: int, *, actor: str,
                       now: datetime, timezone: str, reserved: int | None = None
                       ) -> list[SessionRegistration]:
    """Change the number of seats; refused below the number registered.

    Returns the waitlisted people who got a seat thanks to the change.
    """
    item = await locked(session, session_id)
    require_scheduled(item)
    reserved = item.reserved if reserved is None else reserved
    if capacity < 1 or not 0 <= reserved < capacity:
        raise SessionError("the capacity must be at least 1 and more than the reserved seats")
    taken = (await SessionRegistrations(session).counts(item.id)).get(REGISTERED, 0)
    if capacity - reserved < taken:
        raise SessionError(
            "{taken} people are registered; the capacity cannot be lower than {least} "
            "({reserved} reserved). Ask people to cancel, or cancel their registrations first.",
            taken=taken, least=taken + reserved, reserved=reserved)
    item.capacity, item.reserved = capacity, reserved
    await DialogueSessions(session).save(item)
    InteractionLogs(session).admin("session_capacity",
                                   f"#{item.id} cap {capacity} res {reserved}", actor, now=now)
    return await _fill_seats(session, item, now, timezone)


# --- registering ----------------------------------------------------------------------------


def normal_phone(text: str) -> str | None:
    """A typed phone number in its one stored form, or None (see bot.typed.phone)."""
    return typed.phone(text)


async def register(session: AsyncSession, session_id: int, user: User, *, name: str,
                   hamlet_id: int | None, phone: str | None, now: datetime, timezone: str
                   ) -> SessionRegistration:
    """Give the user a seat, or a place on the waitlist when the seats are taken.

    The session row stays locked until the caller commits, so concurrent registrations
    are counted one after the other and never exceed the seats.
    """
    item = await locked(session, session_id)
    require_scheduled(item)
    if item.starts_at <= now:
        raise SessionError(N_("This dialogue session has already started; registration is "
                              "closed."))
    name = nfc(" ".join(name.split()))
    if not name or len(name) > MAX_NAME:
        raise SessionError(N_("Please give your full name (at most 200 characters)."))
    registrations = SessionRegistrations(session)
    registration = await registrations.of_user(item.id, user.id)
    if registration is not None and registration.status in ACTIVE:
        raise SessionError(N_("You are already registered for this session."))
    taken = (await registrations.counts(item.id)).get(REGISTERED, 0)
    waiting = await registrations.with_status(item.id, WAITLISTED)
    status = REGISTERED if taken < open_seats(item) and not waiting else WAITLISTED
    registration = registration or SessionRegistration(
        session_id=item.id, user_id=user.id, name=name, ticket=await free_ticket(session))
    registration.name, registration.hamlet_id, registration.phone = name, hamlet_id, phone
    registration.status, registration.checked_in_at = status, None
    registration.position = await registrations.last_position(item.id, status) + 1
    registration.created_at = now
    await registrations.save(registration)
    if status == REGISTERED:
        await plan_reminders(session, item, registration, now, timezone)
        await _alert_staff(session, item, timezone)
    return registration


async def cancel_registration(session: AsyncSession, registration_id: int, user: User, *,
                              now: datetime, timezone: str) -> list[SessionRegistration]:
    """Give up a seat (or a waitlist place); the first waiting person gets the seat.

    Returns the people promoted (told through the outbox).
    """
    registration = await SessionRegistrations(session).get(registration_id)
    if registration is None or registration.user_id != user.id:
        raise SessionError(N_("This registration is not yours."))
    item = await locked(session, registration.session_id)
    await session.refresh(registration)  # read again under the lock
    if registration.status not in ACTIVE:
        raise SessionError(N_("This registration was already cancelled."))
    require_scheduled(item)
    if item.starts_at <= now:
        raise SessionError(N_("This dialogue session has already started; registration is "
                              "closed."))
    had_seat = registration.status == REGISTERED
    registration.status = CANCELLED
    await SessionRegistrations(session).save(registration)
    await outbox.cancel(session, await SessionReminders(session).cancel_pending(
        item.id, registration.id))
    if not had_seat:
        return []
    return await _fill_seats(session, item, now, timezone)


async def _fill_seats(session: AsyncSession, item: DialogueSession, now: datetime,
                      timezone: str) -> list[SessionRegistration]:
    """Move waiting people onto free seats, first come first served, and tell them."""
    registrations = SessionRegistrations(session)
    free = open_seats(item) - (await registrations.counts(item.id)).get(REGISTERED, 0)
    if free <= 0 or item.starts_at <= now:
        return []
    promoted = list(await registrations.with_status(item.id, WAITLISTED))[:free]
    position = await registrations.last_position(item.id, REGISTERED)
    for registration in promoted:
        position += 1
        registration.status, registration.position = REGISTERED, position
        await registrations.save(registration)
        await plan_reminders(session, item, registration, now, timezone)
        await notices.notify(
            session, registration.user_id, f"session:{item.id}:promoted:{registration.id}:"
            f"{now:%Y%m%d%H%M%S}", "session_seat",
            lambda _, loc, r=registration: _("Good news: a seat has become free at the dialogue "
                                             "session “{topic}” ({when}) and it is now yours. "
                                             "Your ticket code: {ticket}. Please show it at the "
                                             "entrance.").format(
                topic=item.topic, when=format_datetime(item.starts_at, loc, timezone),
                ticket=r.ticket),
            session_id=item.id, attachments=notices.ticket_attachments(registration.ticket),
        )
    if promoted:
        await _alert_staff(session, item, timezone)
    return promoted


async def _alert_staff(session: AsyncSession, item: DialogueSession, timezone: str) -> int:
    counts = await SessionRegistrations(session).counts(item.id)
    return await notices.alert_staff(session, item, taken=counts.get(REGISTERED, 0),
                                     seats=open_seats(item), waiting=counts.get(WAITLISTED, 0),
                                     timezone=timezone)


# --- staff views, demo, and personal data ---------------------------------------------------


@dataclass(frozen=True)
class Seats:
    """How full a session is."""

    taken: int
    waiting: int
    open: int

    @property
    def left(self) -> int:
        """Seats still free for residents."""
        return max(0, self.open - self.taken)


async def seats(session: AsyncSession, item: DialogueSession) -> Seats:
    """The seat counts of a session."""
    counts = await SessionRegistrations(session).counts(item.id)
    return Seats(counts.get(REGISTERED, 0), counts.get(WAITLISTED, 0), open_seats(item))


async def forget_user(session: AsyncSession, user: User, *, now: datetime,
                      timezone: str) -> None:
    """"Delete my data": give up upcoming seats, then drop name and phone from every row."""
    registrations = SessionRegistrations(session)
    for registration in await registrations.of_person(user.id):
        item = await DialogueSessions(session).get(registration.session_id)
        if item and item.status == SCHEDULED and item.starts_at > now:
            await cancel_registration(session, registration.id, user, now=now,
                                      timezone=timezone)
    for registration in (await session.exec(select(SessionRegistration).where(
            SessionRegistration.user_id == user.id))).all():
        registration.user_id, registration.phone, registration.name = None, None, "—"
        session.add(registration)
    for question in (await session.exec(select(SessionQuestion).where(
            SessionQuestion.user_id == user.id))).all():
        question.user_id = None
        session.add(question)
    await session.flush()


def local_time(day: date, hhmm: str, timezone: str) -> datetime:
    """A local day and "HH:MM" as an aware datetime."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), ZoneInfo(timezone))


def grouped_by_hamlet(rows: Sequence[Any], hamlet_names: dict[int, str],
                      nowhere: str) -> dict[str, list[Any]]:
    """Rows with a `hamlet_id`, grouped by hamlet name (in the commune's order)."""
    groups: dict[str, list[Any]] = {name: [] for name in hamlet_names.values()}
    for row in rows:
        groups.setdefault(hamlet_names.get(row.hamlet_id, nowhere), []).append(row)
    return {name: found for name, found in groups.items() if found}


