"""Who a notice reaches and who it comes from.

`targets` lists the chats a broadcast goes to (the hamlets' linked groups and the residents
who opted in to hamlet notices); `reach` counts them before anything is sent, so the sender
sees the audience in numbers and is warned before sending to nobody. A hamlet group on Zalo
is posted by the bot only when Zalo groups are on; otherwise its hamlet heads forward it
(bot.services.relays), so the heads of those hamlets are counted too. `sender_title` is the
first line's speaker: "UBND xã Chi Lăng", "Trưởng Khu Hòa Bình".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import translations, unit_name
from bot.services import groups, outbox
from bot.textfold import fold, nfc
from storage.models import Commune, GroupLink, Hamlet, RoleGrant
from storage.repositories import Subscriptions

HAMLET_NOTICES = "hamlet_notices"  # the residents' opt-in topic (Settings)
RELAYED_CHANNELS = ("zalo",)  # hamlet groups the hamlet head forwards by hand (by default)


@dataclass(frozen=True)
class Target:
    """One recipient of a broadcast: a chat, whether it is a person's private chat, and
    the language to speak there."""

    recipient: outbox.Recipient
    private: bool
    locale: str = "vi"


@dataclass(frozen=True)
class Reach:
    """How many chats a notice would reach, by kind."""

    groups: int = 0
    residents: int = 0
    relay_heads: int = 0  # hamlet heads who forward it to a Zalo group

    @property
    def nobody(self) -> bool:
        """True when the notice would reach no one at all."""
        return not (self.groups or self.residents)


async def _groups(session: AsyncSession, hamlet_ids: Sequence[int]) -> Sequence[GroupLink]:
    query = select(GroupLink).where(GroupLink.kind == groups.HAMLET)
    if hamlet_ids:
        query = query.where(col(GroupLink.hamlet_id).in_(hamlet_ids))
    return (await session.exec(query.order_by(GroupLink.id))).all()


async def targets(session: AsyncSession, hamlet_ids: Sequence[int], audience: str,
                  default_locale: str = "vi") -> list[Target]:
    """The hamlets' linked groups and/or their residents who opted in (no hamlet: all)."""
    found: list[Target] = []
    if audience in ("groups", "both"):
        for link in await _groups(session, hamlet_ids):
            found.append(Target(outbox.Recipient(link.channel, link.chat_id), private=False,
                                locale=default_locale))
    if audience in ("residents", "both"):
        for user in await Subscriptions(session).subscribers(HAMLET_NOTICES):
            if user.hamlet_id is None or user.blocked_at is not None:
                continue
            if hamlet_ids and user.hamlet_id not in hamlet_ids:
                continue
            found.append(Target(outbox.Recipient(user.channel, user.external_id),
                                private=True, locale=user.locale or default_locale))
    return found


async def reach(session: AsyncSession, hamlet_ids: Sequence[int], audience: str) -> Reach:
    """Count the groups, residents and forwarding hamlet heads of an audience."""
    found = await targets(session, hamlet_ids, audience)
    relayed = {link.hamlet_id for link in await _groups(session, hamlet_ids)
               if link.channel in RELAYED_CHANNELS} if audience != "residents" else set()
    heads = (await session.exec(select(RoleGrant.channel, RoleGrant.user_id).where(
        RoleGrant.role == "hamlet_head", col(RoleGrant.hamlet_id).in_(relayed)))).all() \
        if relayed else []
    return Reach(groups=sum(not t.private for t in found),
                 residents=sum(t.private for t in found), relay_heads=len(set(heads)))


def commune_title(commune: Commune | None, locale: str) -> str:
    """"UBND xã Chi Lăng": the commune's People's Committee (empty without a commune)."""
    if commune is None:
        return ""
    return translations(locale).gettext("The People's Committee of {commune}").format(
        commune=unit_name(nfc(commune.name.strip()), commune.unit_type.strip(), locale))


def hamlet_head_title(hamlets: Sequence[Hamlet], locale: str) -> str:
    """"Trưởng Khu Hòa Bình": the head of the hamlet(s) the notice is for."""
    names = []
    for hamlet in hamlets:
        name = hamlet.name.strip()
        label = hamlet.label.strip()
        if label and not fold(name).startswith(fold(label)):
            name = f"{label[:1].upper()}{label[1:]} {name}"
        names.append(name)
    return translations(locale).gettext("Head of {hamlet}").format(hamlet=", ".join(names))


def announces(sender: str, locale: str) -> str:
    """The notice's first line: "UBND xã Chi Lăng thông báo:"."""
    if not sender:
        return ""
    return translations(locale).gettext("{sender} announces:").format(sender=sender)
