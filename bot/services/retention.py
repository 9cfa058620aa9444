"""How long personal data stays where it is only in transit: a flow's draft, sent messages.

A flow's data (`conversations.data`) is dropped when the flow ends or is cancelled (the
engine) and, for a flow left unfinished, FLOW_TIMEOUT after the last message (the
`clear_stale_drafts` job; a staff member's unsent answer on the desk, DESK_DRAFT_TIMEOUT
after its last message). The texts of messages that went out through the outbox are
erased `keep_days` after delivery (OUTBOX_RETENTION_DAYS, default 30); the row (kind,
status, times) stays for the delivery counts of the yearly report. Files made for one
person ("my data") are deleted with their message's text. Files people sent that were
downloaded for a draft (DATA_DIR/received/) and that no row refers to FLOW_TIMEOUT later
(the draft was cancelled or abandoned) are deleted by `forget_unsent_files`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import outbox
from storage.models import (
    Broadcast,
    Conversation,
    DeskDraft,
    Disclosure,
    DisclosureRevision,
    OutboxMessage,
    Petition,
)

FLOW_TIMEOUT = timedelta(hours=24)
# A staff answer or reason being written may wait over a weekend and a holiday, not longer.
DESK_DRAFT_TIMEOUT = timedelta(days=7)
PERSONAL_FILES = "mydata"  # the folder under DATA_DIR of files made for one person
RECEIVED = "received"  # bot.handlers.received_files.FOLDER (services import no handler)
_RECEIVED_REF = re.compile(RECEIVED + r'/[^"\s]+')
# Every column that may hold a file people sent (as an attachment's "ref").
_FILE_COLUMNS = (Conversation.data, Petition.attachments, Petition.answer_files,
                 Broadcast.attachments, Disclosure.attachment, DisclosureRevision.attachment,
                 OutboxMessage.attachments, DeskDraft.files)
_FINISHED = (outbox.SENT, outbox.FAILED, outbox.BLOCKED, outbox.CANCELLED)
_ERASED = {"text": "", "buttons": [], "attachments": []}


async def clear_stale_drafts(session: AsyncSession, now: datetime) -> int:
    """Forget flows left unfinished for FLOW_TIMEOUT (data, step and offered buttons) and
    staff answers left unsent for DESK_DRAFT_TIMEOUT; how many were forgotten."""
    flows = await session.exec(
        sa.update(Conversation)
        .where(col(Conversation.updated_at) < now - FLOW_TIMEOUT,
               col(Conversation.flow).is_not(None))
        .values(flow=None, step=None, data={}, buttons=[])
    )
    desk = await session.exec(
        sa.delete(DeskDraft).where(col(DeskDraft.updated_at) < now - DESK_DRAFT_TIMEOUT))
    return flows.rowcount + desk.rowcount


async def forget_unsent_files(session: AsyncSession, data_dir: Path, now: datetime) -> int:
    """Delete files people sent that no draft, petition, notice or message refers to and
    that are older than FLOW_TIMEOUT (a cancelled or abandoned draft's photos)."""
    referenced: set[str] = set()
    for column in _FILE_COLUMNS:
        for value in (await session.exec(select(column).where(column.is_not(None)))).all():
            referenced.update(_RECEIVED_REF.findall(json.dumps(value, ensure_ascii=False)))
    return _remove_unreferenced(data_dir, referenced, now - FLOW_TIMEOUT)


def _remove_unreferenced(data_dir: Path, referenced: set[str], older_than: datetime) -> int:
    """Remove files under DATA_DIR/received/ not in `referenced`, last written before."""
    removed = 0
    for path in sorted((data_dir / RECEIVED).rglob("*")):
        relative = path.relative_to(data_dir).as_posix()
        if (path.is_file() and relative not in referenced
                and path.stat().st_mtime < older_than.timestamp()):
            path.unlink()
            removed += 1
    return removed


async def prune_outbox(session: AsyncSession, now: datetime, keep_days: int) -> int:
    """Erase the texts of messages finished more than `keep_days` ago; returns how many."""
    cutoff = now - timedelta(days=keep_days)
    finished_at = sa.func.coalesce(col(OutboxMessage.sent_at), col(OutboxMessage.created_at))
    return await _erase(session, col(OutboxMessage.status).in_(_FINISHED),
                        finished_at < cutoff)


async def forget_messages_to(session: AsyncSession, channel: str, chat_id: str) -> int:
    """"Delete my data": erase every message to this chat that is not waiting to go out
    (those still pending are cancelled first, except notices about the person's petitions,
    which the law requires the commune to give)."""
    await session.exec(
        sa.update(OutboxMessage)
        .where(col(OutboxMessage.channel) == channel, col(OutboxMessage.chat_id) == chat_id,
               col(OutboxMessage.status) == outbox.PENDING,
               col(OutboxMessage.kind) != "petition")
        .values(status=outbox.CANCELLED)
    )
    return await _erase(session, col(OutboxMessage.channel) == channel,
                        col(OutboxMessage.chat_id) == chat_id,
                        col(OutboxMessage.status).in_(_FINISHED))


async def _erase(session: AsyncSession, *where: sa.ColumnElement[bool]) -> int:
    """Erase the content of the matching rows that still have some, and their own files."""
    where = (*where, col(OutboxMessage.text) != "")
    _remove_personal_files((await session.exec(select(OutboxMessage.attachments)
                                               .where(*where))).all())
    result = await session.exec(sa.update(OutboxMessage).where(*where).values(**_ERASED))
    return result.rowcount


def _remove_personal_files(attachment_lists: list) -> None:
    """Delete the files made for one person among these attachments (small, local files)."""
    for attachments in attachment_lists:
        for attachment in attachments or ():
            path = Path(attachment.get("ref", ""))
            if path.parent.name == PERSONAL_FILES and path.is_file():
                path.unlink()
