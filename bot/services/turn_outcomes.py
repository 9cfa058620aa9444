"""What a turn answered, kept so that the same event, or a second tap on the same button,
is answered the same way again instead of being run again (issue 20.1, 21.2).

The outcome is written in the turn's own transaction: either the turn's effects and its
outcome are both committed, or neither is. Replies are stored as plain JSON.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messages import Attachment, Button, Reply, Request
from storage.models import InboundEvent

_events = InboundEvent.__table__
_RECORD = (
    sa.update(_events)
    .where(_events.c.channel == sa.bindparam("of_channel"),
           _events.c.event_id == sa.bindparam("of_event"))
    .values(outcome=sa.bindparam("replies"))
)
_RECORDED = sa.select(_events.c.outcome).where(
    _events.c.channel == sa.bindparam("of_channel"),
    _events.c.event_id == sa.bindparam("of_event"))


def to_json(replies: list[Reply]) -> list[dict[str, Any]]:
    """Replies as JSON values."""
    return [{
        "text": r.text, "buttons": [[b.label, b.payload] for b in r.buttons],
        "attachments": [vars(a).copy() for a in r.attachments], "edit": r.edit,
        "alert": r.alert, "wants_reply": r.wants_reply,
        "requests": [[q.kind, q.label] for q in r.requests],
    } for r in replies]


def from_json(values: list[dict[str, Any]]) -> list[Reply]:
    """The replies stored by `to_json`."""
    return [Reply(
        v["text"], tuple(Button(label, payload) for label, payload in v.get("buttons", ())),
        tuple(Attachment(**a) for a in v.get("attachments", ())), edit=v.get("edit", False),
        alert=v.get("alert", False), wants_reply=v.get("wants_reply", False),
        requests=tuple(Request(kind, label) for kind, label in v.get("requests", ())),
    ) for v in values]


async def recorded(session: AsyncSession, channel: str, event_id: str) -> list[Reply] | None:
    """The replies the event's turn produced, if a turn for it was committed."""
    connection = await session.connection()
    found = (await connection.execute(_RECORDED, {"of_channel": channel,
                                                  "of_event": event_id})).scalar()
    return None if found is None else from_json(found)


async def record(session: AsyncSession, channel: str, event_id: str,
                 replies: list[Reply]) -> None:
    """Keep the replies with the event, in the turn's transaction."""
    connection = await session.connection()
    await connection.execute(_RECORD, {"of_channel": channel, "of_event": event_id,
                                       "replies": to_json(replies)})
