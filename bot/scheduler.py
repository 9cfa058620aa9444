"""APScheduler 3 fires ticks and cron triggers; what is due lives in tables, not here.

Jobs are plain async functions whose last parameter is `now` (None = the current time),
return a count, and are tested by calling them. Pass the coroutine function itself:
APScheduler 3 never awaits a coroutine returned by a lambda.

Every process of an installation runs the scheduler; `add_jobs` wraps each job that must
run once in `once`: it runs under its own advisory lock on PostgreSQL, and a process that
finds the lock taken skips that firing. The outbox tick needs no lock (deliveries are
shared row by row through SKIP LOCKED).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.messages import Reply
from bot.services import (
    broadcasts,
    log_chain,
    outbox,
    petition_notices,
    petitions,
    retention,
)
from bot.services.dispatcher import Dispatcher
from bot.services.session_reminders import send_due_reminders
from storage import clock
from storage.db import Database
from storage.models import Broadcast
from storage.repositories import Communes

log = logging.getLogger(__name__)
Job = Callable[..., Awaitable[int]]
OUTBOX_TICK_SECONDS = 30
SEAL_TICK_SECONDS = 10
BROADCAST_TICK_SECONDS = 20
PROGRESS_TICK_SECONDS = 5


def build(timezone: str) -> AsyncIOScheduler:
    """A scheduler in the commune's time zone (jobs are added, then `start()`)."""
    return AsyncIOScheduler(timezone=timezone, job_defaults={"coalesce": True,
                                                             "max_instances": 1})


def every(scheduler: AsyncIOScheduler, job: Job, seconds: float, *args: Any) -> None:
    """Run `job(*args)` every `seconds`."""
    scheduler.add_job(job, "interval", seconds=seconds, args=args, id=job.__name__,
                      replace_existing=True)


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekday_names(field: str) -> str:
    """Crontab weekdays (0 or 7 = Sunday) as names: APScheduler 3 counts 0 as Monday."""
    return re.sub(r"(?<![/\d])([0-7])(?!\d)", lambda m: _DAY_NAMES[int(m.group(1))], field)


