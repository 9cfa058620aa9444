"""Petitions, the staff desk's drafts, sealed identities and each petition's timeline."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage import clock
from storage.models.columns import when


class Petition(SQLModel, table=True):
    """A petition received through the bot: feedback, complaint or denunciation.

    `code` is the tracking code residents see (PA-2026-000123). A complaint's or
    denunciation's identity lives in PetitionIdentity, apart; `anonymous` feedback keeps
    `user_id` only so the sender can follow it, and staff never see who sent it.
    """

    __tablename__ = "petitions"
    __table_args__ = (sa.Index("ix_petitions_open", "status", "answer_due"),)
    id: int | None = Field(default=None, primary_key=True)
    code: str | None = Field(default=None, max_length=20, unique=True)
    kind: str = Field(max_length=20)  # feedback | complaint | denunciation
    field: str = Field(max_length=40)
    hamlet_id: int | None = Field(default=None, foreign_key="hamlets.id", index=True)
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = Field(default=None, max_length=300)
    description: str
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    anonymous: bool = False
    status: str = Field(default="received", max_length=20)
    assignee: str | None = Field(default=None, max_length=120)
    complex_case: bool = False
    remote_area: bool = False
    received_at: datetime = when(default_factory=clock.now)
    accept_due: date
    answer_due: date
    rules_version: str = Field(default="", max_length=80)
    answer: str | None = None
    answer_files: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    answered_at: datetime | None = when(default=None, nullable=True)
    rating: int | None = None
    closed_at: datetime | None = when(default=None, nullable=True)
    updated_at: datetime = when(default_factory=clock.now)


class DeskDraft(SQLModel, table=True):
    """What a staff member is giving on a petition from a chat, between messages: the reason
    for a refusal, where a petition is forwarded, or an answer (text and files) before it is
    sent. One per person and chat (a staff group and the private chat are apart)."""

    __tablename__ = "desk_drafts"
    __table_args__ = (sa.UniqueConstraint("channel", "chat_id", "user_id",
                                          name="uq_desk_drafts_person"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=100)
    user_id: str = Field(max_length=100)
    petition_id: int = Field(foreign_key="petitions.id")
    action: str = Field(max_length=20)  # answer | refuse | forward
    target: str | None = Field(default=None, max_length=300)  # forward: to whom
    text: str = ""
    files: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    updated_at: datetime = when(default_factory=clock.now)


class PetitionIdentity(SQLModel, table=True):
    """Who filed a complaint or denunciation. A denouncer's identity is shown only to
    staff with the investigator role and never appears in staff chats, exports or logs."""

    __tablename__ = "petition_identities"
    id: int | None = Field(default=None, primary_key=True)
    petition_id: int = Field(foreign_key="petitions.id", unique=True)
    full_name: str = Field(max_length=200)
    address: str = Field(max_length=300)
    phone: str | None = Field(default=None, max_length=30)


class PetitionEvent(SQLModel, table=True):
    """One step of a petition's timeline: a status change, an answer, a rating, a note."""

    __tablename__ = "petition_events"
    id: int | None = Field(default=None, primary_key=True)
    petition_id: int = Field(foreign_key="petitions.id", index=True)
    at: datetime = when(default_factory=clock.now)
    actor: str = Field(default="", max_length=120)
    kind: str = Field(max_length=20)  # status | answer | rating | assign | flag
    status: str | None = Field(default=None, max_length=20)
    note: str | None = None
