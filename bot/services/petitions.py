"""Petitions ("Dân kiểm tra, giám sát"): settings, reading, status changes, answers, ratings.

A chat submission is the reception of information (tiếp nhận thông tin), not the legal
filing of a complaint or denunciation: those need a signed petition (../shared/DOMAIN.md
§4.2), and the bot says so. Deadlines come from bot.services.petition_rules, statuses and
tracking codes from petition_statuses; new petitions are taken in by petition_intake. A
denouncer's identity is stored apart (PetitionIdentity) and never put in staff chats, exports
or logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import N_, translations
from bot.services import petition_notices
from bot.services import petition_rules as rules
from bot.services.petition_statuses import (
    ACCEPTED,
    ANSWERED,
    CLOSED,
    DENUNCIATION,
    FEEDBACK,
    NEEDS_REASON,
    OPEN,
    REOPENED,
    TRANSITIONS,
    moves,
    normal_code,
)
from bot.textfold import nfc
from bot.workdays import Calendar
from storage.models import (
    Commune,
    Petition,
    PetitionEvent,
    PetitionIdentity,
    User,
)
from storage.repositories import InteractionLogs

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
REOPEN_DAYS = 7
DAILY_LIMIT = 5


class PetitionError(ValueError):
    """A petition action that cannot be done; `code` says which rule refused it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


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
            calendar=Calendar.of_commune(commune),
            rules=table,
        )

    def field_label(self, code: str, locale: str) -> str:
        """A field's name in a language (the commune's own names are shown as written)."""
        label = dict(self.fields).get(code) or dict(DEFAULT_FIELDS).get(code, code)
        return translations(locale).gettext(label)


def local_day(moment: datetime, timezone: str) -> date:
    """The calendar day of a moment in the commune's time zone."""
    return moment.astimezone(ZoneInfo(timezone)).date()


# --- reading ------------------------------------------------------------------------------


async def by_code(session: AsyncSession, code: str) -> Petition | None:
    """The petition with this tracking code (any case, spaces ignored), or None."""
    query = select(Petition).where(Petition.code == normal_code(code))
    return (await session.exec(query)).first()


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
    """The filer's identity: a denouncer's only for the investigator role (Luật Tố cáo Art. 9);
    none for anonymous feedback."""
    if petition.kind == DENUNCIATION and "investigator" not in roles:
        raise PetitionError("secret", "only an investigator may see a denouncer's identity")
    if petition.anonymous:
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


async def count_open(session: AsyncSession) -> int:
    """How many petitions wait for staff (received, accepted, being handled, reopened)."""
    query = select(sa.func.count()).select_from(Petition).where(col(Petition.status).in_(OPEN))
    return (await session.exec(query)).one()


# --- staff actions ------------------------------------------------------------------------


async def change_status(session: AsyncSession, petition: Petition, status: str, *, actor: str,
                        now: datetime, timezone: str, settings: Settings,
                        reason: str | None = None) -> Petition:
    """Move a petition to `status` if the rules allow; the resident is told."""
    if status not in TRANSITIONS:
        raise PetitionError("status", f"unknown status {status!r}")
    if status not in moves(petition.kind, petition.status):
        raise PetitionError("transition", f"cannot go from {petition.status} to {status}")
    if status in NEEDS_REASON and not (reason or "").strip():
        raise PetitionError("reason", f"a reason is required for {status}")
    if status == ACCEPTED and petition.kind != FEEDBACK:
        resolve_rule = rules.rule_for(petition.kind, rules.RESOLVE,
                                      local_day(petition.received_at, timezone), settings.rules)
        petition.answer_due = rules.due_date(
            resolve_rule, local_day(now, timezone), settings.calendar,
            complex_case=petition.complex_case, remote=petition.remote_area)
    if status == REOPENED:  # looked at again: the answer period starts anew
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
    """Give the official answer (status "answered"); the resident gets it on their channel.

    The answer moves the status itself where the law allows: feedback may be answered from
    any open status, straight from "received" (answering is handling it); a complaint or a
    denunciation only once accepted (thụ lý: accepted, being verified, or reopened), since
    the law asks for a decision to accept before a conclusion. Anything else is refused
    with PetitionError("transition").
    """
    if ANSWERED not in moves(petition.kind, petition.status):
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
    was_due = petition.answer_due
    if accepted and petition.kind != FEEDBACK:
        resolve_rule = rules.rule_for(petition.kind, rules.RESOLVE,
                                      local_day(petition.received_at, timezone), settings.rules)
        petition.answer_due = rules.due_date(
            resolve_rule, local_day(accepted.at, timezone), settings.calendar,
            complex_case=petition.complex_case, remote=petition.remote_area)
    note = f"complex={petition.complex_case} remote={petition.remote_area}"
    await _record(session, petition, now, actor, "flag", None, note)
    if petition.answer_due != was_due and petition.status in OPEN:
        await petition_notices.notify_resident(session, petition, timezone, extended=True)
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
    InteractionLogs(session).admin(f"petition_{kind}", f"{petition.code} {status or ''}".strip(),
                                   actor, now=now)


