"""Broadcasts: notices to hamlet groups and opted-in residents, now, later or recurring.

A broadcast is a row; each run turns it into one outbox row per recipient
(`OutboxMessage.broadcast_id`), so the outbox is the durable delivery queue: the dispatcher
sends, retries, marks blocked, respects the channel's rate limits (Telegram: PTB's
AIORateLimiter), and logs each delivery as `broadcast_delivery`. A scheduler job runs what
is due; a run is one transaction, so a crash never half-queues a run, and the dedup key of
each delivery makes a repeated run queue nothing twice. Private chats get no notice
between 21:00 and 06:30 local unless it is urgent: those deliveries wait for the morning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import translations
from bot.messages import Attachment, Reply
from bot.services import outbox
from bot.services.broadcast_audience import HAMLET_NOTICES, Target, announces, commune_title
from bot.services.broadcast_audience import targets as audience_targets
from bot.services.quiet_hours import quiet_until
from bot.textfold import nfc
from storage.models import Broadcast, DialogueSession, OutboxMessage, User
from storage.repositories import Communes, InteractionLogs, Subscriptions, Users

AUDIENCES = ("groups", "residents", "both")
MAX_TEXT = 8000  # channels split long texts on paragraphs; longer than this is refused
SCHEDULED, PAUSED, DONE, CANCELLED = "scheduled", "paused", "done", "cancelled"


class BroadcastError(ValueError):
    """A broadcast that cannot be made or changed; the message says why."""


def next_fire(crontab: str, after: datetime, timezone: str) -> datetime:
    """The next time a crontab line fires after `after` (raises BroadcastError if invalid)."""
    from bot.scheduler import cron_trigger  # the scheduler module knows cron's weekday rules

    try:
        trigger = cron_trigger(crontab, ZoneInfo(timezone))
    except (ValueError, TypeError) as exc:
        raise BroadcastError(f"the schedule {crontab!r} is not a valid crontab line "
                             f"(minute hour day month weekday): {exc}") from None
    fire = trigger.get_next_fire_time(None, after)
    if fire is None:
        raise BroadcastError(f"the schedule {crontab!r} never fires")
    return fire


async def create(session: AsyncSession, *, text: str, hamlet_ids: Sequence[int],
                 audience: str, actor: str, now: datetime, timezone: str,
                 send_at: datetime | None = None, cron: str | None = None, urgent: bool = False,
                 attachments: Sequence[Attachment] = (),
                 allowed_hamlets: Sequence[int] | None = None, sender: str = "",
                 session_id: int | None = None, locale: str = "vi") -> Broadcast:
    """Schedule a broadcast; `allowed_hamlets` limits a hamlet head to their own hamlets.

    `sender` speaks in the first line ("Trưởng Khu Hòa Bình"); by default the commune's
    People's Committee, named in `locale`. `session_id`: the invitation to that session.
    """
    text = nfc(text.strip())
    if not text and not attachments:
        raise BroadcastError("the notice is empty")
    if len(text) > MAX_TEXT:
        raise BroadcastError(f"the notice has {len(text)} characters; the limit is {MAX_TEXT}")
    if audience not in AUDIENCES:
        raise BroadcastError(f"audience must be one of {', '.join(AUDIENCES)}")
    if allowed_hamlets is not None:
        if not hamlet_ids:
            raise BroadcastError("a hamlet head can only send to their own hamlets")
        if foreign := set(hamlet_ids) - set(allowed_hamlets):
            raise BroadcastError(f"not your hamlet(s): {sorted(foreign)}")
    if send_at is not None and send_at < now - timedelta(minutes=1):
        raise BroadcastError("that time is in the past")
    next_run = send_at or now
    if cron:
        next_run = send_at or next_fire(cron, now, timezone)
    broadcast = Broadcast(
        text=text, attachments=[vars(a).copy() for a in attachments],
        hamlet_ids=list(hamlet_ids), audience=audience, urgent=urgent, cron=cron or None,
        next_run_at=next_run, created_by=actor, created_at=now, session_id=session_id,
        sender=sender or commune_title(await Communes(session).current(), locale),
    )
    session.add(broadcast)
    await session.flush()
    InteractionLogs(session).admin("broadcast_create",
                                   f"#{broadcast.id} {audience} {cron or ''}"[:500], actor,
                                   now=now)
    return broadcast


async def targets(session: AsyncSession, broadcast: Broadcast,
                  default_locale: str = "vi") -> list[Target]:
    """Who gets it: the hamlets' linked groups and/or their residents who opted in."""
    return await audience_targets(session, broadcast.hamlet_ids, broadcast.audience,
                                  default_locale)


