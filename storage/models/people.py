"""The commune, its hamlets, the people who talk to the bot, their consent, conversations and
roles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage import clock
from storage.models.columns import when


class Commune(SQLModel, table=True):
    """The commune or ward this deployment serves (one row today)."""

    __tablename__ = "communes"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    unit_type: str = Field(max_length=20)  # xã | phường | đặc khu
    province: str = Field(default="", max_length=200)
    office_address: str = Field(default="", max_length=500)
    office_phone: str = Field(default="", max_length=50)
    office_email: str = Field(default="", max_length=200)
    # Optional sections of the commune file: {"petitions": {...}, "calendar": {...}}
    options: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    updated_at: datetime = when(default_factory=clock.now)


class Hamlet(SQLModel, table=True):
    """A thôn / tổ dân phố / khu of the commune; `code` is its stable id."""

    __tablename__ = "hamlets"
    id: int | None = Field(default=None, primary_key=True)
    commune_id: int = Field(foreign_key="communes.id", index=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    label: str = Field(default="thôn", max_length=40)
    position: int = 0
    active: bool = True


class User(SQLModel, table=True):
    """One channel identity. Personal fields stay empty until consent."""

    __tablename__ = "users"
    __table_args__ = (sa.UniqueConstraint("channel", "external_id", name="uq_users_identity"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    external_id: str = Field(max_length=100)
    locale: str = Field(default="vi", max_length=10)
    hamlet_id: int | None = Field(default=None, foreign_key="hamlets.id")
    display_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=30)
    consent_version: str | None = Field(default=None, max_length=20)
    consent_at: datetime | None = when(default=None, nullable=True)
    consent_declined_at: datetime | None = when(default=None, nullable=True)
    onboarded_at: datetime | None = when(default=None, nullable=True)
    created_at: datetime = when(default_factory=clock.now)
    blocked_at: datetime | None = when(default=None, nullable=True)  # blocked the bot


class Consent(SQLModel, table=True):
    """Proof of a consent decision: what was shown (version), when, on which channel."""

    __tablename__ = "consents"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    purpose: str = Field(max_length=40)  # "privacy_notice", later "notifications"…
    version: str = Field(max_length=20)
    granted: bool
    channel: str = Field(max_length=20)
    at: datetime = when(default_factory=clock.now)


class Conversation(SQLModel, table=True):
    """Where a user is in a flow, and the buttons they were last offered."""

    __tablename__ = "conversations"
    __table_args__ = (sa.UniqueConstraint("channel", "user_id", name="uq_conversations_user"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    user_id: str = Field(max_length=100)
    flow: str | None = Field(default=None, max_length=60)
    step: str | None = Field(default=None, max_length=60)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    buttons: list[list[str]] = Field(default_factory=list, sa_type=sa.JSON)
    # The last turn when it was a button press: {"offer", "payload", "replies"}, so that a
    # second tap on the same button of the same message gets the same answer.
    last_press: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON, nullable=True)
    updated_at: datetime = when(default_factory=clock.now)


class RoleGrant(SQLModel, table=True):
    """A role held by a channel identity; hamlet heads hold one row per hamlet."""

    __tablename__ = "role_grants"
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    user_id: str = Field(max_length=100, index=True)
    role: str = Field(max_length=20)
    hamlet_id: int | None = Field(default=None, foreign_key="hamlets.id")
    granted_by: str = Field(default="", max_length=120)
    granted_at: datetime = when(default_factory=clock.now)
    name: str | None = Field(default=None, max_length=120)  # shown to colleagues ("Chị Lan")
