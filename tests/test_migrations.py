"""Alembic: upgrading an empty database gives exactly the models' schema; every step reverses."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from storage.db import Database, alembic_config, head_revision
from storage.search import include_object
from tests.conftest import schema_changed


def _differences(connection: sa.Connection) -> list:
    opts = {"compare_type": True, "include_object": include_object}
    context = MigrationContext.configure(connection, opts=opts)
    return compare_metadata(context, SQLModel.metadata)


def _stairway(connection: sa.Connection) -> None:
    """Down and up again over every revision, one at a time."""
    config = alembic_config(connection)
    revisions = list(ScriptDirectory.from_config(config).walk_revisions())
    for _ in revisions:
        command.downgrade(config, "-1")
    command.upgrade(config, "head")


async def test_upgrade_to_head_matches_the_models_and_steps_reverse(db: Database):
    await db.drop_all()
    schema_changed()
    await db.upgrade()
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []
    async with db.engine.begin() as conn:
        await conn.run_sync(_stairway)
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []
        tables = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
    assert {"users", "consents", "conversations", "interaction_log", "hamlets"} <= tables


def test_there_is_one_head():
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1


def test_the_head_read_from_the_files_is_alembics():
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_an_older_schema_is_still_upgraded_at_start(db: Database):
    """The quick "already at head" check must not skip a database that is behind."""
    await db.drop_all()
    schema_changed()
    await db.upgrade("0008")
    await db.upgrade()
    async with db.engine.connect() as conn:
        version = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).scalar()
    assert version == head_revision()
    await db.upgrade()  # at head: nothing to do, nothing breaks
