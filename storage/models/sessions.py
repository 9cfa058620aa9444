"""Dialogue sessions, registrations, questions sent in advance and reminders."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage import clock
from storage.models.columns import when


class DialogueSession(SQLModel, table=True):
    """A dialogue session with the commune's leaders ("Dân bàn"; DOMAIN.md §5).

    `capacity` counts every seat, `reserved` those kept for invited guests; residents can
    take `capacity - reserved`. `reminders` are offsets like "1d@08:00" (the day before at
    08:00 local) or "2h" (two hours before). `version` grows with each change of time or
    place, so notices about a change are sent once per change.
    """

    __tablename__ = "dialogue_sessions"
    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=300)
    leaders: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    place: str = Field(max_length=300)
    online_link: str | None = Field(default=None, max_length=500)
    starts_at: datetime = when(index=True)
    duration_minutes: int = 120
    capacity: int
    reserved: int = 0
    reminders: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    status: str = Field(default="scheduled", max_length=12)  # scheduled | cancelled | closed
    version: int = 1
    outcome: str | None = None
    outcome_at: datetime | None = when(default=None, nullable=True)
    outcome_disclosure_id: int | None = Field(default=None, foreign_key="disclosures.id")
    created_by: str = Field(default="", max_length=120)
    created_at: datetime = when(default_factory=clock.now)
    updated_at: datetime = when(default_factory=clock.now)


class SessionRegistration(SQLModel, table=True):
    """A resident's seat (or place on the waitlist) at a dialogue session.

    One row per (session, user): cancelling and registering again reuses it. `position`
    orders the waitlist. `ticket` is shown at the door and works once (`checked_in_at`).
    """

    __tablename__ = "session_registrations"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "user_id", name="uq_session_registrations_user"),
        sa.Index("ix_session_registrations_seats", "session_id", "status", "position"),
    )
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="dialogue_sessions.id")
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    name: str = Field(max_length=200)
    hamlet_id: int | None = Field(default=None, foreign_key="hamlets.id")
    phone: str | None = Field(default=None, max_length=30)
    ticket: str = Field(max_length=8, unique=True)
    status: str = Field(default="registered", max_length=12)  # registered|waitlisted|cancelled
    position: int = 0
    created_at: datetime = when(default_factory=clock.now)
    updated_at: datetime = when(default_factory=clock.now)
    checked_in_at: datetime | None = when(default=None, nullable=True)


class SessionQuestion(SQLModel, table=True):
    """A question sent in advance by a registrant (at most 3 each), tagged by hamlet."""

    __tablename__ = "session_questions"
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="dialogue_sessions.id", index=True)
    registration_id: int = Field(foreign_key="session_registrations.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    hamlet_id: int | None = Field(default=None, foreign_key="hamlets.id")
    text: str
    status: str = Field(default="active", max_length=12)  # active | withdrawn
    created_at: datetime = when(default_factory=clock.now)
    withdrawn_at: datetime | None = when(default=None, nullable=True)


class SessionReminder(SQLModel, table=True):
    """A reminder due for one registration; the scheduler turns due rows into outbox messages.

    pending -> sent (with the outbox row's id) | cancelled (registration or time changed).
    """

    __tablename__ = "session_reminders"
    __table_args__ = (sa.Index("ix_session_reminders_due", "status", "due_at"),)
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="dialogue_sessions.id", index=True)
    registration_id: int = Field(foreign_key="session_registrations.id", index=True)
    kind: str = Field(max_length=20)  # the offset it came from: "1d@08:00", "2h"
    due_at: datetime = when()
    status: str = Field(default="pending", max_length=12)
    outbox_id: int | None = None
    created_at: datetime = when(default_factory=clock.now)
    sent_at: datetime | None = when(default=None, nullable=True)
