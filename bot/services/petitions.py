"""Petitions ("Dân kiểm tra, giám sát"): intake, tracking codes, deadlines, status, answers.

A chat submission is the reception of information (tiếp nhận thông tin), not the legal
filing of a complaint or denunciation: those need a signed petition (../shared/DOMAIN.md
§4.2), and the bot says so. Deadlines come from bot.services.petition_rules. A denouncer's
identity is stored apart (PetitionIdentity) and never put in staff chats, exports or logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import N_, translations
from bot.services import petition_notices
from bot.services import petition_rules as rules
from bot.textfold import fold, nfc
from bot.workdays import Calendar
from storage.models import (
    Commune,
    InteractionLog,
    Petition,
    PetitionEvent,
    PetitionIdentity,
    User,
)
from storage.repositories import InteractionLogs

FEEDBACK, COMPLAINT, DENUNCIATION = rules.FEEDBACK, rules.COMPLAINT, rules.DENUNCIATION
PREFIXES = {FEEDBACK: "PA", COMPLAINT: "KN", DENUNCIATION: "TC"}
KIND_LABELS = {
    FEEDBACK: N_("Feedback or recommendation"),
    COMPLAINT: N_("Complaint"),
    DENUNCIATION: N_("Denunciation"),
}
DEFAULT_FIELDS = (
    ("roads", N_("Roads and traffic")),
    ("lighting", N_("Street lighting")),
    ("environment", N_("Environment and waste")),
    ("land", N_("Land and construction")),
    ("social", N_("Social policies")),
    ("security", N_("Security and order")),
    ("procedures", N_("Administrative procedures")),
    ("other", N_("Other")),
)

RECEIVED, ACCEPTED, FORWARDED, REFUSED = "received", "accepted", "forwarded", "refused"
IN_PROGRESS, ANSWERED, CLOSED, REOPENED = "in_progress", "answered", "closed", "reopened"
# Plain words for residents, and the legal step each status stands for (DOMAIN.md §4.1).
STATUS_LABELS = {
    RECEIVED: N_("Received"),
    ACCEPTED: N_("Accepted for handling"),
    FORWARDED: N_("Forwarded to the competent body"),
    REFUSED: N_("Not accepted"),
    IN_PROGRESS: N_("Being looked into"),
    ANSWERED: N_("Answered"),
    CLOSED: N_("Closed"),
    REOPENED: N_("Reopened at your request"),
}
LEGAL_STEPS = {
    RECEIVED: N_("reception (tiếp nhận)"),
    ACCEPTED: N_("acceptance (thụ lý)"),
    FORWARDED: N_("transfer (chuyển đơn)"),
    REFUSED: N_("non-acceptance (không thụ lý)"),
    IN_PROGRESS: N_("verification (xác minh)"),
    ANSWERED: N_("conclusion and answer (kết luận, trả lời)"),
    CLOSED: N_("end of handling (kết thúc)"),
    REOPENED: N_("request for review (đề nghị xem xét lại)"),
}
TRANSITIONS = {
    RECEIVED: {ACCEPTED, FORWARDED, REFUSED},
    ACCEPTED: {IN_PROGRESS, ANSWERED},
    IN_PROGRESS: {ANSWERED},
    ANSWERED: {CLOSED, REOPENED},
    REOPENED: {IN_PROGRESS, ANSWERED},
    FORWARDED: {CLOSED},
    REFUSED: {CLOSED},
    CLOSED: set(),
}
NEEDS_REASON = {FORWARDED, REFUSED, REOPENED}
OPEN = (RECEIVED, ACCEPTED, IN_PROGRESS, REOPENED)
MAX_DESCRIPTION = 4000
MIN_DESCRIPTION = 10
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
REOPEN_DAYS = 7
DAILY_LIMIT = 5
SIMILAR_DAYS = 30


class PetitionError(ValueError):
    """A petition action that cannot be done; `code` says which rule refused it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Identity:
    """Who files a complaint or denunciation (not needed for feedback)."""

    full_name: str
    address: str
    phone: str | None = None


@dataclass
class Intake:
    """What a resident gives, before it becomes a petition."""

    kind: str
    field: str
    description: str
    hamlet_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    anonymous: bool = False
    identity: Identity | None = None


