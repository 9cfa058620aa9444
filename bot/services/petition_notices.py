"""What petitions tell people: the sender and followers on every change, staff (the card
with buttons, never a denouncer's identity or content) and the 08:00 digest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import format_date, translations
from bot.messages import Attachment, Button, Reply
from bot.services import groups, outbox, petition_cards, petition_statuses
from bot.services import petitions as core  # core names are read at call time
from storage.models import Petition, RoleGrant, User
from storage.repositories import Subscriptions


def _link(petition: Petition, _: Any) -> tuple[Button, ...]:
    return (Button(_("View"), f"go:petition:{petition.code}"),)


async def notify_resident(session: AsyncSession, petition: Petition, timezone: str, *,
                          note: str | None = None, answer: bool = False,
                          extended: bool = False) -> None:
    """Tell the sender about a status change, a longer deadline or the answer, on their own
    channel."""
    user = await session.get(User, petition.user_id) if petition.user_id else None
    if user is None:
        await _notify_followers(session, petition, len(await core.timeline(session, petition.id)))
        return
    _ = translations(user.locale).gettext
    named = _(petition_statuses.NAMED[petition.kind]).format(code=petition.code)
    if answer:
        text = _("{petition}: the People's Committee has answered:").format(
            petition=named) + f"\n\n{petition.answer}"
    elif extended:  # the law's longer period (complex case, remote area) now applies
        why = [_("the case is complex")] if petition.complex_case else []
        why += [_("it concerns a remote or hard-to-reach area")] if petition.remote_area else []
        text = _("{petition}: the time to settle it is extended as the law allows, because "
                 "{reasons}. {due}.").format(
            petition=named, reasons=_(" and ").join(why),
            due=petition_cards.due_text(petition, _,
                                        lambda d: format_date(d, user.locale, timezone)))
    else:
        text = _("{petition}: {status}.").format(
            petition=named, status=_(petition_statuses.resident_label(petition.kind,
                                                                      petition.status)))
        if note:
            text += "\n" + _("Note: {note}").format(note=note)
        if petition.status in petition_statuses.OPEN:
            text += "\n" + petition_cards.due_text(
                petition, _, lambda d: format_date(d, user.locale, timezone)) + "."
    events = len(await core.timeline(session, petition.id))
    files = tuple(Attachment(**{k: f.get(k) for k in ("kind", "ref", "name", "mime_type", "size")})
                  for f in petition.answer_files) if answer else ()
    await outbox.enqueue(
        session, outbox.Recipient(user.channel, user.external_id),
        Reply(text, _link(petition, _), files),
        dedup_key=f"petition:{petition.id}:event:{events}",
        kind=outbox.UNLINKED_KIND if petition.kind == petition_statuses.DENUNCIATION
        else "petition",
    )
    await _notify_followers(session, petition, events)


async def _notify_followers(session: AsyncSession, petition: Petition, events: int) -> None:
    """People who chose to follow this petition instead of sending the same: status only."""
    for follower in await Subscriptions(session).subscribers(f"petition:{petition.id}"):
        _ = translations(follower.locale).gettext
        named = _(petition_statuses.NAMED[petition.kind]).format(code=petition.code)
        text = _("{petition}, which you follow: {status}.").format(
            petition=named, status=_(petition_statuses.resident_label(petition.kind,
                                                                      petition.status)))
        await outbox.enqueue(
            session, outbox.Recipient(follower.channel, follower.external_id), Reply(text),
            dedup_key=f"petition:{petition.id}:event:{events}:follower:{follower.id}",
            kind="petition",
        )


async def staff_recipients(session: AsyncSession) -> tuple[list[outbox.Recipient], bool]:
    """Where staff notices go: the linked staff chat(s), else every staff/admin identity
    privately. The flag says whether they are staff chats."""
    chats = await groups.staff_chats(session)
    if chats:
        return chats, True
    query = select(RoleGrant.channel, RoleGrant.user_id).where(
        col(RoleGrant.role).in_(("staff", "admin"))).distinct()
    return [outbox.Recipient(channel, user_id)
            for channel, user_id in (await session.exec(query)).all()], False


async def notify_staff(session: AsyncSession, petition: Petition, settings: core.Settings,
                       timezone: str, *, new: bool, added: bool = False) -> int:
    """Post a new (or reopened, or added to) petition to staff: the card with its action
    buttons and the resident's photos, files and location pin, to the staff chat or else to
    each staff member privately. A reopened one says why, with the rating and the new
    deadline; an addition is in the card's timeline."""
    _ = translations("vi").gettext
    head = (_("New petition") if new else
            _("The resident added information to the petition") if added else
            _("Petition reopened by the resident"))
    count = 0
    events = len(await core.timeline(session, petition.id))
    recipients, in_staff_chat = await staff_recipients(session)
    for recipient in recipients:
        viewer = petition_cards.Viewer(channel=recipient.channel)  # never a secret in a push
        text = await petition_cards.card(session, petition, settings, timezone, viewer)
        reply = Reply(f"{head}\n{text}", petition_cards.buttons(petition, viewer),
                      petition_cards.evidence(petition, recipient.channel,
                                              secret=petition_cards.secret(petition, viewer)))
        queued = await outbox.enqueue(
            session, recipient, reply, kind="staff",
            dedup_key=f"petition:{petition.id}:staff:{events}:{recipient.channel}:"
                      f"{recipient.chat_id}",
        )
        count += queued is not None
    return count


async def daily_digest(session: AsyncSession, now: datetime, timezone: str,
                       settings: core.Settings) -> int:
    """The 08:00 job: open petitions overdue or due within 2 working days, to staff once a day."""
    today = core.local_day(now, timezone)
    soon = settings.calendar.add_working_days(today, 2)
    due = [p for p in petition_cards.by_urgency(
        await core.listing(session, statuses=petition_statuses.OPEN, limit=1000))
        if petition_cards.due_now(p)[1] <= soon]
    if not due:
        return 0
    _ = translations("vi").gettext
    lines = [_("Petitions to answer soon ({day}):").format(day=format_date(today, "vi",
                                                                           timezone))]
    lines += [f"• {petition_cards.queue_line(p, today, 'vi', timezone)}" for p in due]
    lines.append(_("Open the list with /petitions."))
    count = 0
    recipients, _in_staff_chat = await staff_recipients(session)
    for recipient in recipients:
        queued = await outbox.enqueue(
            session, recipient, Reply("\n".join(lines)), kind="staff",
            dedup_key=f"petitions:digest:{today.isoformat()}:{recipient.channel}:"
                      f"{recipient.chat_id}",
        )
        count += queued is not None
    return count
