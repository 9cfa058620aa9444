"""Group chats the bot serves: the staff chat and hamlet groups (linking, listing, lookup).

Features post to the staff chat through `staff_chats` and the outbox, e.g. a new petition
with buttons that act on it; `may_press_staff_buttons` decides who may press them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import roles
from bot.services.outbox import Recipient
from storage.models import GroupLink, Hamlet
from storage.repositories import Hamlets, InteractionLogs

STAFF, HAMLET = "staff", "hamlet"
STAFF_ROLES = frozenset({"staff", "admin"})  # who may press buttons in the staff chat


class GroupError(ValueError):
    """A link that cannot be made; the message says why."""


async def link(
    session: AsyncSession, channel: str, chat_id: str, *, staff: bool = False,
    hamlet: str | None = None, title: str | None = None, actor: str = "",
) -> GroupLink:
    """Make the chat the staff chat or a hamlet's group (re-linking replaces the old link)."""
    if staff == (hamlet is not None):
        raise GroupError("choose exactly one of --staff or --hamlet CODE")
    hamlet_row = None
    if hamlet is not None:
        hamlet_row = await Hamlets(session).by_code(hamlet)
        if hamlet_row is None or not hamlet_row.active:
            raise GroupError(f"unknown hamlet {hamlet!r} (use its code from the commune file)")
    row = await get(session, channel, chat_id) or GroupLink(channel=channel, chat_id=chat_id,
                                                            kind=STAFF)
    row.kind = STAFF if staff else HAMLET
    row.hamlet_id = hamlet_row.id if hamlet_row else None
    row.title = title or row.title
    row.linked_by = actor
    session.add(row)
    InteractionLogs(session).admin("group_link", f"{row.kind} {hamlet or ''}".strip(), actor,
                                   channel=channel)
    return row


async def unlink(session: AsyncSession, channel: str, chat_id: str, actor: str = "") -> bool:
    """Forget the chat's link; False when it was not linked."""
    row = await get(session, channel, chat_id)
    if row is None:
        return False
    await session.delete(row)
    InteractionLogs(session).admin("group_unlink", row.kind, actor, channel=channel)
    return True


async def move(session: AsyncSession, channel: str, old_chat_id: str, new_chat_id: str) -> bool:
    """A group got a new chat id (Telegram: group upgraded to supergroup); keep its link."""
    row = await get(session, channel, old_chat_id)
    if row is None or await get(session, channel, new_chat_id) is not None:
        return False
    row.chat_id = new_chat_id
    session.add(row)
    InteractionLogs(session).admin("group_move", row.kind, f"{channel}:migration",
                                   channel=channel)
    return True


async def get(session: AsyncSession, channel: str, chat_id: str) -> GroupLink | None:
    """The link of one chat, if any."""
    query = select(GroupLink).where(GroupLink.channel == channel, GroupLink.chat_id == chat_id)
    return (await session.exec(query)).first()


async def all_links(session: AsyncSession) -> Sequence[tuple[GroupLink, Hamlet | None]]:
    """Every linked chat with its hamlet, staff chats first."""
    query = (
        select(GroupLink, Hamlet)
        .join(Hamlet, col(GroupLink.hamlet_id) == col(Hamlet.id), isouter=True)
        .order_by(col(GroupLink.kind).desc(), GroupLink.channel, GroupLink.chat_id)
    )
    return (await session.exec(query)).all()


async def staff_chats(session: AsyncSession) -> list[Recipient]:
    """Where staff notices go: every chat linked as the staff chat."""
    query = select(GroupLink).where(GroupLink.kind == STAFF).order_by(GroupLink.id)
    return [Recipient(row.channel, row.chat_id) for row in (await session.exec(query)).all()]


async def hamlet_chats(session: AsyncSession, hamlet_id: int) -> list[Recipient]:
    """The group chats linked to one hamlet."""
    query = select(GroupLink).where(GroupLink.kind == HAMLET, GroupLink.hamlet_id == hamlet_id)
    return [Recipient(row.channel, row.chat_id) for row in (await session.exec(query)).all()]


async def may_press_staff_buttons(session: AsyncSession, channel: str, user_id: str) -> bool:
    """True for members with the staff or admin role."""
    return bool(await roles.roles_of(session, channel, user_id) & STAFF_ROLES)


async def is_admin(session: AsyncSession, channel: str, user_id: str) -> bool:
    """True when the person may link groups."""
    return "admin" in await roles.roles_of(session, channel, user_id)
