"""What goes in and out: the interaction log, inbound events, the outbox, broadcasts, linked
groups and the shared send budget."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage import clock
from storage.models.columns import when


class InteractionLog(SQLModel, table=True):
    """Append-only record of every event in and reply out, for accountability reports.

    `user_ref` is a keyed hash, never the channel id; `text` holds only commands and
    button labels, never free text typed inside a flow: a step asking personal data gives
    "[đã ẩn]" and its buttons' payloads, and the turns of sending or following a petition
    have no reference, hamlet or text (bot.flows.UNLINKED_FLOWS).
    """

    __tablename__ = "interaction_log"
    # The web desk's filters read newest first within one kind or one actor (keyset on id).
    __table_args__ = (sa.Index("ix_interaction_log_kind_id", "kind", "id"),
                      sa.Index("ix_interaction_log_actor_id", "actor", "id"))
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = when(default_factory=clock.now, index=True)
    channel: str = Field(max_length=20)
    direction: str = Field(max_length=8)  # in | out | admin
    user_ref: str = Field(default="", max_length=32, index=True)
    hamlet_code: str | None = Field(default=None, max_length=64)
    flow: str | None = Field(default=None, max_length=60)
    step: str | None = Field(default=None, max_length=60)
    kind: str = Field(max_length=30)
    text: str | None = Field(default=None, max_length=500)
    latency_ms: int | None = None
    actor: str | None = Field(default=None, max_length=120)
    # The tamper-evident chain (bot.services.log_chain), filled in by the sealer: the
    # position, the digest of the text (so the text may be erased), the previous row's hash
    # and this row's keyed hash.
    chain_seq: int | None = Field(default=None, unique=True, index=True)
    text_digest: str | None = Field(default=None, max_length=64)
    prev_hash: str | None = Field(default=None, max_length=64)
    row_hash: str | None = Field(default=None, max_length=64)


class InboundEvent(SQLModel, table=True):
    """A raw update as a channel delivered it, stored before it is processed.

    The unique (channel, event_id) makes a redelivered update a no-op; rows still
    "pending" after a crash are processed at the next start.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (
        sa.UniqueConstraint("channel", "event_id", name="uq_inbound_events_event"),
        sa.Index("ix_inbound_events_pending", "channel", "status"),
        sa.Index("ix_inbound_events_chat", "channel", "chat_key", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    event_id: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    status: str = Field(default="pending", max_length=12)  # pending | done | rejected
    received_at: datetime = when(default_factory=clock.now)
    done_at: datetime | None = when(default=None, nullable=True)
    chat_key: str | None = Field(default=None, max_length=100, nullable=True)
    # The replies the event's turn produced, written in the turn's transaction: a
    # redelivered event is answered with them again instead of being run a second time.
    outcome: list[dict[str, Any]] | None = Field(default=None, sa_type=sa.JSON, nullable=True)
    lease_owner: str | None = Field(default=None, max_length=64, nullable=True)
    leased_until: datetime | None = when(default=None, nullable=True)
    # When its turn began, on PostgreSQL: other processes hold the chat's next updates back
    # until this one is answered (bot/services/inbound_events.py, wait_turn).
    started_at: datetime | None = when(default=None, nullable=True)
    reason: str | None = Field(default=None, max_length=200, nullable=True)  # when rejected


class OutboxMessage(SQLModel, table=True):
    """A message to someone other than the person who just wrote, sent by the dispatcher.

    Written in the same transaction as the change that caused it; `dedup_key` makes an
    enqueue idempotent; `not_before` holds both "send later" and the retry backoff.
    """

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_due", "status", "not_before"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=100)
    text: str
    buttons: list[list[str]] = Field(default_factory=list, sa_type=sa.JSON)
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    kind: str = Field(default="notice", max_length=30)
    status: str = Field(default="pending", max_length=12)  # see bot.services.outbox
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    not_before: datetime = when(default_factory=clock.now)
    created_at: datetime = when(default_factory=clock.now)
    claimed_at: datetime | None = when(default=None, nullable=True)
    sent_at: datetime | None = when(default=None, nullable=True)
    dedup_key: str | None = Field(default=None, max_length=200, unique=True)
    broadcast_id: int | None = Field(default=None, index=True)  # a delivery of a broadcast


class Broadcast(SQLModel, table=True):
    """A notice to hamlet groups and/or the opted-in residents of some hamlets (or all).

    One-off (`send_at`) or recurring (`cron`, a five-field crontab line in the commune's
    time zone). Each run becomes one outbox row per recipient (`OutboxMessage.broadcast_id`),
    which is the durable delivery queue; `next_run_at` says when the scheduler job runs it.
    """

    __tablename__ = "broadcasts"
    __table_args__ = (sa.Index("ix_broadcasts_due", "status", "next_run_at"),)
    id: int | None = Field(default=None, primary_key=True)
    text: str
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    hamlet_ids: list[int] = Field(default_factory=list, sa_type=sa.JSON)  # empty = all
    audience: str = Field(default="both", max_length=12)  # groups | residents | both
    urgent: bool = False
    cron: str | None = Field(default=None, max_length=100)
    status: str = Field(default="scheduled", max_length=12)  # scheduled|paused|done|cancelled
    next_run_at: datetime | None = when(default=None, nullable=True)
    runs: int = 0
    created_by: str = Field(default="", max_length=120)
    created_at: datetime = when(default_factory=clock.now)
    # Who speaks, as the first line says: "UBND xã Chi Lăng", "Trưởng Khu Hòa Bình".
    sender: str = Field(default="", max_length=200)
    # Set when the notice invites residents to a dialogue session (announcing it).
    session_id: int | None = Field(default=None, foreign_key="dialogue_sessions.id",
                                   index=True)
    # The sender's chat, where "Đã gửi 120/500" is kept up to date (one message, edited).
    notify_channel: str | None = Field(default=None, max_length=20)
    notify_chat: str | None = Field(default=None, max_length=100)
    progress_ref: str | None = Field(default=None, max_length=100)
    progress_text: str | None = Field(default=None, max_length=300)
    progress_done: bool = False


class GroupLink(SQLModel, table=True):
    """A group chat the bot serves: the staff chat, or a hamlet's group."""

    __tablename__ = "group_links"
    __table_args__ = (sa.UniqueConstraint("channel", "chat_id", name="uq_group_links_chat"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=100)
    kind: str = Field(max_length=12)  # staff | hamlet
    hamlet_id: int | None = Field(default=None, foreign_key="hamlets.id")
    title: str | None = Field(default=None, max_length=200)
    linked_by: str = Field(default="", max_length=120)
    linked_at: datetime = when(default_factory=clock.now)


class SendSlot(SQLModel, table=True):
    """The shared send budget of one bot or group (PostgreSQL, several processes): the
    earliest time, in seconds since the epoch on the database's clock, of its next free
    slot (bot.services.send_budget)."""

    __tablename__ = "send_slots"
    key: str = Field(primary_key=True, max_length=120)
    next_at: float = 0.0
