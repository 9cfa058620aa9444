"""Choices offered outside a turn: a notice's buttons become what the person presses next.

Channels without buttons (Zalo) show a notice's choices as numbered lines; saving them as the
person's offered buttons makes a typed number (or a tap, on Zalo OA) press the right one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.messages import Button
from storage.db import Database
from storage.models import Conversation
from storage.repositories import Conversations

log = logging.getLogger(__name__)


async def offer(db: Database, channel: str, user_id: str, buttons: Iterable[Button]) -> None:
    """Save `buttons` as the person's offered choices.

    Best effort: the message is already sent, so a failure is logged, never raised (a raise
    would make the outbox send the notice again).
    """
    try:
        async with db.unit_of_work() as session:
            conversations = Conversations(session)
            conv = await conversations.get(channel, user_id) or Conversation(
                channel=channel, user_id=user_id)
            conv.buttons = [[b.label, b.payload] for b in buttons]
            await conversations.save(conv)
            await session.commit()
    except Exception:
        log.exception("%s: could not offer a notice's choices", channel)
