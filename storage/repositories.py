"""One small class per table. Nothing here commits: the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import search
from storage.models import (
    Commune,
    Consent,
    Conversation,
    DialogueSession,
    Disclosure,
    DisclosureComment,
    DisclosureRevision,
    Hamlet,
    InteractionLog,
    RoleGrant,
    SessionQuestion,
    SessionRegistration,
    SessionReminder,
    Subscription,
    User,
    utcnow,
)
from storage.textfold import fold


class Communes:
    """The commune row (one per deployment for now)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current(self) -> Commune | None:
        """The commune this deployment serves, or None before `init`."""
        return (await self.session.exec(select(Commune).order_by(Commune.id))).first()

    async def save(self, commune: Commune) -> Commune:
        """Insert or update the commune."""
        commune.updated_at = utcnow()
        self.session.add(commune)
        await self.session.flush()
        return commune


class Hamlets:
    """Hamlets (thôn, tổ dân phố, khu…) in display order."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active(self) -> Sequence[Hamlet]:
        """Hamlets residents can choose, in the commune file's order."""
        query = select(Hamlet).where(Hamlet.active).order_by(Hamlet.position, Hamlet.id)
        return (await self.session.exec(query)).all()

    async def all(self) -> Sequence[Hamlet]:
        """Every hamlet, including retired ones."""
        return (await self.session.exec(select(Hamlet).order_by(Hamlet.position))).all()

    async def get(self, hamlet_id: int | None) -> Hamlet | None:
        """The hamlet with this id, or None."""
        return None if hamlet_id is None else await self.session.get(Hamlet, hamlet_id)

    async def by_code(self, code: str) -> Hamlet | None:
        """The hamlet with this stable code, or None."""
        return (await self.session.exec(select(Hamlet).where(Hamlet.code == code))).first()

    async def add(self, hamlet: Hamlet) -> Hamlet:
        """Insert or update a hamlet."""
        self.session.add(hamlet)
        await self.session.flush()
        return hamlet


class Users:
    """Channel identities and their personal fields."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, channel: str, external_id: str) -> User | None:
        """The user for this channel identity, or None."""
        query = select(User).where(User.channel == channel, User.external_id == external_id)
        return (await self.session.exec(query)).first()

    async def get_or_create(self, channel: str, external_id: str, locale: str) -> User:
        """The user for this identity, created with `locale` on first contact."""
        user = await self.get(channel, external_id)
        if user is None:
            user = User(channel=channel, external_id=external_id, locale=locale)
            self.session.add(user)
            await self.session.flush()
        return user

    async def count(self) -> int:
        """How many channel identities we know."""
        return (await self.session.exec(select(sa.func.count()).select_from(User))).one()


class Consents:
    """Consent decisions, kept as proof."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self, user: User, *, purpose: str, version: str, granted: bool, at: datetime
    ) -> Consent:
        """Store one decision."""
        consent = Consent(
            user_id=user.id, purpose=purpose, version=version, granted=granted,
            channel=user.channel, at=at,
        )
        self.session.add(consent)
        await self.session.flush()
        return consent

    async def of_user(self, user_id: int) -> Sequence[Consent]:
        """A user's decisions, oldest first."""
        query = select(Consent).where(Consent.user_id == user_id).order_by(Consent.id)
        return (await self.session.exec(query)).all()

    async def delete_for(self, user_id: int) -> None:
        """Remove every consent record of a user (on "delete my data")."""
        await self.session.exec(sa.delete(Consent).where(col(Consent.user_id) == user_id))