async def run_due(session: AsyncSession, now: datetime, timezone: str) -> int:
    """Queue every broadcast run that is due; returns how many deliveries were queued."""
    due = (await session.exec(
        select(Broadcast).where(Broadcast.status == SCHEDULED,
                                col(Broadcast.next_run_at) <= now)
        .order_by(Broadcast.next_run_at)
    )).all()
    queued = 0
    for broadcast in due:
        queued += await _run(session, broadcast, now, timezone)
    return queued


async def _run(session: AsyncSession, broadcast: Broadcast, now: datetime, timezone: str) -> int:
    broadcast.runs += 1
    broadcast.progress_ref = broadcast.progress_text = None  # a new run: a new progress line
    broadcast.progress_done = False
    files = tuple(Attachment(**a) for a in broadcast.attachments)
    morning = None if broadcast.urgent else quiet_until(now, timezone)
    queued = 0
    for target in await targets(session, broadcast):
        recipient = target.recipient
        new = await outbox.enqueue(
            session, recipient, await _reply(session, broadcast, target, files, timezone),
            kind="broadcast_delivery", broadcast_id=broadcast.id,
            not_before=morning if target.private and morning else now,
            dedup_key=f"broadcast:{broadcast.id}:{broadcast.runs}:{recipient.channel}:"
                      f"{recipient.chat_id}", now=now,
        )
        queued += new is not None
    if broadcast.cron:  # strictly after this run, which may fall exactly on a fire time
        broadcast.next_run_at = next_fire(broadcast.cron, now + timedelta(seconds=1), timezone)
    else:
        broadcast.status, broadcast.next_run_at = DONE, None
    session.add(broadcast)
    await session.flush()
    return queued


async def _reply(session: AsyncSession, broadcast: Broadcast, target: Target,
                 files: tuple[Attachment, ...], timezone: str) -> Reply:
    """The notice as one target reads it: the sender's line in the target's language, and
    for a session's invitation the invitation itself, with a button in private chats."""
    text, buttons = broadcast.text, ()
    if broadcast.session_id is not None:
        from bot.services import session_notices  # it builds on this module

        item = await session.get(DialogueSession, broadcast.session_id)
        if item is not None:
            text = session_notices.invitation_text(target.locale, item, timezone)
            if target.private:
                buttons = session_notices.invitation_buttons(target.locale, item)
    head = announces(broadcast.sender, target.locale)
    return Reply(f"{head}\n{text}" if head else text, buttons, files)


async def cancel(session: AsyncSession, broadcast: Broadcast, actor: str) -> int:
    """Stop a broadcast: no more runs, deliveries not yet sent are cancelled."""
    if broadcast.status == CANCELLED:
        return 0
    broadcast.status, broadcast.next_run_at = CANCELLED, None
    session.add(broadcast)
    ids = (await session.exec(select(OutboxMessage.id).where(
        OutboxMessage.broadcast_id == broadcast.id,
        OutboxMessage.status == outbox.PENDING))).all()
    cancelled = await outbox.cancel(session, list(ids)) if ids else 0
    InteractionLogs(session).admin("broadcast_cancel", f"#{broadcast.id} {cancelled}", actor)
    return cancelled


