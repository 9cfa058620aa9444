"""Choices offered outside a turn: a notice's buttons become what the person presses next.

Channels without buttons (Zalo) show a notice's choices as numbered lines; saving them as the
person's offered buttons makes a typed number (or a tap, on Zalo OA) press the right one.
A person in the middle of something keeps the step's choices: the notice then carries what
to type instead ("PA-2026-000123"), which works at any step.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.i18n import translations
from bot.messages import Button, Reply
from storage.db import Database
from storage.models import Conversation
from storage.repositories import Conversations, Users

log = logging.getLogger(__name__)
IDLE_FLOWS = (None, "menu")  # where a notice's choices may replace the ones on screen
# What to type for a link button "go:<name>:<arg>" (bot.flows reads the same codes back).
KEYWORDS = {"petition": "{arg}", "session": "DT{arg}", "disclosure": "TT{arg}",
            "relay": "CT{arg}"}


def keyword(payload: str) -> str | None:
    """The code to type that does what the button does, or None ("go:session:12" -> "DT12")."""
    name, _, arg = payload.removeprefix("go:").partition(":")
    if not payload.startswith("go:") or not arg or name not in KEYWORDS:
        return None
    return KEYWORDS[name].format(arg=arg)


async def for_numbered_channel(db: Database, channel: str, chat_id: str, reply: Reply,
                               default_locale: str = "vi") -> tuple[Reply, bool]:
    """How a notice goes out where choices are numbered text, and whether to offer its
    choices once sent: as it is at the menu; mid-flow without numbers, with the codes to
    type, so a typed "1" still answers the step the person is at."""
    if not reply.buttons:
        return reply, False
    async with db.session() as session:
        conv = await Conversations(session).get(channel, chat_id)
        if conv is None or conv.flow in IDLE_FLOWS:
            return reply, True
        user = await Users(session).get(channel, chat_id)
    _ = translations(user.locale if user else default_locale).gettext
    lines = [f"• {code} — {b.label}" for b in reply.buttons if (code := keyword(b.payload))]
    text = reply.text
    if lines:
        text += "\n\n" + _("What you are doing now is kept. When you are ready, type:") + \
            "\n" + "\n".join(lines)
    return Reply(text, (), reply.attachments), False


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
