"""APScheduler 3 fires ticks and cron triggers; what is due lives in tables, not here.

Jobs are plain async functions whose last parameter is `now` (None = the current time),
return a count, and are tested by calling them. Pass the coroutine function itself:
APScheduler 3 never awaits a coroutine returned by a lambda.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.services import sessions
from bot.services.dispatcher import Dispatcher

Job = Callable[..., Awaitable[int]]
OUTBOX_TICK_SECONDS = 30


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


async def deliver_outbox(dispatcher: Dispatcher, now: datetime | None = None) -> int:
    """Catch-up tick: send whatever is due (after a restart, or if a wake-up was missed)."""
    return await dispatcher.dispatch_due(now)


async def session_reminders(dispatcher: Dispatcher, timezone: str,
                            now: datetime | None = None) -> int:
    """Queue the dialogue-session reminders that are due (bot.services.sessions)."""
    return await sessions.send_due_reminders(dispatcher.db, now or dispatcher.clock(), timezone)


def add_jobs(scheduler: AsyncIOScheduler, dispatcher: Dispatcher) -> None:
    """Every job of the product; feature issues add theirs here in one line each."""
    every(scheduler, deliver_outbox, OUTBOX_TICK_SECONDS, dispatcher)
    every(scheduler, session_reminders, 60, dispatcher, str(scheduler.timezone))