@dataclass(frozen=True)
class Settings:
    """The commune's petition settings (commune file [petitions] and [calendar])."""

    daily_limit: int
    fields: tuple[tuple[str, str], ...]  # (code, label: a msgid or the commune's own words)
    calendar: Calendar
    rules: tuple[rules.Rule, ...]

    @classmethod
    def of(cls, commune: Commune | None) -> Settings:
        """Read the settings from the commune row (defaults when absent)."""
        options = commune.options if commune else {}
        petitions = options.get("petitions", {})
        calendar = options.get("calendar", {})
        table = rules.RULES
        if "feedback_answer_days" in petitions:
            table = tuple(
                rules.Rule(r.kind, r.clock, petitions["feedback_answer_days"], r.working,
                           r.effective_from, r.basis)
                if (r.kind, r.clock) == (FEEDBACK, rules.RESOLVE) else r
                for r in table
            )
        fields = tuple((f["code"], f["name"]) for f in petitions.get("fields", ()))
        return cls(
            daily_limit=petitions.get("daily_limit", DAILY_LIMIT),
            fields=fields or DEFAULT_FIELDS,
            calendar=Calendar.of(
                (date.fromisoformat(d) for d in calendar.get("days_off", ())),
                (date.fromisoformat(d) for d in calendar.get("make_up_days", ())),
            ),
            rules=table,
        )

    def field_label(self, code: str, locale: str) -> str:
        """A field's name in a language (the commune's own names are shown as written)."""
        label = dict(self.fields).get(code) or dict(DEFAULT_FIELDS).get(code, code)
        return translations(locale).gettext(label)


def local_day(moment: datetime, timezone: str) -> date:
    """The calendar day of a moment in the commune's time zone."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def _day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    start = datetime.combine(day, datetime.min.time(), ZoneInfo(timezone))
    return start, start + timedelta(days=1)


# --- intake -------------------------------------------------------------------------------


async def sent_today(session: AsyncSession, user_id: int, now: datetime, timezone: str) -> int:
    """How many petitions a person sent on the current local day."""
    start, end = _day_bounds(local_day(now, timezone), timezone)
    query = select(sa.func.count()).select_from(Petition).where(
        Petition.user_id == user_id, col(Petition.received_at) >= start,
        col(Petition.received_at) < end,
    )
    return (await session.exec(query)).one()


def check(intake: Intake, settings: Settings) -> None:
    """Refuse an intake that cannot become a petition."""
    if intake.kind not in PREFIXES:
        raise PetitionError("kind", f"unknown petition type {intake.kind!r}")
    if intake.field not in dict(settings.fields):
        raise PetitionError("field", f"unknown field {intake.field!r}")
    text = intake.description.strip()
    if len(text) < MIN_DESCRIPTION:
        raise PetitionError("short", "the description is too short")
    if len(text) > MAX_DESCRIPTION:
        raise PetitionError("long", f"the description is longer than {MAX_DESCRIPTION}")
    if len(intake.attachments) > MAX_ATTACHMENTS:
        raise PetitionError("attachments", f"at most {MAX_ATTACHMENTS} attachments")
    if intake.kind != FEEDBACK:
        if intake.anonymous:
            raise PetitionError("anonymous", "complaints and denunciations cannot be anonymous")
        identity = intake.identity
        if identity is None or not identity.full_name.strip() or not identity.address.strip():
            raise PetitionError("identity", "full name and address are required")


async def submit(session: AsyncSession, intake: Intake, user: User, *, now: datetime,
                 timezone: str, settings: Settings) -> Petition:
    """Store a new petition with its tracking code and deadlines; staff are told.

    Raises PetitionError("limit") past the daily limit. Nothing is committed here.
    """
    check(intake, settings)
    if await sent_today(session, user.id, now, timezone) >= settings.daily_limit:
        raise PetitionError("limit", "daily limit reached")
    received = local_day(now, timezone)
    accept_rule = rules.rule_for(intake.kind, rules.ACCEPT, received, settings.rules)
    resolve_rule = rules.rule_for(intake.kind, rules.RESOLVE, received, settings.rules)
    accept_due = rules.due_date(accept_rule, received, settings.calendar)
    start = received if intake.kind == FEEDBACK else accept_due  # projected until accepted
    petition = Petition(
        kind=intake.kind, field=intake.field, hamlet_id=intake.hamlet_id,
        latitude=intake.latitude, longitude=intake.longitude,
        address=nfc(intake.address.strip()) if intake.address else None,
        description=nfc(intake.description.strip()), attachments=intake.attachments,
        user_id=user.id, anonymous=intake.anonymous and intake.kind == FEEDBACK,
        received_at=now, accept_due=accept_due,
        answer_due=rules.due_date(resolve_rule, start, settings.calendar),
        rules_version=f"{accept_rule.version};{resolve_rule.version}",
    )
    session.add(petition)
    await session.flush()
    petition.code = f"{PREFIXES[intake.kind]}-{received.year}-{petition.id:06d}"
    if intake.identity and intake.kind != FEEDBACK:
        session.add(PetitionIdentity(
            petition_id=petition.id, full_name=nfc(intake.identity.full_name.strip()),
            address=nfc(intake.identity.address.strip()), phone=intake.identity.phone,
        ))
    session.add(PetitionEvent(petition_id=petition.id, at=now, actor="resident",
                              kind="status", status=RECEIVED))
    await session.flush()
    _audit(session, user.channel, "petition_received", f"{petition.code}", "resident")
    await petition_notices.notify_staff(session, petition, settings, timezone, new=True)
    return petition


def _words(text: str) -> set[str]:
    return {w for w in fold(text).replace(",", " ").replace(".", " ").split() if len(w) > 2}


async def similar_open(session: AsyncSession, intake: Intake, *, now: datetime
                       ) -> Petition | None:
    """An open petition of the last 30 days on the same field and hamlet with similar words."""
    if intake.hamlet_id is None:
        return None
    query = select(Petition).where(
        Petition.field == intake.field, Petition.hamlet_id == intake.hamlet_id,
        col(Petition.status).in_(OPEN), Petition.kind == FEEDBACK,
        col(Petition.received_at) >= now - timedelta(days=SIMILAR_DAYS),
    ).order_by(col(Petition.id).desc()).limit(50)
    mine = _words(intake.description)
    best, best_score = None, 0.0
    for petition in (await session.exec(query)).all():
        theirs = _words(petition.description)
        if not mine or not theirs:
            continue
        common = len(mine & theirs)
        score = common / min(len(mine), len(theirs))
        if common >= 2 and score >= 0.4 and score > best_score:
            best, best_score = petition, score
    return best


# --- reading ------------------------------------------------------------------------------


async def by_code(session: AsyncSession, code: str) -> Petition | None:
    """The petition with this tracking code (any case, spaces ignored), or None."""
    cleaned = "".join(code.split()).upper()
    return (await session.exec(select(Petition).where(Petition.code == cleaned))).first()


async def of_user(session: AsyncSession, user_id: int, limit: int = 30) -> Sequence[Petition]:
    """A person's petitions, newest first."""
    query = (select(Petition).where(Petition.user_id == user_id)
             .order_by(col(Petition.id).desc()).limit(limit))
    return (await session.exec(query)).all()


