"""What dialogue sessions tell people: notices in each person's language through the outbox,
staff alerts, and the ticket's QR image.

Nothing here decides who has a seat; bot.services.sessions does, and calls these.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import SUPPORTED_LOCALES
from bot.i18n import format_datetime, translations
from bot.messages import Attachment, Button, Reply
from bot.services import groups, outbox
from bot.services.session_rules import require_scheduled
from storage.models import Broadcast, DialogueSession, RoleGrant, User
from storage.repositories import InteractionLogs, Users

ALERT_PERCENTS = (80, 100)
STAFF_ROLES = ("staff", "admin")
TICKETS_DIR = Path("data") / "files" / "tickets"  # set from the settings by `configure`


def configure(data_dir: Path) -> None:
    """Keep ticket images under the data folder of the settings."""
    global TICKETS_DIR
    TICKETS_DIR = Path(data_dir) / "files" / "tickets"


def reminder_text(_: Callable[[str], str], locale: str, item: DialogueSession, ticket: str,
                  timezone: str) -> str:
    """The reminder a registrant gets before the session."""
    text = _("Reminder: the dialogue session “{topic}” starts at {when}, at {place}. Your "
             "ticket code: {ticket}.").format(
        topic=item.topic, when=format_datetime(item.starts_at, locale, timezone),
        place=item.place, ticket=ticket)
    if item.online_link:
        text += "\n" + _("Online: {link}").format(link=item.online_link)
    return text


def change_text(_: Callable[[str], str], locale: str, item: DialogueSession,
                ticket: str | None, timezone: str) -> str:
    """The notice of a new time or place; `ticket` is None for people on the waiting list."""
    text = _("The dialogue session “{topic}” has changed. It now takes place at {when}, at "
             "{place}.").format(topic=item.topic,
                                when=format_datetime(item.starts_at, locale, timezone),
                                place=item.place)
    if ticket:
        text += " " + _("Your registration and your ticket code {ticket} stay valid.").format(
            ticket=ticket)
    else:
        text += " " + _("You are still on the waiting list.")
    return text


def invitation_text(locale: str, item: DialogueSession, timezone: str) -> str:
    """The invitation a session's announcement sends: time, place, content and how to
    attend, as the law asks of the 7-day notice."""
    _ = translations(locale).gettext
    lines = [_("Invitation to a dialogue session with the commune's leaders: “{topic}”.").format(
        topic=item.topic)]
    if item.leaders:
        lines.append(_("With: {leaders}").format(leaders=", ".join(item.leaders)))
    lines += [f"🕗 {format_datetime(item.starts_at, locale, timezone)}", f"📍 {item.place}"]
    if item.online_link:
        lines.append(_("Online: {link}").format(link=item.online_link))
    lines.append(_("Seats for residents: {seats}. To register or send a question in advance, "
                   "open “Dialogue sessions” in the chat with the assistant, or type the code "
                   "s{number} there.").format(seats=item.capacity - item.reserved,
                                              number=item.id))
    return "\n".join(lines)


def invitation_buttons(locale: str, item: DialogueSession) -> tuple[Button, ...]:
    """In a private chat the invitation opens the session at a tap."""
    return (Button(translations(locale).gettext("View and register"), f"go:session:{item.id}"),)


async def invite(session: AsyncSession, item: DialogueSession, *, actor: str, now: datetime,
                 timezone: str, hamlet_ids: Sequence[int] = (), audience: str = "both",
                 locale: str = "vi") -> Broadcast:
    """Announce the session to residents: its invitation goes out as a notice (hamlet groups
    and residents who opted in, as for any notice; private chats wait out the night)."""
    from bot.services import broadcasts  # it renders invitations with this module

    require_scheduled(item)
    broadcast = await broadcasts.create(
        session, text=invitation_text(locale, item, timezone), hamlet_ids=hamlet_ids,
        audience=audience, actor=actor, now=now, timezone=timezone, session_id=item.id,
        locale=locale)
    await broadcasts.run_due(session, now, timezone)
    InteractionLogs(session).admin("session_announce", f"#{item.id} notice #{broadcast.id}",
                                   actor, now=now)
    return broadcast


async def invitation(session: AsyncSession, session_id: int) -> Broadcast | None:
    """The latest invitation to the session that was not cancelled, if it was announced."""
    query = (select(Broadcast).where(Broadcast.session_id == session_id,
                                     Broadcast.status != "cancelled")
             .order_by(col(Broadcast.id).desc()))
    return (await session.exec(query)).first()


async def withdraw_invitations(session: AsyncSession, session_id: int, actor: str) -> int:
    """The session is cancelled: invitations not yet delivered are not sent any more."""
    from bot.services import broadcasts

    query = select(Broadcast).where(Broadcast.session_id == session_id,
                                    Broadcast.status != "cancelled")
    return sum([await broadcasts.cancel(session, item, actor)
                for item in (await session.exec(query)).all()])


async def invitation_recipients(session: AsyncSession, broadcast: Broadcast) -> int:
    """How many chats the invitation was queued for."""
    from bot.services import broadcasts

    return sum((await broadcasts.progress(session, broadcast.id)).values())


async def notify(session: AsyncSession, user_id: int | None, dedup_key: str, kind: str,
                  text: Callable[[Callable[[str], str], str], str], *,
                  session_id: int | None = None, attachments: tuple[Attachment, ...] = (),
                  count_only: bool = True) -> int:
    """Queue a notice to one user in their language; 1 (or its outbox id) when queued."""
    user = await session.get(User, user_id) if user_id is not None else None
    if user is None:
        return 0
    _ = translations(user.locale).gettext
    buttons = (Button(_("View"), f"go:session:{session_id}"),) if session_id else ()
    queued = await outbox.enqueue(
        session, outbox.Recipient(user.channel, user.external_id),
        Reply(text(_, user.locale), buttons, attachments), dedup_key=dedup_key, kind=kind)
    if count_only:
        return int(queued is not None)
    return queued or 0


async def staff_recipients(session: AsyncSession) -> list[tuple[outbox.Recipient, str]]:
    """Who hears staff alerts, with their language: the linked staff chat(s), else every
    staff and admin identity in private."""
    chats = await groups.staff_chats(session)
    if chats:
        return [(chat, "vi") for chat in chats]
    grants = (await session.exec(select(RoleGrant).where(
        RoleGrant.role.in_(STAFF_ROLES)).order_by(RoleGrant.id))).all()
    found, seen = [], set()
    for grant in grants:
        if (grant.channel, grant.user_id) in seen:
            continue
        seen.add((grant.channel, grant.user_id))
        user = await Users(session).get(grant.channel, grant.user_id)
        locale = user.locale if user and user.locale in SUPPORTED_LOCALES else "vi"
        found.append((outbox.Recipient(grant.channel, grant.user_id), locale))
    return found


async def alert_staff(session: AsyncSession, item: DialogueSession, *, taken: int, seats: int,
                      waiting: int, timezone: str) -> int:
    """Tell staff when registrations reach 80% and 100% of the open seats (once each)."""
    reached = [p for p in ALERT_PERCENTS if seats and taken * 100 >= p * seats]
    if not reached:
        return 0
    percent = reached[-1]
    queued = 0
    for recipient, locale in await staff_recipients(session):
        _ = translations(locale).gettext
        text = _("Dialogue session #{id} “{topic}” ({when}) is {percent} full: {taken} of "
                 "{seats} seats taken, {waiting} on the waiting list.").format(
            id=item.id, topic=item.topic, when=format_datetime(item.starts_at, locale, timezone),
            percent=f"{percent}%", taken=taken, seats=seats, waiting=waiting)
        key = f"session:{item.id}:full{percent}:seats{seats}:{recipient.channel}:" \
              f"{recipient.chat_id}"
        queued += await outbox.enqueue(session, recipient, Reply(text), dedup_key=key[:200],
                                       kind="session_alert") is not None
    return queued


def ticket_attachments(ticket: str) -> tuple[Attachment, ...]:
    """The ticket as a QR image (PNG under the data folder), or nothing if it cannot be made."""
    try:
        import segno

        path = TICKETS_DIR / f"{ticket}.png"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            segno.make(ticket, error="m").save(str(path), kind="png", scale=10, border=4)
    except (ImportError, OSError):
        return ()
    return (Attachment("photo", str(path.resolve()), name=f"{ticket}.png",
                       mime_type="image/png"),)
