"""Public disclosures (Art. 11), their revisions, subscriptions and residents' comments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage import clock, search
from storage.models.columns import when


class Disclosure(SQLModel, table=True):
    """A public disclosure (Art. 11 of the Law on Implementing Grassroots Democracy).

    `category` is the Art. 11 item (1–14). `search_title`/`search_body` hold the folded
    text (no diacritics, đ -> d, lower case) that the full-text index covers.
    `posted_until` is None for permanent postings (items 4 and 13).
    """

    __tablename__ = "disclosures"
    __table_args__ = (sa.Index("ix_disclosures_browse", "category", "posted_from"),)
    id: int | None = Field(default=None, primary_key=True)
    category: int
    title: str = Field(max_length=300)
    body: str
    search_title: str = Field(default="", max_length=300)
    search_body: str = ""
    attachment: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON, nullable=True)
    decided_on: date | None = None
    posted_from: datetime = when()
    posted_until: datetime | None = when(default=None, nullable=True)
    consult_until: datetime | None = when(default=None, nullable=True)
    response: str | None = None
    response_at: datetime | None = when(default=None, nullable=True)
    version: int = 1
    created_by: str = Field(default="", max_length=120)
    created_at: datetime = when(default_factory=clock.now)
    updated_at: datetime = when(default_factory=clock.now)


class DisclosureRevision(SQLModel, table=True):
    """An earlier version of a disclosure, kept when it is changed (Art. 14)."""

    __tablename__ = "disclosure_revisions"
    id: int | None = Field(default=None, primary_key=True)
    disclosure_id: int = Field(foreign_key="disclosures.id", index=True)
    version: int
    title: str = Field(max_length=300)
    body: str
    attachment: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON, nullable=True)
    posted_from: datetime = when()
    posted_until: datetime | None = when(default=None, nullable=True)
    consult_until: datetime | None = when(default=None, nullable=True)
    changed_by: str = Field(default="", max_length=120)
    changed_at: datetime = when(default_factory=clock.now)


class Subscription(SQLModel, table=True):
    """A resident's opt-in to hear about new disclosures of one category."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "topic", name="uq_subscriptions_user_topic"),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    topic: str = Field(max_length=40, index=True)  # "disclosure:7"
    created_at: datetime = when(default_factory=clock.now)


class DisclosureComment(SQLModel, table=True):
    """A resident's comment on a disclosure open for consultation (Art. 25)."""

    __tablename__ = "disclosure_comments"
    id: int | None = Field(default=None, primary_key=True)
    disclosure_id: int = Field(foreign_key="disclosures.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    hamlet_id: int | None = Field(default=None, foreign_key="hamlets.id")
    text: str
    created_at: datetime = when(default_factory=clock.now)


search.attach_to(Disclosure.__table__)  # the full-text index lives and dies with the table