class Conversations:
    """Conversation state, one row per (channel, user)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, channel: str, user_id: str) -> Conversation | None:
        """The saved state, or None."""
        query = select(Conversation).where(
            Conversation.channel == channel, Conversation.user_id == user_id
        )
        return (await self.session.exec(query)).first()

    async def save(self, conversation: Conversation) -> None:
        """Insert or update the state."""
        conversation.updated_at = utcnow()
        self.session.add(conversation)
        await self.session.flush()


class RoleGrants:
    """Who holds which role (and for which hamlets)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of(self, channel: str, user_id: str) -> Sequence[RoleGrant]:
        """Every grant of one channel identity."""
        query = select(RoleGrant).where(
            RoleGrant.channel == channel, RoleGrant.user_id == user_id
        )
        return (await self.session.exec(query)).all()

    async def grant(
        self, channel: str, user_id: str, role: str, hamlet_id: int | None, granted_by: str
    ) -> bool:
        """Add the grant unless it exists; True when something was added."""
        for existing in await self.of(channel, user_id):
            if existing.role == role and existing.hamlet_id == hamlet_id:
                return False
        self.session.add(
            RoleGrant(channel=channel, user_id=user_id, role=role, hamlet_id=hamlet_id,
                      granted_by=granted_by)
        )
        await self.session.flush()
        return True

    async def revoke(
        self, channel: str, user_id: str, role: str, hamlet_ids: Sequence[int] = ()
    ) -> int:
        """Remove the role (only for these hamlets when given); returns rows removed."""
        removed = 0
        for existing in await self.of(channel, user_id):
            if existing.role == role and (not hamlet_ids or existing.hamlet_id in hamlet_ids):
                await self.session.delete(existing)
                removed += 1
        await self.session.flush()
        return removed


class InteractionLogs:
    """The append-only interaction log."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def append(self, entry: InteractionLog) -> None:
        """Add one row; it is written with the caller's transaction."""
        self.session.add(entry)

    def admin(self, kind: str, text: str, actor: str, channel: str | None = None) -> None:
        """Record a staff or shell action; the channel defaults to the actor's own
        ("telegram:123" -> telegram, a shell operator -> cli)."""
        channel = channel or actor.partition(":")[0] or "cli"
        self.append(InteractionLog(channel=channel[:20], direction="admin", kind=kind,
                                   text=text, actor=actor))

    async def all(self) -> Sequence[InteractionLog]:
        """Every row in order (tests and small exports)."""
        return (await self.session.exec(select(InteractionLog).order_by(InteractionLog.id))).all()


def _current(now: datetime) -> sa.ColumnElement[bool]:
    """Disclosures on the board at `now`: posted, and not past their posting period."""
    return sa.and_(
        col(Disclosure.posted_from) <= now,
        sa.or_(col(Disclosure.posted_until).is_(None), col(Disclosure.posted_until) >= now),
    )