async def pause(session: AsyncSession, broadcast: Broadcast, actor: str, *,
                resume: bool = False, now: datetime | None = None,
                timezone: str = "Asia/Ho_Chi_Minh") -> Broadcast:
    """Pause a recurring broadcast, or resume it from the next time it fires."""
    if broadcast.status not in (SCHEDULED, PAUSED):
        raise BroadcastError(f"broadcast {broadcast.id} is {broadcast.status}")
    if resume:
        broadcast.status = SCHEDULED
        if broadcast.cron and now is not None:
            broadcast.next_run_at = next_fire(broadcast.cron, now, timezone)
    else:
        broadcast.status = PAUSED
    session.add(broadcast)
    InteractionLogs(session).admin("broadcast_resume" if resume else "broadcast_pause",
                                   f"#{broadcast.id}", actor, now=now)
    return broadcast


async def progress(session: AsyncSession, broadcast_id: int) -> dict[str, int]:
    """Deliveries of a broadcast by status (pending, sent, failed, blocked, cancelled)."""
    rows = (await session.exec(
        select(OutboxMessage.status, sa.func.count())
        .where(OutboxMessage.broadcast_id == broadcast_id).group_by(OutboxMessage.status)
    )).all()
    return dict(rows)


@dataclass(frozen=True)
class ProgressUpdate:
    """A progress line to show the sender of a broadcast."""

    broadcast_id: int
    channel: str
    chat_id: str
    text: str
    done: bool


async def progress_updates(session: AsyncSession) -> list[ProgressUpdate]:
    """For each broadcast whose sender follows it, the line to show if it changed.

    "Đã gửi 120/500" while deliveries are going out, then a last line with the failures.
    """
    query = select(Broadcast).where(col(Broadcast.notify_chat).is_not(None),
                                    Broadcast.progress_done == sa.false(), Broadcast.runs > 0)
    updates = []
    for item in (await session.exec(query)).all():
        counts = await progress(session, item.id)
        total = sum(counts.values()) - counts.get(outbox.CANCELLED, 0)
        sent = counts.get(outbox.SENT, 0)
        unfinished = counts.get(outbox.PENDING, 0) + counts.get(outbox.SENDING, 0)
        not_sent = counts.get(outbox.FAILED, 0) + counts.get(outbox.BLOCKED, 0)
        sender = await Users(session).get(item.notify_channel, item.notify_chat)
        _ = translations(sender.locale if sender else "vi").gettext
        if unfinished and item.status != CANCELLED:
            text = _("Notice no. {number}: sent {sent}/{total}…").format(
                number=item.id, sent=sent, total=total)
        else:
            text = _("Notice no. {number} is done: sent {sent}/{total}, not delivered "
                     "{failed}.").format(number=item.id, sent=sent, total=total,
                                         failed=not_sent)
        if text != item.progress_text:
            updates.append(ProgressUpdate(item.id, item.notify_channel, item.notify_chat, text,
                                          done=not unfinished or item.status == CANCELLED))
    return updates


async def record_progress(session: AsyncSession, update: ProgressUpdate,
                          ref: str | None) -> None:
    """Remember what the sender now sees, and where."""
    item = await session.get(Broadcast, update.broadcast_id)
    if item is not None:
        item.progress_text, item.progress_ref = update.text, ref or item.progress_ref
        item.progress_done = update.done
        session.add(item)


async def listing(session: AsyncSession, limit: int = 50) -> Sequence[Broadcast]:
    """The newest broadcasts."""
    return (await session.exec(
        select(Broadcast).order_by(col(Broadcast.id).desc()).limit(limit))).all()


async def hamlet_notices_on(session: AsyncSession, user: User) -> bool:
    """Whether a resident gets hamlet notices in private chat."""
    return HAMLET_NOTICES in await Subscriptions(session).topics_of(user.id)
