"""The outbox: every message to someone other than the person who just wrote.

`enqueue` adds a row inside the caller's transaction, so a notice exists exactly when the
change that caused it was committed. The dispatcher (bot.services.dispatcher) sends the
rows. Statuses: pending -> sending -> sent | pending (retry) | failed | blocked; a pending
row may also be cancelled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messages import Attachment, Button, Reply
from bot.services import outbox_wakeup
from storage import clock
from storage.models import OutboxMessage

PENDING, SENDING, SENT, FAILED, BLOCKED, CANCELLED = (
    "pending", "sending", "sent", "failed", "blocked", "cancelled",
)

# The kind of a notice about a denunciation to its sender: logged with no person reference
# when sent, so the log never ties the denunciation to that person.
UNLINKED_KIND = "denunciation"

_listeners: list[Callable[[], None]] = []


@dataclass(frozen=True)
class Recipient:
    """Who gets a message: a channel and the chat id on it (a user's private chat or a group)."""

    channel: str
    chat_id: str


def on_enqueue(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` after each commit that enqueued something; returns an unsubscriber."""
    _listeners.append(callback)
    return lambda: _listeners.remove(callback) if callback in _listeners else None


def _notify(_session: Any) -> None:
    for callback in list(_listeners):
        callback()


def to_row_content(reply: Reply) -> dict[str, Any]:
    """The columns that store a Reply."""
    return {
        "text": reply.text,
        "buttons": [[b.label, b.payload] for b in reply.buttons],
        "attachments": [vars(a).copy() for a in reply.attachments],
    }


def to_reply(row: OutboxMessage) -> Reply:
    """The Reply a row stands for."""
    return Reply(
        row.text,
        tuple(Button(label, payload) for label, payload in row.buttons),
        tuple(Attachment(**a) for a in row.attachments),
    )


async def enqueue(
    session: AsyncSession, recipient: Recipient, reply: Reply, *,
    now: datetime | None = None, not_before: datetime | None = None,
    dedup_key: str | None = None, kind: str = "notice", broadcast_id: int | None = None,
) -> int | None:
    """Add a message for `recipient`; returns its id, or None when `dedup_key` was used before.

    `now` is the caller's time (the one clock's when not given); the message is due at
    `not_before`, else now. Nothing is sent until the caller commits; a rollback discards it.
    """
    now = now or clock.now()
    values = {
        "channel": recipient.channel, "chat_id": recipient.chat_id, "kind": kind,
        "status": PENDING, "attempts": 0, "not_before": not_before or now,
        "created_at": now, "dedup_key": dedup_key, "broadcast_id": broadcast_id,
        **to_row_content(reply),
    }
    dialect = session.bind.dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(OutboxMessage)
    statement = insert.values(**values).on_conflict_do_nothing(index_elements=["dedup_key"])
    result = await session.exec(statement.returning(OutboxMessage.id))
    new_id = result.scalar_one_or_none()
    if new_id is not None and not event.contains(session.sync_session, "after_commit", _notify):
        event.listen(session.sync_session, "after_commit", _notify, once=True)
    if new_id is not None:
        await outbox_wakeup.notify_in(session)
    return new_id


async def cancel(session: AsyncSession, ids: Sequence[int]) -> int:
    """Cancel messages that have not been sent yet; returns how many were cancelled."""
    result = await session.exec(
        sa.update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.status) == PENDING)
        .values(status=CANCELLED)
    )
    return result.rowcount


async def waiting_by_channel(session: AsyncSession) -> dict[str, int]:
    """How many messages wait to be sent, per channel (for /healthz)."""
    query = (
        select(OutboxMessage.channel, sa.func.count())
        .where(col(OutboxMessage.status).in_((PENDING, SENDING)))
        .group_by(OutboxMessage.channel)
    )
    return {channel: count for channel, count in (await session.exec(query)).all()}