class Disclosures:
    """Public disclosures: browsing by category, search, history."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, disclosure_id: int) -> Disclosure | None:
        """The disclosure with this id, or None."""
        return await self.session.get(Disclosure, disclosure_id)

    async def save(self, disclosure: Disclosure) -> Disclosure:
        """Insert or update; keeps the folded search columns in step with the text."""
        disclosure.search_title = fold(disclosure.title)[:300]
        disclosure.search_body = fold(disclosure.body)
        disclosure.updated_at = utcnow()
        self.session.add(disclosure)
        await self.session.flush()
        return disclosure

    async def keep_revision(self, disclosure: Disclosure, changed_by: str) -> None:
        """Store the disclosure as it is now, before it changes."""
        self.session.add(DisclosureRevision(
            disclosure_id=disclosure.id, version=disclosure.version, title=disclosure.title,
            body=disclosure.body, attachment=disclosure.attachment,
            posted_from=disclosure.posted_from, posted_until=disclosure.posted_until,
            consult_until=disclosure.consult_until, changed_by=changed_by,
        ))
        await self.session.flush()

    async def revisions(self, disclosure_id: int) -> Sequence[DisclosureRevision]:
        """Earlier versions, oldest first."""
        query = (select(DisclosureRevision)
                 .where(DisclosureRevision.disclosure_id == disclosure_id)
                 .order_by(DisclosureRevision.version))
        return (await self.session.exec(query)).all()

    async def counts_by_category(self, now: datetime) -> dict[int, int]:
        """How many disclosures are on the board per category."""
        query = (select(Disclosure.category, sa.func.count()).where(_current(now))
                 .group_by(Disclosure.category))
        return dict((await self.session.exec(query)).all())

    async def on_board(self, category: int, now: datetime, *, offset: int, limit: int
                       ) -> Sequence[Disclosure]:
        """A page of a category's current disclosures, newest first."""
        query = (select(Disclosure).where(Disclosure.category == category, _current(now))
                 .order_by(col(Disclosure.posted_from).desc(), col(Disclosure.id).desc())
                 .offset(offset).limit(limit))
        return (await self.session.exec(query)).all()

    async def search(self, query: str, now: datetime, *, limit: int) -> list[Disclosure]:
        """Published disclosures matching `query` (all words, else any), best first.

        Archived ones (past their posting period) are included; future ones are not.
        Common words are ranked among the newest `search.RECENT_WINDOW` disclosures first.
        """
        words = search.terms(query)
        if not words:
            return []
        dialect = self.session.bind.dialect.name
        newest = (await self.session.exec(select(sa.func.max(Disclosure.id)))).one() or 0
        floors = [newest - search.RECENT_WINDOW, 0] if newest > search.RECENT_WINDOW else [0]
        for every in (True, False) if len(words) > 1 else (True,):
            match = search.match_expression(dialect, words, every)
            for floor in floors:
                rows = (await self.session.exec(search.ranked_ids(dialect).bindparams(
                    match=match, floor=floor, limit=limit + 10))).all()
                found = await self._published(rows, now)
                if len(found) >= limit or (found and floor == 0):
                    return found[:limit]
        return []

    async def _published(self, ranked: Sequence[Any], now: datetime) -> list[Disclosure]:
        """The disclosures behind ranked (id, rank) rows, posted by `now`; ties newest first."""
        if not ranked:
            return []
        ids = [row[0] for row in ranked]
        rows = (await self.session.exec(select(Disclosure).where(col(Disclosure.id).in_(ids)))
                ).all()
        rank = {row[0]: row[1] for row in ranked}
        posted = [d for d in rows if d.posted_from <= now]
        posted.sort(key=lambda d: (rank[d.id], -d.posted_from.timestamp(), -d.id))
        return posted

    async def posted_between(self, start: datetime, end: datetime) -> Sequence[Disclosure]:
        """Disclosures first posted in [start, end), in posting order (quarterly list)."""
        query = (select(Disclosure)
                 .where(col(Disclosure.posted_from) >= start, col(Disclosure.posted_from) < end)
                 .order_by(Disclosure.posted_from, Disclosure.id))
        return (await self.session.exec(query)).all()

    async def listing(self, limit: int = 50) -> Sequence[Disclosure]:
        """The newest disclosures, for staff."""
        query = select(Disclosure).order_by(col(Disclosure.id).desc()).limit(limit)
        return (await self.session.exec(query)).all()


