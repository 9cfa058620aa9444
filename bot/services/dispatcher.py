"""The dispatcher: sends due outbox rows through the channel that owns each recipient.

A row is claimed (status "sending", `claimed_at` = the claim's time) in one short
transaction, sent, then marked in another, so it is never sent twice in the normal path.
While a batch is being sent its claims are renewed, so a long delivery loop is never taken
for a crashed one; `stop()` hands the rows not yet sent back to pending. A crash between
sending and marking leaves rows "sending"; after `stale_after` they are pending again, so
a message may be sent twice (at most one duplicate per row in flight). On PostgreSQL other
processes learn of new rows by LISTEN/NOTIFY (bot.services.outbox_wakeup). Failures retry with
backoff up to MAX_ATTEMPTS; a blocked recipient is marked and never retried. A non-urgent
push to a private chat that falls due in the quiet hours waits for the morning
(bot/services/quiet_hours.py): its row is put back with the time it will go.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messages import Channel, RecipientBlocked, Undeliverable
from bot.pseudonym import user_ref
from bot.services import outbox, outbox_wakeup, quiet_hours, reachability, send_budget
from storage import clock
from storage.db import Database
from storage.models import GroupLink, InteractionLog, OutboxMessage
from storage.repositories import InteractionLogs

log = logging.getLogger(__name__)

BACKOFF_SECONDS = (30, 120, 600, 1800)  # after the 1st, 2nd, 3rd, 4th failure
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
IDLE_WAKE_SECONDS = 60.0
# A claim not renewed for this long belongs to a process that died (renewals come every
# third of it): its rows go back to pending, the survivors are woken for it.
STALE_AFTER = timedelta(seconds=20)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed try."""
    return timedelta(seconds=BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1])


