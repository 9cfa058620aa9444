"""Shared fixtures: a database per test (SQLite, and PostgreSQL when TEST_DATABASE_URL is
set), the demo commune, an engine, and the `Chat` driver that plays one user."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from bot.engine import Engine
from bot.messages import Button, Inbound, Reply, parse_command
from bot.services import commune_setup, session_notices
from storage import clock
from storage.db import Database, async_database_url


def _database_of_this_worker(url: str | None) -> str | None:
    """Under pytest-xdist (`make test` runs two workers) each worker gets a PostgreSQL
    database of its own, `<name>_gw0`, `<name>_gw1`…, made when missing; the child
    processes and bench scripts a test starts read it from TEST_DATABASE_URL."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = make_url(url)
    mine = base.set(database=f"{base.database}_{worker}")

    async def create() -> None:
        conn = await asyncpg.connect(base.set(drivername="postgresql").render_as_string(
            hide_password=False))
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1",
                                       mine.database):
                await conn.execute(f'CREATE DATABASE "{mine.database}"')
        finally:
            await conn.close()

    asyncio.run(create())
    os.environ["TEST_DATABASE_URL"] = mine.render_as_string(hide_password=False)
    return os.environ["TEST_DATABASE_URL"]


PG_URL = _database_of_this_worker(os.environ.get("TEST_DATABASE_URL"))
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
PSEUDONYM_KEY = b"test-key"
_pg_schema_ready = False


def pytest_sessionstart(session: pytest.Session) -> None:
    """With TEST_DATABASE_URL set, PostgreSQL must answer: fail at once, never skip."""
    if PG_URL and not asyncio.run(_reachable(PG_URL)):
        pytest.exit(f"TEST_DATABASE_URL is set but PostgreSQL does not answer at "
                    f"{PG_URL.split('@')[-1]}", returncode=1)


async def _reachable(url: str) -> bool:
    database = Database(async_database_url(url))
    try:
        return await database.ping()
    finally:
        await database.dispose()


async def _fresh_postgres() -> Database:
    """The PostgreSQL test database with empty tables (schema built once per run)."""
    global _pg_schema_ready
    database = Database(async_database_url(PG_URL or ""))
    if not _pg_schema_ready:
        await database.drop_all()
        await database.create_all()
        _pg_schema_ready = True
    else:
        tables = ", ".join(t.name for t in SQLModel.metadata.sorted_tables)
        async with database.engine.begin() as conn:
            await conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return database


def schema_changed() -> None:
    """Tell the fixtures that a test rebuilt the PostgreSQL schema its own way."""
    global _pg_schema_ready
    _pg_schema_ready = False


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database with every table."""
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
        await database.create_all()
    else:
        database = await _fresh_postgres()
    yield database
    await database.dispose()


@pytest.fixture
async def demo_db(db: Database) -> Database:
    """The database with the demo commune loaded."""
    async with db.session() as session:
        await commune_setup.apply(session, commune_setup.read(commune_setup.DEMO_FILE), "test")
        await session.commit()
    return db


@pytest.fixture
def engine(demo_db: Database) -> Engine:
    """An engine on the demo commune."""
    return Engine(demo_db, pseudonym_key=PSEUDONYM_KEY)


WEDNESDAY_MORNING = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội, a working day


class Clock:
    """The program's clock, moved by hand: making one sets it (storage.clock.use); the
    system clock comes back after each test. Move it with `clock.now = …`."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        clock.use(self)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
def tickets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """QR tickets of every test go to its own folder, never the real data folder."""
    monkeypatch.setattr(session_notices, "TICKETS_DIR", tmp_path / "tickets")
    return tmp_path / "tickets"


@pytest.fixture(autouse=True)
def _system_clock_after_each_test() -> Iterator[None]:
    yield
    clock.use(None)


class Chat:
    """Plays one user talking to the engine: no network, no channel library."""

    def __init__(self, engine: Engine, channel: str = "console", user_id: str = "42") -> None:
        self.engine, self.channel, self.user_id = engine, channel, user_id
        self.last: list[Reply] = []

    async def send(self, text: str = "", **kw: object) -> list[Reply]:
        """Send a message; "/x args" becomes a command, as the adapters parse it."""
        command, args = parse_command(text)
        inbound = Inbound(self.channel, self.user_id, text=text, command=command, args=args,
                          **kw)
        self.last = await self.engine.handle(inbound)
        return self.last

    async def press(self, label: str) -> list[Reply]:
        """Press the button with this label in the last replies (as a tap, not typed)."""
        button = self.button(label)
        return await self.send(payload=button.payload)

    def button(self, label: str) -> Button:
        """The button with this exact label in the last replies."""
        for button in self.buttons_of_last:
            if button.label == label:
                return button
        raise AssertionError(f"no button {label!r} in {self.labels}")

    @property
    def buttons_of_last(self) -> list[Button]:
        """Every button of the last replies."""
        return [b for reply in self.last for b in reply.buttons]

    @property
    def labels(self) -> list[str]:
        """The labels of the last replies' buttons."""
        return [b.label for b in self.buttons_of_last]

    @property
    def text(self) -> str:
        """The text of the last replies, joined."""
        return "\n".join(reply.text for reply in self.last)

    async def onboard(self, hamlet: str = "Khu Hòa Bình", language: str = "Tiếng Việt") -> None:
        """Go through first contact: /start, the short consent message (in Vietnamese; in
        English as offered to an app set to English), hamlet."""
        if language == "Tiếng Việt":
            await self.send("/start")
            await self.press("Đồng ý")
        else:
            await self.send("/start", language="en")
            await self.press(language)
            await self.press("I agree")
        await self.press(hamlet)


@pytest.fixture
def chat(engine: Engine) -> Chat:
    """One console user talking to the demo commune's bot."""
    return Chat(engine)


MAIN_MENU = [
    "Công khai thông tin",
    "Gửi phản ánh, kiến nghị",
    "Phản ánh của tôi",
    "Đối thoại",
    "Cài đặt",
    "Trợ giúp",
]


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run `python -m bot …` in this process on a fresh SQLite file; returns (code, out, err)."""
    for name in ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN", "ZALO_OA_APP_ID", "PSEUDONYM_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)

    def run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
        from bot.__main__ import main

        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run