async def timeline(session: AsyncSession, petition_id: int) -> Sequence[PetitionEvent]:
    """A petition's events, oldest first."""
    query = (select(PetitionEvent).where(PetitionEvent.petition_id == petition_id)
             .order_by(PetitionEvent.id))
    return (await session.exec(query)).all()


async def identity_of(session: AsyncSession, petition: Petition, roles: set[str]
                      ) -> PetitionIdentity | None:
    """The filer's identity: a denouncer's only for the investigator role (Luật Tố cáo Art. 9)."""
    if petition.kind == DENUNCIATION and "investigator" not in roles:
        raise PetitionError("secret", "only an investigator may see a denouncer's identity")
    if petition.kind == FEEDBACK:
        return None
    query = select(PetitionIdentity).where(PetitionIdentity.petition_id == petition.id)
    return (await session.exec(query)).first()


async def listing(session: AsyncSession, *, statuses: Sequence[str] = (),
                  due_by: date | None = None, limit: int = 100) -> Sequence[Petition]:
    """Petitions for staff, by due date: optionally only some statuses or due by a day."""
    query = select(Petition)
    if statuses:
        query = query.where(col(Petition.status).in_(statuses))
    if due_by is not None:
        query = query.where(col(Petition.answer_due) <= due_by)
    return (await session.exec(query.order_by(Petition.answer_due, Petition.id).limit(limit))
            ).all()


# --- staff actions ------------------------------------------------------------------------


async def change_status(session: AsyncSession, petition: Petition, status: str, *, actor: str,
                        now: datetime, timezone: str, settings: Settings,
                        reason: str | None = None) -> Petition:
    """Move a petition to `status` if the rules allow; the resident is told."""
    if status not in TRANSITIONS:
        raise PetitionError("status", f"unknown status {status!r}")
    if status not in TRANSITIONS[petition.status]:
        raise PetitionError("transition", f"cannot go from {petition.status} to {status}")
    if status in NEEDS_REASON and not (reason or "").strip():
        raise PetitionError("reason", f"a reason is required for {status}")
    if status == ACCEPTED and petition.kind != FEEDBACK:
        resolve_rule = rules.rule_for(petition.kind, rules.RESOLVE,
                                      local_day(petition.received_at, timezone), settings.rules)
        petition.answer_due = rules.due_date(
            resolve_rule, local_day(now, timezone), settings.calendar,
            complex_case=petition.complex_case, remote=petition.remote_area)
    petition.status = status
    if status == CLOSED:
        petition.closed_at = now
    await _record(session, petition, now, actor, "status", status, reason)
    await petition_notices.notify_resident(session, petition, timezone, note=reason)
    return petition


