"""Async database access: one engine per process, short sessions, Alembic upgrades.

PostgreSQL goes through asyncpg. SQLite runs in WAL mode (synchronous=NORMAL: a commit
survives a crash of the bot; only a power cut may lose the last commits) with foreign
keys on, and its statements run in place on the event loop's thread: sessions are
`InlineSession`s over a sync Session, and the async engine (migrations, exports) uses
aiosqlite's API without its worker thread (inline_sqlite).

Several processes on one PostgreSQL database coordinate through advisory locks: migrations
run under one (a second process starting meanwhile waits, then finds the schema current),
and `job_lock` lets a scheduled job run in one process at a time.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import create_engine, event
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session as SyncSession
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.inline_session import InlineSession

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_URL_FORMS = {
    "sqlite://": "sqlite+aiosqlite://",
    "sqlite+aiosqlite://": "sqlite+aiosqlite://",
    "postgresql://": "postgresql+asyncpg://",
    "postgres://": "postgresql+asyncpg://",
    "postgresql+asyncpg://": "postgresql+asyncpg://",
}


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message says which and why."""


def async_database_url(url: str) -> str:
    """Map an accepted DATABASE_URL form to its async driver URL, or raise ConfigError."""
    for prefix, driver in _URL_FORMS.items():
        if url.startswith(prefix):
            return driver + url[len(prefix) :]
    raise ConfigError(
        "DATABASE_URL must start with sqlite:///, sqlite+aiosqlite:///, postgresql://, "
        "postgres:// or postgresql+asyncpg:// (got a value starting with "
        f"{url.split(':', 1)[0]!r})"
    )



def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Database:
    """Owns the engines; `session()` opens a unit of work the caller commits."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        """`url` uses an async driver: sqlite+aiosqlite:/// or postgresql+asyncpg://."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            _ensure_parent_dir(url)
        self.engine = create_async_engine(
            url, echo=echo, **({"async_creator": _inline_sqlite(url)} if self.is_sqlite else {})
        )
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions: Any = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        if self.is_sqlite:  # sessions run in place on the loop's thread (inline_session)
            self.sync_engine = create_engine(
                "sqlite://" + url.split("://", 1)[1], echo=echo,
                connect_args={"check_same_thread": False},
            )
            event.listen(self.sync_engine, "connect", _sqlite_pragmas)
            sync_sessions = sessionmaker(self.sync_engine, class_=SyncSession,
                                         expire_on_commit=False)
            self._sessions = lambda: InlineSession(sync_sessions())
        self._writer = asyncio.Lock()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """A session for a read-then-write transaction; the caller commits.

        SQLite allows one writer: two transactions that read and then write would fail
        with "database is locked", so on SQLite they take turns inside this process.
        PostgreSQL runs them concurrently. Do not open another unit of work inside one.
        """
        if not self.is_sqlite:
            async with self.session() as session:
                yield session
            return
        async with self._writer, self.session() as session:
            yield session

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session; nothing is committed unless the caller commits."""
        async with self._sessions() as session:
            yield session

    async def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to `revision` with Alembic, on this engine's connection.

        A database already at the newest migration is left alone without loading Alembic
        and the migration scripts (a fifth of a second on every shell command).
        """
        if revision == "head" and await self._schema_is(head_revision()):
            return
        async with self.engine.begin() as conn:
            if not self.is_sqlite:  # one process migrates; the others wait here, then skip
                await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(
                    lock_key("migrations"))))
                if revision == "head" and await _version_is(conn, head_revision()):
                    return
            await conn.run_sync(_run_alembic_upgrade, revision)
        if self.is_sqlite:  # migrations ran with foreign keys off (env.py): reconnect with them on
            await self.engine.dispose()

    @asynccontextmanager
    async def job_lock(self, name: str) -> AsyncIterator[bool]:
        """Whether this process may run the job `name` now: on PostgreSQL a session advisory
        lock, held on its own connection for the block (False when another process holds
        it); on SQLite, one process, always True."""
        if self.is_sqlite:
            yield True
            return
        key = lock_key(f"job:{name}")
        async with self.engine.connect() as conn:
            held = (await conn.execute(sa.select(sa.func.pg_try_advisory_lock(key)))).scalar()
            await conn.commit()
            try:
                yield bool(held)
            finally:
                if held:
                    await conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))
                    await conn.commit()

    async def _schema_is(self, revision: str | None) -> bool:
        async with self.engine.connect() as conn:
            return await _version_is(conn, revision)

    async def create_all(self) -> None:
        """Create every table from the models (tests); production uses `upgrade`."""
        async with self.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)

    async def drop_all(self) -> None:
        """Drop every table of the models and Alembic's version table (tests)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.drop_all)
            await conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        if self.is_sqlite:
            self.sync_engine.dispose()


async def _version_is(conn: Any, revision: str | None) -> bool:
    """Whether the database's schema is at `revision` (False for a new database)."""
    if revision is None:
        return False
    try:
        async with conn.begin_nested() if conn.in_transaction() else _nothing():
            result = await conn.exec_driver_sql("SELECT version_num FROM alembic_version")
            return list(result.scalars()) == [revision]
    except sa.exc.DBAPIError:  # no version table yet: a new database
        return False


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


def lock_key(name: str) -> int:
    """A stable 64-bit advisory lock key for `name` (the same in every process)."""
    return int.from_bytes(hashlib.sha256(f"civicbot:{name}".encode()).digest()[:8], "big",
                          signed=True)


_REVISION_LINE = re.compile(r'^(revision|down_revision)\b[^=\n]*=\s*(?:"([^"]*)"|None)', re.M)


def head_revision() -> str | None:
    """The newest migration's id, read from the migration files without importing Alembic:
    the one revision no other revises (None unless there is exactly one)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for key, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            (revisions if key == "revision" else revised).add(value)
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


def alembic_config(connection: Any = None) -> Any:
    """An Alembic Config pointing at our migrations, optionally bound to a connection."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _run_alembic_upgrade(connection: Any, revision: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), revision)


def _inline_sqlite(url: str) -> Any:
    """The async_creator of SQLite connections that run on the loop's thread."""
    from functools import partial

    from sqlalchemy.engine import make_url

    from storage.inline_sqlite import InlineConnection

    parsed = make_url(url)
    args, kwargs = parsed.get_dialect()().create_connect_args(parsed)
    kwargs["check_same_thread"] = False

    async def connect() -> InlineConnection:
        return await InlineConnection(partial(sqlite3.connect, *args, **kwargs))

    return connect


def _ensure_parent_dir(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