class Dispatcher:
    """Delivers outbox rows for the channels registered with it."""

    def __init__(
        self, db: Database, channels: Mapping[str, Channel] | None = None, *,
        pseudonym_key: bytes, timezone: str = "Asia/Ho_Chi_Minh", batch: int = 50,
        stale_after: timedelta = STALE_AFTER,
    ) -> None:
        self.db = db
        self.timezone = timezone
        self.channels: dict[str, Channel] = dict(channels or {})
        self.pseudonym_key = pseudonym_key
        self.batch = batch
        self.stale_after = stale_after
        self._wake = asyncio.Event()
        self._stopping = False
        self._running: asyncio.Task | None = None
        self.listener: outbox_wakeup.Listener | None = None

    def register(self, channel: Channel) -> None:
        """Deliver this channel's rows from now on."""
        self.channels[channel.name] = channel
        self.wake()

    def wake(self) -> None:
        """Look for due rows now (called after a commit that enqueued something)."""
        self._wake.set()

    async def dispatch_due(self, now: datetime | None = None) -> int:
        """Send every due row of the registered channels; returns how many were sent."""
        now = now or clock.now()
        await self._release_stale(now)
        sent = 0
        while not self._stopping:
            rows, seen = await self._claim(now)
            in_hand = {row.id for row in rows if row.id is not None}
            renewing = asyncio.create_task(self._renew_claims(in_hand)) if rows else None
            try:
                for row in rows:
                    if self._stopping:
                        break
                    with send_budget.sending(row.kind):
                        sent += await self._deliver(row, now)
                    in_hand.discard(row.id or 0)
            finally:
                if renewing is not None:
                    renewing.cancel()
                await self._hand_back(in_hand)
            if seen < self.batch:
                break
        return sent

    async def run(self) -> None:
        """Deliver until stopped: on every enqueue (in this process, or in another one on
        PostgreSQL), and when the next row falls due."""
        self._running = asyncio.current_task()
        unsubscribe = outbox.on_enqueue(self.wake)
        listener = self.listener = outbox_wakeup.Listener(self.db, self.wake)
        await listener.start()
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    await self.dispatch_due()
                    timeout = await self._seconds_to_next_due()
                except Exception:
                    log.exception("outbox dispatch failed; trying again shortly")
                    timeout = 5.0
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
        finally:
            unsubscribe()
            await listener.stop()

    async def stop(self, grace: float = 10.0) -> None:
        """Finish the message being sent, hand the other claimed rows back, stop `run`.

        After `grace` seconds the loop is cancelled; its claims are still handed back.
        """
        self._stopping = True
        self.wake()
        task, self._running = self._running, None
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            task.cancel()  # its loop hands back its claims on the way out
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    def _reachable(self) -> sa.ColumnElement[bool]:
        """Rows whose channel is registered (and, for channels bound to chats, those chats)."""
        clauses = []
        for name, channel in self.channels.items():
            clause = col(OutboxMessage.channel) == name
            chat_ids = getattr(channel, "chat_ids", None)
            if chat_ids is not None:
                clause = sa.and_(clause, col(OutboxMessage.chat_id).in_(sorted(chat_ids)))
            clauses.append(clause)
        return sa.or_(*clauses) if clauses else sa.false()

    async def _claim(self, now: datetime) -> tuple[list[OutboxMessage], int]:
        """Claim a batch of due rows; returns those to send now and how many were due."""
        morning = quiet_hours.quiet_until(now, self.timezone)
        async with self.db.unit_of_work() as session:
            query = (
                select(OutboxMessage)
                .where(OutboxMessage.status == outbox.PENDING, OutboxMessage.not_before <= now,
                       self._reachable())
                .order_by(OutboxMessage.not_before, OutboxMessage.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            )
            rows = list((await session.exec(query)).all())
            groups = await self._group_chats(session) if morning and rows else set()
            claimed = []
            for row in rows:
                if morning and quiet_hours.held(row.kind, (row.channel, row.chat_id) in groups):
                    row.not_before = morning  # stays pending, due at 06:30
                else:
                    row.status, row.claimed_at = outbox.SENDING, clock.now()
                    claimed.append(row)
                session.add(row)
            await session.commit()
        return claimed, len(rows)

    async def _renew_claims(self, in_hand: set[int]) -> None:
        """While a batch is being sent, keep its claims fresh (the stale period is measured
        from the last renewal, not from the start of a long delivery loop)."""
        while True:
            await asyncio.sleep(self.stale_after.total_seconds() / 3)
            if not in_hand:
                continue
            try:
                await self._update_claimed(in_hand, claimed_at=clock.now())
            except Exception as exc:  # the next renewal tries again
                log.warning("outbox claims not renewed: %s", _reason(exc))

    async def _hand_back(self, in_hand: set[int]) -> None:
        """Rows claimed here and not sent go back to pending for any process to take."""
        if in_hand:
            await self._update_claimed(in_hand, status=outbox.PENDING, claimed_at=None)
            in_hand.clear()
            await outbox_wakeup.notify(self.db)

    async def _update_claimed(self, ids: set[int], **values: object) -> None:
        async with self.db.unit_of_work() as session:
            await session.exec(
                sa.update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(sorted(ids)),
                       col(OutboxMessage.status) == outbox.SENDING)
                .values(**values)
            )
            await session.commit()

    @staticmethod
    async def _group_chats(session: AsyncSession) -> set[tuple[str, str]]:
        """The linked group chats (staff and hamlet groups): never quiet."""
        links = (await session.exec(select(GroupLink))).all()
        return {(link.channel, link.chat_id) for link in links}

    async def _deliver(self, row: OutboxMessage, now: datetime) -> int:
        """Send one claimed row and record the outcome; 1 when it was sent."""
        channel = self.channels[row.channel]
        try:
            await channel.send(row.chat_id, outbox.to_reply(row))
        except RecipientBlocked as exc:
            await self._mark(row.id, status=outbox.BLOCKED, last_error=_reason(exc))
            await reachability.set_blocked(self.db, row.channel, row.chat_id, True)
            log.info("outbox row %s: recipient blocked the bot", row.id)
            return 0
        except Undeliverable as exc:
            await self._mark(row.id, status=outbox.FAILED, attempts=row.attempts + 1,
                             last_error=str(exc)[:500])
            log.info("outbox row %s: %s", row.id, exc)
            return 0
        except Exception as exc:
            attempts = row.attempts + 1
            final = attempts >= MAX_ATTEMPTS
            await self._mark(
                row.id, attempts=attempts, last_error=_reason(exc),
                status=outbox.FAILED if final else outbox.PENDING,
                not_before=row.not_before if final else now + backoff(attempts),
            )
            log.warning("outbox row %s: send failed (attempt %s of %s): %s", row.id, attempts,
                        MAX_ATTEMPTS, _reason(exc))
            return 0
        await self._mark(row.id, status=outbox.SENT, sent_at=clock.now(), log_row=row)
        return 1

    async def _mark(self, row_id: int | None, log_row: OutboxMessage | None = None,
                    **values: object) -> None:
        async with self.db.unit_of_work() as session:
            await session.exec(
                sa.update(OutboxMessage).where(col(OutboxMessage.id) == row_id).values(**values)
            )
            if log_row is not None:
                InteractionLogs(session).append(InteractionLog(
                    channel=log_row.channel, direction="out", kind=log_row.kind,
                    user_ref="" if log_row.kind == outbox.UNLINKED_KIND else
                    user_ref(self.pseudonym_key, log_row.channel, log_row.chat_id),
                ))
            await session.commit()

    async def _release_stale(self, now: datetime) -> None:
        """Rows left "sending" by a crash go back to pending."""
        async with self.db.unit_of_work() as session:
            await session.exec(
                sa.update(OutboxMessage)
                .where(col(OutboxMessage.status) == outbox.SENDING,
                       col(OutboxMessage.claimed_at) < now - self.stale_after)
                .values(status=outbox.PENDING)
            )
            await session.commit()

    async def _seconds_to_next_due(self) -> float:
        """Until the next row falls due, or a claim of a dead process goes stale."""
        async with self.db.session() as session:
            next_due = (await session.exec(select(sa.func.min(OutboxMessage.not_before)).where(
                OutboxMessage.status == outbox.PENDING, self._reachable()))).one()
            oldest_claim = (await session.exec(select(sa.func.min(OutboxMessage.claimed_at))
                                               .where(OutboxMessage.status == outbox.SENDING,
                                                      self._reachable()))).one()
        moments = [_aware(next_due)]
        if oldest_claim is not None:
            moments.append(_aware(oldest_claim) + self.stale_after)
        moments = [m for m in moments if m is not None]
        if not moments:
            return IDLE_WAKE_SECONDS
        seconds = (min(moments) - clock.now()).total_seconds()
        return min(max(seconds, 0.05), IDLE_WAKE_SECONDS)


def _aware(moment: datetime | None) -> datetime | None:
    """min() bypasses the column type on some drivers: naive UTC back to aware."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=clock.now().tzinfo)
    return moment


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