async def answer(session: AsyncSession, petition: Petition, text: str, *, actor: str,
                 now: datetime, timezone: str, files: Sequence[dict[str, Any]] = ()
                 ) -> Petition:
    """Give the official answer (status "answered"); the resident gets it on their channel."""
    if ANSWERED not in TRANSITIONS[petition.status]:
        raise PetitionError("transition", f"cannot answer a petition that is {petition.status}")
    if not text.strip():
        raise PetitionError("empty", "the answer is empty")
    petition.answer, petition.answered_at = nfc(text.strip()), now
    petition.answer_files = list(files)
    petition.status = ANSWERED
    await _record(session, petition, now, actor, "answer", ANSWERED, None)
    await petition_notices.notify_resident(session, petition, timezone, answer=True)
    return petition


async def assign(session: AsyncSession, petition: Petition, assignee: str, *, actor: str,
                 now: datetime) -> Petition:
    """Give the petition to a staff member."""
    petition.assignee = assignee.strip()[:120] or None
    await _record(session, petition, now, actor, "assign", None, petition.assignee)
    return petition


async def set_flags(session: AsyncSession, petition: Petition, *, actor: str, now: datetime,
                    timezone: str, settings: Settings, complex_case: bool | None = None,
                    remote: bool | None = None) -> Petition:
    """Mark a case complex or in a remote area; an accepted case's deadline is recomputed."""
    if complex_case is not None:
        petition.complex_case = complex_case
    if remote is not None:
        petition.remote_area = remote
    accepted = next((e for e in await timeline(session, petition.id) if e.status == ACCEPTED),
                    None)
    if accepted and petition.kind != FEEDBACK:
        resolve_rule = rules.rule_for(petition.kind, rules.RESOLVE,
                                      local_day(petition.received_at, timezone), settings.rules)
        petition.answer_due = rules.due_date(
            resolve_rule, local_day(accepted.at, timezone), settings.calendar,
            complex_case=petition.complex_case, remote=petition.remote_area)
    note = f"complex={petition.complex_case} remote={petition.remote_area}"
    await _record(session, petition, now, actor, "flag", None, note)
    return petition


# --- resident actions after the answer ----------------------------------------------------


async def rate(session: AsyncSession, petition: Petition, user: User, stars: int, *,
               now: datetime) -> Petition:
    """The resident's rating of the answer, 1 to 5 (may be changed)."""
    if petition.user_id != user.id:
        raise PetitionError("owner", "not your petition")
    if petition.status not in (ANSWERED, CLOSED) or petition.answer is None:
        raise PetitionError("unanswered", "there is no answer to rate yet")
    if not 1 <= stars <= 5:
        raise PetitionError("stars", "a rating is 1 to 5")
    petition.rating = stars
    await _record(session, petition, now, "resident", "rating", None, str(stars))
    return petition


def can_reopen(petition: Petition, now: datetime) -> bool:
    """Within 7 days of the answer, an answered petition may be reopened by its sender."""
    return (petition.status == ANSWERED and petition.answered_at is not None
            and now - petition.answered_at <= timedelta(days=REOPEN_DAYS))


async def reopen(session: AsyncSession, petition: Petition, user: User, reason: str, *,
                 now: datetime, timezone: str, settings: Settings) -> Petition:
    """The resident asks to look again; staff are told."""
    if petition.user_id != user.id:
        raise PetitionError("owner", "not your petition")
    if not can_reopen(petition, now):
        raise PetitionError("reopen", "too late to reopen, or not answered")
    await change_status(session, petition, REOPENED, actor="resident", now=now,
                        timezone=timezone, settings=settings, reason=reason)
    await petition_notices.notify_staff(session, petition, settings, timezone, new=False)
    return petition


async def _record(session: AsyncSession, petition: Petition, now: datetime, actor: str,
                  kind: str, status: str | None, note: str | None) -> None:
    petition.updated_at = now
    session.add(petition)
    session.add(PetitionEvent(petition_id=petition.id, at=now, actor=actor, kind=kind,
                              status=status, note=note))
    await session.flush()
    _audit(session, actor.partition(":")[0] or "cli", f"petition_{kind}",
           f"{petition.code} {status or ''}".strip(), actor)


def _audit(session: AsyncSession, channel: str, kind: str, text: str, actor: str) -> None:
    InteractionLogs(session).append(InteractionLog(
        channel=channel[:20], direction="admin", kind=kind, text=text, actor=actor))
