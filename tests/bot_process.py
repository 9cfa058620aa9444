"""`python -m bot run` as real child processes on a test database, a webhook driver that
posts Telegram updates to them (round-robin), and residents played through the fake
Telegram. For the crash and multi-process tests."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa

from bot.handlers.telegram_runtime import SECRET_HEADER, WEBHOOK_PATH
from storage.db import Database, head_revision
from tests.fake_telegram import Call, FakeTelegram, callback_update, message_update

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "321:PROC"
SECRET = "proc-secret"
OUT = ("sendMessage", "editMessageText")


async def stamp_head(db: Database) -> None:
    """Mark a schema made by create_all as the newest migration (`run` upgrades first)."""
    async with db.engine.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE IF NOT EXISTS alembic_version "
                                   "(version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        await conn.execute(sa.text("DELETE FROM alembic_version"))
        await conn.execute(sa.text("INSERT INTO alembic_version VALUES (:v)"),
                           {"v": head_revision()})


async def unstamp(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BotProcess:
    """One `python -m bot run` serving Telegram by webhook on its own port."""

    def __init__(self, db: Database, fake: FakeTelegram, data_dir: Path,
                 lease: float = 1.0) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ, "PYTHONPATH": str(ROOT),
            "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
            "DATA_DIR": str(data_dir), "PSEUDONYM_KEY": "proc-test-key",
            "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_URL": fake.url,
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.vn" + WEBHOOK_PATH,
            "TELEGRAM_WEBHOOK_SECRET": SECRET, "HTTP_PORT": str(self.port),
            "INBOUND_LEASE_SECONDS": str(lease), "OPEN311": "false", "PUBLIC_PAGE": "false",
            # The scripted residents type faster than people can; flood control has its own
            # tests (tests/test_flood.py) and would only slow these down.
            "FLOOD_RATE": "0",
        }
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> BotProcess:
        """Start and wait until its HTTP server answers."""
        self.log = Path(self.env["DATA_DIR"]) / f"bot-{self.port}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=ROOT, env=self.env,
                stdout=asyncio.subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    raise AssertionError(self.log.read_text()[-2000:])
                try:
                    async with http.get(self.url + "/healthz") as resp:
                        if resp.status == 200:
                            return self
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError("the bot did not start")

    async def kill(self) -> None:
        """SIGKILL: no chance to finish or mark anything."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> int:
        """SIGTERM and wait (a clean stop finishes the updates in hand)."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 30)


class Driver:
    """Posts updates to the bots' webhooks in turn, as a load balancer would."""

    def __init__(self, fake: FakeTelegram, bots: list[BotProcess]) -> None:
        self.fake, self.bots = fake, bots
        self._next = itertools.cycle(range(len(bots)))
        self.http = aiohttp.ClientSession()
        self.posted = 0  # updates the bots accepted

    async def post(self, update: dict[str, Any], to: BotProcess | None = None) -> int:
        bot = to or self.bots[next(self._next) % len(self.bots)]
        async with self.http.post(bot.url + WEBHOOK_PATH, json=update,
                                  headers={SECRET_HEADER: SECRET}) as resp:
            answer = await resp.read()
        if resp.status == 200:
            self.posted += 1
            self.fake.webhook_reply(answer)
        return resp.status

    async def close(self) -> None:
        await self.http.close()


class Resident:
    """One person in a private chat, through the driver; waits for the bot's answers."""

    def __init__(self, driver: Driver, user_id: int) -> None:
        self.driver, self.user_id = driver, user_id

    def out(self) -> list[Call]:
        return [c for c in self.driver.fake.calls
                if c.method in OUT and c.chat_id == self.user_id]

    async def expect(self, before: int, count: int, within: float = 20.0) -> list[Call]:
        deadline = time.monotonic() + within
        while len(self.out()) < before + count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.user_id}: {count} answers expected, got "
                                     f"{[c.params.get('text', '')[:50] for c in self.out()]}")
            await asyncio.sleep(0.02)
        return self.out()[before:]

    @property
    def keyboard(self) -> Call:
        return next(c for c in reversed(self.out()) if c.labels)

    async def send(self, text: str | None = None, replies: int = 1, **extra: Any) -> list[Call]:
        before = len(self.out())
        assert await self.driver.post(message_update(self.user_id, text, **extra)) == 200
        return await self.expect(before, replies) if replies else []

    def tap(self, label: str, on: Call | None = None) -> dict[str, Any]:
        """The update of a tap on a button of the newest keyboard (not yet posted)."""
        card = on or self.keyboard
        return callback_update(self.user_id, card.payload(label),
                               message_id=card.result["message_id"])

    async def press(self, label: str, replies: int = 1) -> list[Call]:
        before = len(self.out())
        assert await self.driver.post(self.tap(label)) == 200
        return await self.expect(before, replies)


async def to_review(resident: Any, description: str, until: str = "Gửi") -> None:
    """Onboard, write an anonymous street-light petition, and skip the optional steps up to
    the keyboard with `until` ("Gửi": the review card; "Xong": the photo step). `resident`
    is a Resident here or a TgUser of tests/test_telegram (the same send/press/keyboard)."""
    await resident.send("/start")
    await resident.press("Đồng ý")
    await resident.press("Khu Hòa Bình")
    await resident.send(description)
    await resident.press("Gửi thành phản ánh", replies=2)
    for label in ("Phản ánh, kiến nghị", "Gửi ẩn danh", "Điện chiếu sáng", "Khu Hòa Bình",
                  "Bỏ qua"):
        await resident.press(label)
    while until not in resident.keyboard.labels:
        await resident.press("Bỏ qua")
