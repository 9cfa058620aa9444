"""A person's rights over their data (PDPL 2025, Decree 356/2025): see it all, correct it,
withdraw consent, delete it.

`gather` reads everything kept about one channel identity; `write_file` turns it into the
file sent through the outbox. A withdrawal is recorded as a new consent row (granted
false, with the notice version and time): consent records are proof and are never deleted.
Petitions stay with the commune (laws on complaints, denunciations and archives) and stay
linked, so their answers still reach the sender.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import retention
from bot.services import sessions as session_service
from bot.services.petition_statuses import FEEDBACK
from storage.models import (
    Consent,
    DialogueSession,
    Disclosure,
    DisclosureComment,
    OutboxMessage,
    Petition,
    PetitionIdentity,
    SessionQuestion,
    SessionRegistration,
    User,
)
from storage.repositories import Consents, DisclosureComments, Hamlets, Subscriptions

PRIVACY = "privacy_notice"
NOTIFICATIONS = "notifications"


@dataclass
class PersonalData:
    """Everything kept about one channel identity, as plain values."""

    profile: dict[str, Any]
    consents: list[dict[str, Any]] = field(default_factory=list)
    follows: list[str] = field(default_factory=list)
    petitions: list[dict[str, Any]] = field(default_factory=list)
    registrations: list[dict[str, Any]] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)


def _at(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


async def gather(session: AsyncSession, user: User) -> PersonalData:
    """Read everything kept about `user` (the rows linked to them and their messages)."""
    hamlet = await Hamlets(session).get(user.hamlet_id)
    data = PersonalData(profile={
        "channel": user.channel, "account_id": user.external_id, "language": user.locale,
        "hamlet": hamlet.name if hamlet else None, "name": user.display_name,
        "phone": user.phone, "first_contact": _at(user.created_at),
        "consent_version": user.consent_version, "consent_at": _at(user.consent_at),
    })
    data.consents = [{"purpose": c.purpose, "version": c.version, "granted": c.granted,
                      "withdrawal": withdrawal, "channel": c.channel, "at": _at(c.at)}
                     for c, withdrawal in _with_withdrawals(await Consents(session).of_user(
                         user.id))]
    data.follows = sorted(await Subscriptions(session).topics_of(user.id))
    petitions = (await session.exec(select(Petition).where(Petition.user_id == user.id)
                                    .order_by(col(Petition.id)))).all()
    for petition in petitions:
        identity = (await session.exec(select(PetitionIdentity).where(
            PetitionIdentity.petition_id == petition.id))).first()
        data.petitions.append({
            "code": petition.code, "kind": petition.kind, "field": petition.field,
            "status": petition.status, "received_at": _at(petition.received_at),
            "address": petition.address, "description": petition.description,
            "anonymous": petition.anonymous, "answer": petition.answer,
            "rating": petition.rating,
            "identity": ({"full_name": identity.full_name, "address": identity.address,
                          "phone": identity.phone} if identity else None),
        })
    rows = (await session.exec(
        select(SessionRegistration, DialogueSession)
        .join(DialogueSession, col(DialogueSession.id) == col(SessionRegistration.session_id))
        .where(SessionRegistration.user_id == user.id).order_by(col(SessionRegistration.id))
    )).all()
    data.registrations = [{"session": item.topic, "starts_at": _at(item.starts_at),
                           "status": reg.status, "ticket": reg.ticket, "name": reg.name,
                           "phone": reg.phone, "checked_in_at": _at(reg.checked_in_at)}
                          for reg, item in rows]
    questions = (await session.exec(
        select(SessionQuestion, DialogueSession)
        .join(DialogueSession, col(DialogueSession.id) == col(SessionQuestion.session_id))
        .where(SessionQuestion.user_id == user.id).order_by(col(SessionQuestion.id))
    )).all()
    data.questions = [{"session": item.topic, "text": q.text, "status": q.status,
                       "at": _at(q.created_at)} for q, item in questions]
    comments = (await session.exec(
        select(DisclosureComment, Disclosure)
        .join(Disclosure, col(Disclosure.id) == col(DisclosureComment.disclosure_id))
        .where(DisclosureComment.user_id == user.id).order_by(col(DisclosureComment.id))
    )).all()
    data.comments = [{"on": item.title, "text": c.text, "at": _at(c.created_at)}
                     for c, item in comments]
    notices = (await session.exec(
        select(OutboxMessage).where(OutboxMessage.channel == user.channel,
                                    OutboxMessage.chat_id == user.external_id)
        .order_by(col(OutboxMessage.id))
    )).all()
    data.notices = [{"kind": n.kind, "status": n.status, "at": _at(n.sent_at or n.created_at),
                     "text": n.text or None} for n in notices]
    return data


def _with_withdrawals(consents: Any) -> list[tuple[Consent, bool]]:
    """Each decision, marked when it takes back an earlier agreement to the same thing."""
    agreed: set[tuple[str, str]] = set()
    marked = []
    for consent in consents:
        key = (consent.purpose, consent.version if consent.purpose != PRIVACY else "")
        marked.append((consent, not consent.granted and key in agreed))
        (agreed.add if consent.granted else agreed.discard)(key)
    return marked


def write_file(data: PersonalData, path: Path) -> Path:
    """The data as a JSON file (UTF-8, readable and machine-readable), written whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(asdict(data), ensure_ascii=False, indent=2),
                       encoding="utf-8")
    partial.replace(path)
    return path


