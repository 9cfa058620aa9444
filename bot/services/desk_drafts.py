"""What a staff member is giving on a petition between messages (DeskDraft): the reason
for not accepting, where a petition is forwarded and why, or an answer with its files.
One draft per person and chat; starting another replaces it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messages import Attachment
from storage.models import DeskDraft

MAX_FILES = 10


async def current(session: AsyncSession, channel: str, chat_id: str, user_id: str
                  ) -> DeskDraft | None:
    """The person's draft in this chat, if any."""
    query = select(DeskDraft).where(DeskDraft.channel == channel, DeskDraft.chat_id == chat_id,
                                    DeskDraft.user_id == user_id)
    return (await session.exec(query)).first()


async def start(session: AsyncSession, channel: str, chat_id: str, user_id: str, *,
                petition_id: int, action: str, now: datetime) -> DeskDraft:
    """A new, empty draft (the old one of this person and chat is dropped)."""
    draft = await current(session, channel, chat_id, user_id)
    if draft is None:
        draft = DeskDraft(channel=channel, chat_id=chat_id, user_id=user_id,
                          petition_id=petition_id, action=action)
    draft.petition_id, draft.action, draft.target = petition_id, action, None
    draft.text, draft.files, draft.updated_at = "", [], now
    session.add(draft)
    await session.flush()
    return draft


def add(draft: DeskDraft, text: str, attachments: tuple[Attachment, ...], channel: str,
        now: datetime) -> None:
    """Add a message to the draft: its text on a new line, its files (up to MAX_FILES)."""
    if text.strip():
        draft.text = "\n".join(p for p in (draft.text, text.strip()) if p)
    files: list[dict[str, Any]] = list(draft.files)
    for attachment in attachments:
        if len(files) < MAX_FILES and attachment.kind in ("photo", "image", "document",
                                                          "voice"):
            files.append({**vars(attachment), "channel": channel})
    draft.files, draft.updated_at = files, now


async def drop(session: AsyncSession, draft: DeskDraft | None) -> None:
    """Forget the draft."""
    if draft is not None:
        await session.delete(draft)
        await session.flush()
