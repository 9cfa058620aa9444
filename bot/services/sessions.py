"""Dialogue sessions ("Dân bàn"): announce, register within capacity, waitlist, questions,
reminders, changes, check-in and the outcome (../shared/DOMAIN.md §5).

Every change of seats locks the session row first (`DialogueSessions.lock`), so two
registrations never count the same free seat. Reminders are rows; `send_due_reminders`
turns the due ones into outbox messages, once each. Staff alerts at 80% and 100% full go
through the outbox to every staff and admin identity (bot.services.session_notices).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import N_, format_datetime, translations
from bot.services import disclosures, outbox
from bot.services import session_notices as notices
from bot.textfold import nfc
from storage.db import Database
from storage.models import (
    DialogueSession,
    InteractionLog,
    SessionQuestion,
    SessionRegistration,
    SessionReminder,
    User,
)
from storage.repositories import (
    DialogueSessions,
    InteractionLogs,
    SessionQuestions,
    SessionRegistrations,
    SessionReminders,
)

SCHEDULED, CANCELLED, CLOSED = "scheduled", "cancelled", "closed"
REGISTERED, WAITLISTED = "registered", "waitlisted"
ACTIVE = (REGISTERED, WAITLISTED)
# Ticket codes avoid characters people confuse when reading them aloud: 0/O, 1/I/L.
TICKET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TICKET_LENGTH = 8
MAX_QUESTIONS = 3
MAX_QUESTION = 1_000
MAX_TOPIC = 300
MAX_NAME = 200
NOTICE_DAYS = 7  # announced at least 7 days ahead (DOMAIN.md §5)
OUTCOME_WITHIN_DAYS = 10  # results published within 10 days
DEFAULT_REMINDERS = ("1d@08:00", "2h")
_REMINDER = re.compile(r"^(?:(\d{1,2})d@([01]\d|2[0-3]):([0-5]\d)|(\d{1,3})h|(\d{1,4})m)$")
_PHONE = re.compile(r"^\+?[0-9][0-9 .-]{7,18}[0-9]$")


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


def warnings(start: datetime, now: datetime) -> list[str]:
    """What the rules ask and this timing does not do (announced anyway; staff are told)."""
    if start - now < timedelta(days=NOTICE_DAYS):
        return [N_("The session is announced less than 7 days ahead; the law asks for at "
                   "least 7 days' notice (time, place, content, how to attend).")]
    return []


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
    _audit(session, "session_add", f"#{item.id} cap {item.capacity}", actor)
    return item


def _require_scheduled(item: DialogueSession) -> None:
    if item.status == CANCELLED:
        raise SessionError(N_("This dialogue session has been cancelled."))
    if item.status == CLOSED:
        raise SessionError(N_("This dialogue session has already taken place."))


async def _locked(session: AsyncSession, session_id: int) -> DialogueSession:
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
    item = await _locked(session, session_id)
    _require_scheduled(item)
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
    await _drop_reminders(session, item.id)
    told = 0
    for registration in await SessionRegistrations(session).with_status(item.id, *ACTIVE):
        if registration.status == REGISTERED:
            await _plan_reminders(session, item, registration, now, timezone)
        told += await notices.notify(
            session, registration.user_id, f"session:{item.id}:v{item.version}:{registration.id}",
            "session_change", lambda _, loc, r=registration: notices.change_text(
                _, loc, item, r.ticket if r.status == REGISTERED else None, timezone),
            session_id=item.id,
        )
    _audit(session, "session_move", f"#{item.id} v{item.version}", actor)
    return told


async def cancel_session(session: AsyncSession, session_id: int, *, actor: str,
                         timezone: str) -> int:
    """Cancel the session: every registrant is told once, no reminder is sent any more."""
    item = await _locked(session, session_id)
    _require_scheduled(item)
    item.status = CANCELLED
    await DialogueSessions(session).save(item)
    await _drop_reminders(session, item.id)
    told = 0
    for registration in await SessionRegistrations(session).with_status(item.id, *ACTIVE):
        told += await notices.notify(
            session, registration.user_id, f"session:{item.id}:cancelled:{registration.id}",
            "session_change",
            lambda _, loc: _("The dialogue session “{topic}” planned for {when} has been "
                             "cancelled. We apologise for the inconvenience.").format(
                topic=item.topic, when=format_datetime(item.starts_at, loc, timezone)),
        )
    _audit(session, "session_cancel", f"#{item.id}", actor)
    return told


async def set_capacity(session: AsyncSession, session_id: int, capacity: int, *, actor: str,
                       now: datetime, timezone: str, reserved: int | None = None
                       ) -> list[SessionRegistration]:
    """Change the number of seats; refused below the number registered.

    Returns the waitlisted people who got a seat thanks to the change.
    """
    item = await _locked(session, session_id)
    _require_scheduled(item)
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
    _audit(session, "session_capacity", f"#{item.id} cap {capacity} res {reserved}", actor)
    return await _fill_seats(session, item, now, timezone)


# --- registering ----------------------------------------------------------------------------


def new_ticket() -> str:
    """A random ticket code of 8 characters from the unambiguous alphabet."""
    return "".join(secrets.choice(TICKET_ALPHABET) for _ in range(TICKET_LENGTH))


def normal_ticket(text: str) -> str:
    """A typed ticket code as stored: upper case, without spaces or dashes."""
    return re.sub(r"[\s\-.]", "", text).upper()


def normal_phone(text: str) -> str | None:
    """A typed phone number, tidied, or None when it does not look like one."""
    text = text.strip()
    return re.sub(r"[ .-]", "", text) if _PHONE.match(text) else None


async def _free_ticket(session: AsyncSession) -> str:
    registrations = SessionRegistrations(session)
    while True:
        ticket = new_ticket()
        if await registrations.by_ticket(ticket) is None:
            return ticket


async def register(session: AsyncSession, session_id: int, user: User, *, name: str,
                   hamlet_id: int | None, phone: str | None, now: datetime, timezone: str
                   ) -> SessionRegistration:
    """Give the user a seat, or a place on the waitlist when the seats are taken.

    The session row stays locked until the caller commits, so concurrent registrations
    are counted one after the other and never exceed the seats.
    """
    item = await _locked(session, session_id)
    _require_scheduled(item)
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
        session_id=item.id, user_id=user.id, name=name, ticket=await _free_ticket(session))
    registration.name, registration.hamlet_id, registration.phone = name, hamlet_id, phone
    registration.status, registration.checked_in_at = status, None
    registration.position = await registrations.last_position(item.id, status) + 1
    registration.created_at = now
    await registrations.save(registration)
    if status == REGISTERED:
        await _plan_reminders(session, item, registration, now, timezone)
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
    item = await _locked(session, registration.session_id)
    await session.refresh(registration)  # read again under the lock
    if registration.status not in ACTIVE:
        raise SessionError(N_("This registration was already cancelled."))
    _require_scheduled(item)
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
        await _plan_reminders(session, item, registration, now, timezone)
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


# --- questions ------------------------------------------------------------------------------


async def add_question(session: AsyncSession, registration: SessionRegistration, text: str,
                       *, now: datetime) -> SessionQuestion:
    """Store a question sent in advance (at most 3 per registrant, 1,000 characters each)."""
    item = await DialogueSessions(session).get(registration.session_id)
    _require_scheduled(item)
    if registration.status not in ACTIVE:
        raise SessionError(N_("Only people registered for the session can send questions."))
    text = nfc(text.strip())
    if not text:
        raise SessionError(N_("Please type your question as text."))
    if len(text) > MAX_QUESTION:
        raise SessionError(N_("Your question has {count} characters; please shorten it to "
                              "1,000."), count=len(text))
    questions = SessionQuestions(session)
    if len(await questions.of_registration(registration.id)) >= MAX_QUESTIONS:
        raise SessionError(N_("You have already sent 3 questions, the most allowed. You can "
                              "withdraw one to send another."))
    return await questions.add(SessionQuestion(
        session_id=registration.session_id, registration_id=registration.id,
        user_id=registration.user_id, hamlet_id=registration.hamlet_id, text=text,
        created_at=now))


async def withdraw_question(session: AsyncSession, question_id: int, user: User, *,
                            now: datetime) -> SessionQuestion:
    """Withdraw one of my questions."""
    question = await SessionQuestions(session).get(question_id)
    if question is None or question.user_id != user.id:
        raise SessionError(N_("This question is not yours."))
    if question.status != "active":
        raise SessionError(N_("This question was already withdrawn."))
    question.status, question.withdrawn_at = "withdrawn", now
    session.add(question)
    await session.flush()
    return question


# --- the day: check-in and outcome ----------------------------------------------------------


async def check_in(session: AsyncSession, ticket: str, *, now: datetime, timezone: str,
                   session_id: int | None = None) -> SessionRegistration:
    """Mark attendance for a ticket code; a code works once."""
    code = normal_ticket(ticket)
    registration = await SessionRegistrations(session).by_ticket(code) if (
        len(code) == TICKET_LENGTH) else None
    if registration is None or (session_id and registration.session_id != session_id):
        raise SessionError(N_("No ticket {code} for this session. Please check the code: it has "
                              "8 characters and never contains 0, O, 1, I or L."), code=code[:12])
    name = registration.name
    if registration.checked_in_at is not None:
        at = registration.checked_in_at.astimezone(ZoneInfo(timezone))
        raise SessionError(N_("Ticket {code} was already used at {at} ({name})."), code=code,
                           at=f"{at:%H:%M %d/%m/%Y}", name=name)
    if registration.status == WAITLISTED:
        raise SessionError(N_("Ticket {code} is on the waiting list and has no seat ({name})."),
                           code=code, name=name)
    if registration.status != REGISTERED:
        raise SessionError(N_("Ticket {code} was cancelled ({name})."), code=code, name=name)
    item = await DialogueSessions(session).get(registration.session_id)
    if item is not None and item.status == CANCELLED:
        raise SessionError(N_("This dialogue session has been cancelled."))
    registration.checked_in_at = now
    await SessionRegistrations(session).save(registration)
    return registration


async def close(session: AsyncSession, session_id: int, outcome: str, *, actor: str,
                now: datetime, timezone: str, locale: str = "vi"
                ) -> tuple[int, DialogueSession]:
    """Publish the outcome: registrants and askers are told; it becomes a disclosure (item 11).

    Returns how many people will be told, and the session.
    """
    item = await _locked(session, session_id)
    _require_scheduled(item)
    outcome = nfc(outcome.strip())
    if not outcome:
        raise SessionError("the outcome text is empty")
    if item.starts_at > now:
        raise SessionError("the session has not taken place yet (it starts {at})",
                           at=format_datetime(item.starts_at, "en", timezone))
    _ = translations(locale).gettext
    published = await disclosures.publish(session, disclosures.Draft(
        category=11, title=_("Outcome of the dialogue session: {topic}").format(
            topic=item.topic)[:disclosures.MAX_TITLE],
        body=outcome, decided_on=item.starts_at.astimezone(ZoneInfo(timezone)).date(),
    ), actor=actor, now=now, timezone=timezone)
    item.status, item.outcome, item.outcome_at = CLOSED, outcome, now
    item.outcome_disclosure_id = published.id
    await DialogueSessions(session).save(item)
    await _drop_reminders(session, item.id)
    people = {r.user_id for r in await SessionRegistrations(session).with_status(
        item.id, *ACTIVE)}
    people |= {q.user_id for q in await SessionQuestions(session).of_session(item.id)}
    told = 0
    for user_id in sorted(p for p in people if p is not None):
        told += await notices.notify(
            session, user_id, f"session:{item.id}:outcome:{user_id}", "session_outcome",
            lambda _, loc: _("The outcome of the dialogue session “{topic}” has been published, "
                             "with the answers to the questions sent in advance.").format(
                topic=item.topic),
            session_id=item.id,
        )
    _audit(session, "session_close", f"#{item.id} disclosure #{published.id}", actor)
    return told, item


def late_outcome(item: DialogueSession, now: datetime) -> bool:
    """True when the outcome comes later than the 10 days the rules ask for."""
    return now - item.starts_at > timedelta(days=OUTCOME_WITHIN_DAYS)


# --- reminders ------------------------------------------------------------------------------


async def _plan_reminders(session: AsyncSession, item: DialogueSession,
                          registration: SessionRegistration, now: datetime,
                          timezone: str) -> None:
    reminders = SessionReminders(session)
    for spec in item.reminders:
        due = reminder_due(spec, item.starts_at, timezone)
        if now < due < item.starts_at:
            reminders.add(SessionReminder(session_id=item.id, registration_id=registration.id,
                                          kind=spec, due_at=due))
    await session.flush()


async def _drop_reminders(session: AsyncSession, session_id: int) -> None:
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


DEMO = (  # (days ahead, local time, topic, leaders, place, capacity)
    (10, "08:00", "Đối thoại về quy hoạch khu dân cư mới và đường liên thôn",
     ["Chủ tịch UBND xã", "Chủ tịch Ủy ban MTTQ xã"], "Hội trường UBND xã", 60),
    (14, "14:00", "Đối thoại với thanh niên về việc làm và học nghề",
     ["Phó Chủ tịch UBND xã"], "Nhà văn hóa khu Hòa Bình", 2),
)


async def load_demo(session: AsyncSession, *, now: datetime, timezone: str,
                    actor: str) -> int:
    """Announce the demo sessions relative to `now` (one with 2 seats, to try the waitlist)."""
    for days, at, topic, leaders, place, capacity in DEMO:
        day = now.astimezone(ZoneInfo(timezone)).date() + timedelta(days=days)
        await announce(session, Plan(topic=topic, start=local_time(day, at, timezone),
                                     place=place, capacity=capacity, leaders=list(leaders)),
                       actor=actor, now=now, timezone=timezone)
    return len(DEMO)


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


def _audit(session: AsyncSession, kind: str, text: str, actor: str) -> None:
    InteractionLogs(session).append(
        InteractionLog(channel=actor.partition(":")[0][:20] or "cli", direction="admin",
                       kind=kind, text=text, actor=actor)
    )
