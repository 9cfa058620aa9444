"""Composition root: wires settings, database and engine with plain constructors."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
from dataclasses import dataclass, field

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import backup_job
from bot import scheduler as jobs
from bot.config import Settings
from bot.engine import Engine
from bot.i18n import check_catalogs
from bot.pseudonym import check_key, load_or_create_key
from bot.services import commune_setup, session_notices
from bot.services.dispatcher import Dispatcher
from storage import clock
from storage.db import Database

DISPATCHER_GRACE = 10.0  # seconds a stopping dispatcher may take to finish its message

def cli_actor() -> str:
    """Who acts from the shell, as the log records it: "cli:<os user>"."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@dataclass
class App:
    """Everything a running bot needs, built once."""

    settings: Settings
    db: Database
    engine: Engine
    dispatcher: Dispatcher
    scheduler: AsyncIOScheduler
    _tasks: list[asyncio.Task] = field(default_factory=list)

    async def prepare(self, *, demo: bool = False) -> bool:
        """Upgrade the schema; with `demo`, load the demo commune into an empty database.

        Returns True when the demo commune was loaded.
        """
        check_catalogs()
        await self.db.upgrade()
        async with self.db.session() as session:
            await check_key(session, self.engine.pseudonym_key)
            await session.commit()
        if not demo:
            return False
        async with self.db.session() as session:
            loaded = await commune_setup.load_demo_if_empty(
                session, cli_actor(), self.settings.timezone, now=clock.now())
            await session.commit()
        return loaded

    async def stop_background(self) -> None:
        """Stop the scheduler and the dispatcher (it finishes the message in hand and hands
        its other claimed rows back, within DISPATCHER_GRACE seconds)."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.dispatcher.stop(grace=DISPATCHER_GRACE)

    def start_background(self, *, deliver: bool = True) -> None:
        """Start the scheduler and (with `deliver`) the outbox dispatcher's loop."""
        jobs.add_jobs(self.scheduler, self.dispatcher, self.settings.log_retention_days,
                      self.settings.outbox_retention_days, self.settings.data_dir)
        backup_job.add(self.scheduler, self.settings, self.db)
        self.scheduler.start()
        if deliver:
            self._tasks.append(asyncio.create_task(self.dispatcher.run(), name="outbox"))

    async def close(self) -> None:
        """Stop background work and release the database connections."""
        await self.stop_background()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.engine.drain()  # files being made for a chat: finish and queue them
        await self.db.dispose()


def build(settings: Settings) -> App:
    """Wire the app from settings."""
    db = Database(settings.async_database_url)
    configured_key = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else None
    key = load_or_create_key(configured_key, settings.data_dir)
    engine = Engine(
        db, pseudonym_key=key, default_locale=settings.default_locale,
        timezone=settings.timezone, data_dir=settings.data_dir,
        web_base_url=settings.web_base_url,
    )
    dispatcher = Dispatcher(db, pseudonym_key=key, timezone=settings.timezone)
    session_notices.configure(settings.data_dir)
    return App(settings, db, engine, dispatcher, jobs.build(settings.timezone))