def cron_trigger(crontab: str, timezone: Any) -> CronTrigger:
    """A trigger for a standard five-field crontab line, read the way cron reads it."""
    fields = crontab.split()
    if len(fields) != 5:
        raise ValueError(f"a crontab line has 5 fields, got {crontab!r}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                       day_of_week=_weekday_names(weekday), timezone=timezone)


def cron(scheduler: AsyncIOScheduler, job: Job, crontab: str, *args: Any) -> None:
    """Run `job(*args)` on a crontab schedule in the scheduler's time zone ("0 7 * * 1")."""
    trigger = cron_trigger(crontab, scheduler.timezone)
    scheduler.add_job(job, trigger, args=args, id=job.__name__, replace_existing=True,
                      misfire_grace_time=3600)


def once(db: Database, job: Job) -> Job:
    """`job`, run by one process at a time: the others skip the firing (and return 0)."""

    @functools.wraps(job)
    async def run_once(*args: Any) -> int:
        async with db.job_lock(job.__name__) as mine:
            return await job(*args) if mine else 0

    return run_once


async def deliver_outbox(dispatcher: Dispatcher, now: datetime | None = None) -> int:
    """Catch-up tick: send whatever is due (after a restart, or if a wake-up was missed)."""
    return await dispatcher.dispatch_due(now)


async def petition_digest(db: Database, timezone: str, now: datetime | None = None) -> int:
    """08:00: open petitions overdue or due within 2 working days, to staff (once a day)."""
    async with db.unit_of_work() as session:
        settings = petitions.Settings.of(await Communes(session).current())
        count = await petition_notices.daily_digest(session, now or clock.now(), timezone,
                                                    settings)
        await session.commit()
    return count


async def seal_log(db: Database, key: bytes, now: datetime | None = None) -> int:
    """Give new interaction-log rows their place in the tamper-evident chain."""
    async with db.unit_of_work() as session:
        count = await log_chain.seal_all(session, log_chain.chain_key(key))
        await session.commit()
    return count


async def erase_old_log_texts(db: Database, keep_days: int, now: datetime | None = None) -> int:
    """Retention: erase texts in the log older than `keep_days`."""
    async with db.unit_of_work() as session:
        count = await log_chain.erase_old_texts(session, now or clock.now(), keep_days)
        await session.commit()
    return count


async def clear_stale_drafts(db: Database, now: datetime | None = None) -> int:
    """Forget flows left unfinished for a day (retention.FLOW_TIMEOUT): their drafts too."""
    async with db.unit_of_work() as session:
        count = await retention.clear_stale_drafts(session, now or clock.now())
        await session.commit()
    return count


async def prune_outbox(db: Database, keep_days: int, now: datetime | None = None) -> int:
    """Retention: erase the texts of messages delivered (or given up) over `keep_days` ago."""
    async with db.unit_of_work() as session:
        count = await retention.prune_outbox(session, now or clock.now(), keep_days)
        await session.commit()
    return count


async def forget_unsent_files(db: Database, data_dir: Path, now: datetime | None = None) -> int:
    """Delete the files of drafts that were never sent (retention.forget_unsent_files)."""
    async with db.session() as session:
        return await retention.forget_unsent_files(session, data_dir, now or clock.now())


async def session_reminders(dispatcher: Dispatcher, timezone: str,
                            now: datetime | None = None) -> int:
    """Queue the dialogue-session reminders that are due (bot.services.session_reminders)."""
    return await send_due_reminders(dispatcher.db, now or clock.now(), timezone)


async def run_broadcasts(db: Database, timezone: str, now: datetime | None = None) -> int:
    """Queue the broadcast runs that are due (one-off, scheduled or recurring)."""
    async with db.unit_of_work() as session:
        count = await broadcasts.run_due(session, now or clock.now(), timezone)
        await session.commit()
    return count


async def broadcast_progress(dispatcher: Dispatcher, now: datetime | None = None) -> int:
    """Keep each sender's "Đã gửi 120/500" line up to date (edited in place where the
    channel can edit; channels that cannot get the final line only)."""
    async with dispatcher.db.unit_of_work() as session:
        updates = await broadcasts.progress_updates(session)
        refs = {}
        for update in updates:
            channel = dispatcher.channels.get(update.channel)
            if not hasattr(channel, "post_progress") and not update.done:
                continue
            # Locked and read afresh: a process that ran this job meanwhile may have posted.
            item = await session.get(Broadcast, update.broadcast_id, with_for_update=True,
                                     populate_existing=True)
            if item is None or item.progress_text == update.text:
                continue
            try:
                if hasattr(channel, "post_progress"):
                    refs[update.broadcast_id] = await channel.post_progress(
                        update.chat_id, update.text, item.progress_ref)
                else:
                    await outbox.enqueue(session, outbox.Recipient(update.channel,
                                                                   update.chat_id),
                                         Reply(update.text), kind="progress",
                                         dedup_key=f"broadcast:{item.id}:{item.runs}:done",
                                         now=now)
            except Exception as exc:  # progress is a courtesy: never break the job for it
                log.info("progress of broadcast %s not shown: %s", item.id, type(exc).__name__)
                continue
            await broadcasts.record_progress(session, update, refs.get(update.broadcast_id))
        await session.commit()
    return len(updates)


def add_jobs(scheduler: AsyncIOScheduler, dispatcher: Dispatcher,
             log_retention_days: int = 365, outbox_retention_days: int = 30,
             data_dir: Path | None = None) -> None:
    """Every job of the product; feature issues add theirs here in one line each."""
    timezone, db = str(scheduler.timezone), dispatcher.db
    every(scheduler, deliver_outbox, OUTBOX_TICK_SECONDS, dispatcher)
    cron(scheduler, once(db, petition_digest), "0 8 * * *", db, timezone)
    every(scheduler, once(db, seal_log), SEAL_TICK_SECONDS, db, dispatcher.pseudonym_key)
    cron(scheduler, once(db, erase_old_log_texts), "30 2 * * *", db, log_retention_days)
    every(scheduler, once(db, clear_stale_drafts), 15 * 60, db)
    cron(scheduler, once(db, prune_outbox), "45 2 * * *", db, outbox_retention_days)
    if data_dir is not None:
        cron(scheduler, once(db, forget_unsent_files), "15 3 * * *", db, data_dir)
    every(scheduler, once(db, session_reminders), 60, dispatcher, timezone)
    every(scheduler, once(db, run_broadcasts), BROADCAST_TICK_SECONDS, db, timezone)
    every(scheduler, once(db, broadcast_progress), PROGRESS_TICK_SECONDS, dispatcher)
