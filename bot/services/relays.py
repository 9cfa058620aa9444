"""Hamlet-group notices that the hamlet head relays by hand.

Where the bot cannot post into a hamlet's group itself (Zalo groups are Beta and off by
default, or a group send failed), each hamlet head gets two messages in private: the
notice exactly as it should reach the group (ready to forward), then a hint with a
"Relayed" button. The notice's outbox row (kind "relay") is the delivery record: its
status becomes "relayed" when the head taps the button, and the log says who relayed it.
"""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import translations
from bot.messages import Button, Reply
from bot.pseudonym import user_ref
from bot.services import outbox
from storage import clock
from storage.models import GroupLink, Hamlet, InteractionLog, OutboxMessage, RoleGrant
from storage.repositories import InteractionLogs, Users

RELAY, RELAYED = "relay", "relayed"
PAYLOAD = "go:relay:"  # + the id of the notice's outbox row


class NoHamletHead(LookupError):
    """The group's hamlet has no hamlet head to hand the notice to."""


async def hand_to_heads(session: AsyncSession, link: GroupLink, reply: Reply,
                        default_locale: str = "vi") -> int:
    """Queue the notice and the "Relayed" hint for every head of the group's hamlet.

    Returns how many heads got it; raises NoHamletHead when there is none. The caller
    commits.
    """
    hamlet = await session.get(Hamlet, link.hamlet_id) if link.hamlet_id else None
    query = (select(RoleGrant)
             .where(RoleGrant.role == "hamlet_head", RoleGrant.hamlet_id == link.hamlet_id)
             .order_by(col(RoleGrant.id)))
    heads = list((await session.exec(query)).all()) if hamlet is not None else []
    if not heads:
        raise NoHamletHead(f"no hamlet head for the group {link.channel}:{link.chat_id}")
    group = link.title or (hamlet.name if hamlet else link.chat_id)
    for head in heads:
        recipient = outbox.Recipient(head.channel, head.user_id)
        user = await Users(session).get(head.channel, head.user_id)
        _ = translations(user.locale if user else default_locale).gettext
        notice = Reply(reply.text, attachments=reply.attachments)  # the group's buttons: none
        row_id = await outbox.enqueue(session, recipient, notice, kind=RELAY)
        hint = _("Please forward the message above to the group “{group}”: I cannot post "
                 "there myself. Then tap “Relayed”.").format(group=group)
        await outbox.enqueue(session, recipient, Reply(hint, (
            Button(_("Relayed"), f"{PAYLOAD}{row_id}"),)), kind="relay_hint")
    return len(heads)


async def mark_relayed(session: AsyncSession, row_id: int, channel: str, user_id: str,
                       pseudonym_key: bytes) -> bool | None:
    """The head relayed the notice: True, False when it was already marked, None when
    the row is not a relay addressed to this person."""
    row = await session.get(OutboxMessage, row_id)
    if row is None or row.kind != RELAY or (row.channel, row.chat_id) != (channel, user_id):
        return None
    if row.status == RELAYED:
        return False
    row.status = RELAYED
    row.last_error = None
    row.sent_at = row.sent_at or clock.now()
    session.add(row)
    InteractionLogs(session).append(InteractionLog(
        channel=channel, direction="out", kind="relayed_by_hamlet_head",
        user_ref=user_ref(pseudonym_key, channel, user_id),
    ))
    return True