def personal_folder(data_dir: Path) -> Path:
    """Where files made for one person are written (deleted with their message's text)."""
    return data_dir / "files" / retention.PERSONAL_FILES


async def upcoming_registrations(session: AsyncSession, user: User, now: datetime
                                 ) -> list[tuple[SessionRegistration, DialogueSession]]:
    """Seats and waiting places at sessions still to come (given up on withdrawal)."""
    rows = (await session.exec(
        select(SessionRegistration, DialogueSession)
        .join(DialogueSession, col(DialogueSession.id) == col(SessionRegistration.session_id))
        .where(SessionRegistration.user_id == user.id,
               col(SessionRegistration.status).in_(session_service.ACTIVE),
               DialogueSession.status == session_service.SCHEDULED,
               col(DialogueSession.starts_at) > now)
        .order_by(col(DialogueSession.starts_at))
    )).all()
    return [(reg, item) for reg, item in rows]


async def kept_petitions(session: AsyncSession, user: User) -> list[Petition]:
    """The person's petitions, which the commune keeps (and still answers)."""
    return list((await session.exec(select(Petition).where(Petition.user_id == user.id)
                                    .order_by(col(Petition.id)))).all())


async def correct(session: AsyncSession, user: User, *, now: datetime,
                  name: str | None = None, phone: str | None = None,
                  clear_phone: bool = False) -> None:
    """Correct the name or phone on the profile and on seats still to come."""
    if name is not None:
        user.display_name = name
    if phone is not None or clear_phone:
        user.phone = phone
    for registration, _item in await upcoming_registrations(session, user, now):
        if name is not None:
            registration.name = name
        if phone is not None or clear_phone:
            registration.phone = phone
        registration.updated_at = now
        session.add(registration)
    session.add(user)
    await session.flush()


async def withdraw_consent(session: AsyncSession, user: User, *, now: datetime,
                           timezone: str, version: str) -> None:
    """Record the withdrawal and stop what runs on consent: notices, seats to come."""
    consents = Consents(session)
    if user.consent_version is not None:
        await consents.record(user, purpose=PRIVACY, version=user.consent_version or version,
                              granted=False, at=now)
    subscriptions = Subscriptions(session)
    for topic in sorted(await subscriptions.topics_of(user.id)):
        await consents.record(user, purpose=NOTIFICATIONS, version=topic[:20], granted=False,
                              at=now)
    await subscriptions.unsubscribe(user.id)
    for registration, _item in await upcoming_registrations(session, user, now):
        await session_service.cancel_registration(session, registration.id, user, now=now,
                                                  timezone=timezone)
    user.consent_version = user.consent_at = None
    user.consent_declined_at = now
    session.add(user)
    await session.flush()


async def forget(session: AsyncSession, user: User, *, now: datetime, timezone: str,
                 version: str) -> None:
    """"Delete my data": withdraw, then erase the profile and every personal copy.

    Kept: the consent records (proof), comments without the person, petitions (the law), the
    identity on a complaint or denunciation (the laws on them); the name, address and phone
    given with feedback so that staff could call back are erased.
    """
    await withdraw_consent(session, user, now=now, timezone=timezone, version=version)
    user.hamlet_id = user.display_name = user.phone = None
    user.consent_declined_at = user.onboarded_at = None
    session.add(user)
    await DisclosureComments(session).forget_user(user.id)
    await _forget_feedback_identities(session, user)
    await session_service.forget_user(session, user, now=now, timezone=timezone)
    await retention.forget_messages_to(session, user.channel, user.external_id)
    await session.flush()


async def _forget_feedback_identities(session: AsyncSession, user: User) -> None:
    """The name, address and phone on the person's feedback: no law keeps them."""
    mine = select(Petition.id).where(Petition.user_id == user.id, Petition.kind == FEEDBACK)
    for identity in (await session.exec(select(PetitionIdentity).where(
            col(PetitionIdentity.petition_id).in_(mine)))).all():
        await session.delete(identity)
