"""Repositories of dialogue sessions, registrations, questions and reminders. Nothing here
commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import clock
from storage.models import (
    DialogueSession,
    SessionQuestion,
    SessionRegistration,
    SessionReminder,
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
        item.updated_at = clock.now()
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
        registration.updated_at = clock.now()
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
