"""Alembic environment: runs on the connection the app hands over, or on DATABASE_URL."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from storage import models  # noqa: F401  (registers the tables)
from storage.db import async_database_url
from storage.search import include_object

target_metadata = SQLModel.metadata


def _configure_and_run(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:  # batch mode drops and copies tables: with data, SQLite's FK checks would refuse
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        if broken:
            raise RuntimeError(f"the migration left rows without their parent: {broken[:5]}")


async def _run_on_database_url() -> None:
    url = async_database_url(os.environ.get("DATABASE_URL", "sqlite:///./data/civicbot.db"))
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_configure_and_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _configure_and_run(connection)
else:
    asyncio.run(_run_on_database_url())
