"""Composition root: wires settings, database and engine with plain constructors."""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from bot.config import Settings
from bot.engine import Engine
from bot.i18n import check_catalogs
from bot.pseudonym import load_or_create_key
from bot.services import commune_setup
from storage.db import Database


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

    async def prepare(self, *, demo: bool = False) -> bool:
        """Upgrade the schema; with `demo`, load the demo commune into an empty database.

        Returns True when the demo commune was loaded.
        """
        check_catalogs()
        await self.db.upgrade()
        if not demo:
            return False
        async with self.db.session() as session:
            loaded = await commune_setup.load_demo_if_empty(session, cli_actor())
            await session.commit()
        return loaded

    async def close(self) -> None:
        """Release the database connections."""
        await self.db.dispose()


def build(settings: Settings) -> App:
    """Wire the app from settings."""
    db = Database(settings.async_database_url)
    key = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else None
    engine = Engine(
        db,
        pseudonym_key=load_or_create_key(key, settings.data_dir),
        default_locale=settings.default_locale,
        timezone=settings.timezone,
    )
    return App(settings, db, engine)