class Subscriptions:
    """Residents' opt-ins to notices by topic ("disclosure:7")."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def topics_of(self, user_id: int) -> set[str]:
        """The topics a user follows."""
        query = select(Subscription.topic).where(Subscription.user_id == user_id)
        return set((await self.session.exec(query)).all())

    async def subscribe(self, user_id: int, topic: str) -> bool:
        """Follow a topic; False when already followed."""
        if topic in await self.topics_of(user_id):
            return False
        self.session.add(Subscription(user_id=user_id, topic=topic))
        await self.session.flush()
        return True

    async def unsubscribe(self, user_id: int, topic: str | None = None) -> int:
        """Stop following one topic (or every topic); returns rows removed."""
        statement = sa.delete(Subscription).where(col(Subscription.user_id) == user_id)
        if topic is not None:
            statement = statement.where(col(Subscription.topic) == topic)
        return (await self.session.exec(statement)).rowcount

    async def subscribers(self, topic: str) -> Sequence[User]:
        """The users following a topic, oldest subscription first."""
        query = (select(User).join(Subscription, col(Subscription.user_id) == col(User.id))
                 .where(Subscription.topic == topic).order_by(Subscription.id))
        return (await self.session.exec(query)).all()


class DisclosureComments:
    """Residents' comments on disclosures open for consultation."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, comment: DisclosureComment) -> DisclosureComment:
        """Store one comment."""
        self.session.add(comment)
        await self.session.flush()
        return comment

    async def of(self, disclosure_id: int) -> Sequence[DisclosureComment]:
        """A disclosure's comments, oldest first."""
        query = (select(DisclosureComment)
                 .where(DisclosureComment.disclosure_id == disclosure_id)
                 .order_by(DisclosureComment.id))
        return (await self.session.exec(query)).all()

    async def count_by_user(self, disclosure_id: int, user_id: int) -> int:
        """How many comments one user left on one disclosure."""
        query = select(sa.func.count()).select_from(DisclosureComment).where(
            DisclosureComment.disclosure_id == disclosure_id,
            DisclosureComment.user_id == user_id,
        )
        return (await self.session.exec(query)).one()

    async def forget_user(self, user_id: int) -> None:
        """Detach a user's comments from them (delete my data); the text stays, anonymous."""
        await self.session.exec(
            sa.update(DisclosureComment).where(col(DisclosureComment.user_id) == user_id)
            .values(user_id=None)
        )


class DialogueSessions:
    """Dialogue sessions ("Dân bàn")."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, session_id: int) -> DialogueSession | None:
        """The dialogue session with this id, or None."""
        return await self.session.get(DialogueSession, session_id)

    async def lock(self, session_id: int) -> DialogueSession | None:
        """The session row, locked until the transaction ends (PostgreSQL `FOR UPDATE`).

        Everything that takes or frees a seat locks the row first, so seats are counted by
        one transaction at a time. SQLite has no row locks: its writers already take turns.
        """
        query = (select(DialogueSession).where(DialogueSession.id == session_id)
                 .with_for_update().execution_options(populate_existing=True))
        return (await self.session.exec(query)).first()

    async def save(self, item: DialogueSession) -> DialogueSession:
        """Insert or update."""
        item.updated_at = utcnow()
        self.session.add(item)
        await self.session.flush()
        return item

    async def upcoming(self, now: datetime, limit: int = 20) -> Sequence[DialogueSession]:
        """Scheduled sessions that have not started, soonest first."""
        query = (select(DialogueSession)
                 .where(DialogueSession.status == "scheduled",
                        col(DialogueSession.starts_at) > now)
                 .order_by(DialogueSession.starts_at, DialogueSession.id).limit(limit))
        return (await self.session.exec(query)).all()

    async def listing(self, limit: int = 50) -> Sequence[DialogueSession]:
        """The newest sessions first, whatever their status (staff)."""
        query = (select(DialogueSession)
                 .order_by(col(DialogueSession.starts_at).desc(), col(DialogueSession.id).desc())
                 .limit(limit))
        return (await self.session.exec(query)).all()


class SessionRegistrations:
    """Seats and waitlist places at dialogue sessions."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, registration_id: int) -> SessionRegistration | None:
        """The registration with this id, or None."""
        return await self.session.get(SessionRegistration, registration_id)

    async def of_user(self, session_id: int, user_id: int) -> SessionRegistration | None:
        """A user's row for a session (whatever its status), or None."""
        query = select(SessionRegistration).where(
            SessionRegistration.session_id == session_id,
            SessionRegistration.user_id == user_id,
        )
        return (await self.session.exec(query)).first()

    async def by_ticket(self, ticket: str) -> SessionRegistration | None:
        """The registration holding this ticket code, or None."""
        query = select(SessionRegistration).where(SessionRegistration.ticket == ticket)
        return (await self.session.exec(query)).first()

    async def with_status(self, session_id: int, *statuses: str
                          ) -> Sequence[SessionRegistration]:
        """A session's registrations with these statuses, in queue order."""
        query = (select(SessionRegistration)
                 .where(SessionRegistration.session_id == session_id,
                        col(SessionRegistration.status).in_(statuses))
                 .order_by(SessionRegistration.position, SessionRegistration.id))
        return (await self.session.exec(query)).all()

    async def counts(self, session_id: int) -> dict[str, int]:
        """How many registrations a session has per status."""
        query = (select(SessionRegistration.status, sa.func.count())
                 .where(SessionRegistration.session_id == session_id)
                 .group_by(SessionRegistration.status))
        return dict((await self.session.exec(query)).all())

    async def last_position(self, session_id: int, status: str) -> int:
        """The highest queue position used with this status (0 when none)."""
        query = select(sa.func.max(SessionRegistration.position)).where(
            SessionRegistration.session_id == session_id,
            SessionRegistration.status == status,
        )
        return (await self.session.exec(query)).one() or 0

    async def of_person(self, user_id: int) -> Sequence[SessionRegistration]:
        """Every registration of a user that is not cancelled, newest first."""
        query = (select(SessionRegistration)
                 .where(SessionRegistration.user_id == user_id,
                        SessionRegistration.status != "cancelled")
                 .order_by(col(SessionRegistration.id).desc()))
        return (await self.session.exec(query)).all()

    async def save(self, registration: SessionRegistration) -> SessionRegistration:
        """Insert or update."""
        registration.updated_at = utcnow()
        self.session.add(registration)
        await self.session.flush()
        return registration


class SessionQuestions:
    """Questions sent in advance to a dialogue session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, question: SessionQuestion) -> SessionQuestion:
        """Store one question."""
        self.session.add(question)
        await self.session.flush()
        return question

    async def get(self, question_id: int) -> SessionQuestion | None:
        """The question with this id, or None."""
        return await self.session.get(SessionQuestion, question_id)

    async def of_registration(self, registration_id: int) -> Sequence[SessionQuestion]:
        """A registrant's questions that are not withdrawn, oldest first."""
        query = (select(SessionQuestion)
                 .where(SessionQuestion.registration_id == registration_id,
                        SessionQuestion.status == "active")
                 .order_by(SessionQuestion.id))
        return (await self.session.exec(query)).all()

    async def of_session(self, session_id: int) -> Sequence[SessionQuestion]:
        """A session's questions that are not withdrawn, oldest first."""
        query = (select(SessionQuestion)
                 .where(SessionQuestion.session_id == session_id,
                        SessionQuestion.status == "active")
                 .order_by(SessionQuestion.id))
        return (await self.session.exec(query)).all()


class SessionReminders:
    """Reminders due for registrations; the scheduler sends the due ones."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, reminder: SessionReminder) -> None:
        """Add one reminder; it is written with the caller's transaction."""
        self.session.add(reminder)

    async def due(self, now: datetime, limit: int) -> Sequence[SessionReminder]:
        """Pending reminders due by `now`, oldest first, locked for this transaction."""
        query = (select(SessionReminder)
                 .where(SessionReminder.status == "pending",
                        col(SessionReminder.due_at) <= now)
                 .order_by(SessionReminder.due_at, SessionReminder.id).limit(limit)
                 .with_for_update(skip_locked=True))
        return (await self.session.exec(query)).all()

    async def of(self, session_id: int, registration_id: int | None = None
                 ) -> Sequence[SessionReminder]:
        """A session's reminders (one registration's when given), in due order."""
        query = select(SessionReminder).where(SessionReminder.session_id == session_id)
        if registration_id is not None:
            query = query.where(SessionReminder.registration_id == registration_id)
        return (await self.session.exec(query.order_by(SessionReminder.due_at,
                                                       SessionReminder.id))).all()

    async def cancel_pending(self, session_id: int, registration_id: int | None = None
                             ) -> list[int]:
        """Cancel the pending reminders; returns the outbox ids of those already queued."""
        rows = await self.of(session_id, registration_id)
        queued = []
        for row in rows:
            if row.status == "pending":
                row.status = "cancelled"
                self.session.add(row)
            elif row.status == "sent" and row.outbox_id is not None:
                queued.append(row.outbox_id)
        await self.session.flush()
        return queued
