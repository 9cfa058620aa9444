"""The HTTP server: /healthz, and `run` serving Telegram with it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from aiohttp import web

from bot import server
from bot.app import build
from bot.config import Settings
from bot.messages import Reply
from bot.services import outbox
from bot.web import build_web_app
from storage.db import Database
from tests.fake_telegram import FakeTelegram, message_update
from tests.loopback import serve


@asynccontextmanager
async def _serving(app: web.Application) -> AsyncIterator[str]:
    runner, url = await serve(app)
    try:
        yield url
    finally:
        await runner.cleanup()


async def _get(url: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.json()


async def test_healthz_reports_database_channels_and_waiting_messages(db: Database):
    async with db.session() as session:
        for chat in ("1", "2"):
            await outbox.enqueue(session, outbox.Recipient("zalo", chat), Reply("Tin"))
        await outbox.enqueue(session, outbox.Recipient("telegram", "3"), Reply("Tin"))
        await session.commit()
    up = {"telegram": True}
    async with _serving(build_web_app(db, lambda: up)) as url:
        assert await _get(url + "/healthz") == (200, {
            "status": "ok", "database": True, "channels": {"telegram": True},
            "outbox_waiting": {"telegram": 1, "zalo": 2}})
        up["telegram"] = False
        status, body = await _get(url + "/healthz")
        assert (status, body["status"]) == (200, "degraded")


class _DownDatabase:
    """A database that does not answer."""

    async def ping(self) -> bool:
        return False


async def test_healthz_says_so_when_the_database_is_unreachable():
    async with _serving(build_web_app(_DownDatabase())) as url:  # type: ignore[arg-type]
        status, body = await _get(url + "/healthz")
    assert (status, body["database"], body["status"]) == (503, False, "degraded")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _until(check: Callable[[], object], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if await check() if asyncio.iscoroutinefunction(check) else check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def test_run_serves_telegram_by_polling_and_healthz(tmp_path: Path):
    fake = await FakeTelegram("42:RUN").start()
    port = _free_port()
    settings = Settings(
        _env_file=None, database_url=f"sqlite:///{tmp_path / 'run.db'}", data_dir=tmp_path,
        telegram_bot_token="42:RUN", telegram_api_url=fake.url, http_port=port,
    )
    app = build(settings)
    stop = asyncio.Event()
    serving = asyncio.create_task(server.serve(app, stop))
    try:
        async def healthy() -> bool:
            try:
                status, body = await _get(f"http://127.0.0.1:{port}/healthz")
            except aiohttp.ClientConnectionError:
                return False
            return status == 200 and body["channels"] == {"telegram": True}

        await _until(healthy)
        fake.push(message_update(700, "/start"))
        [greeting] = await fake.wait_for("sendMessage", 1, chat_id=700)
        assert greeting.labels == ["Đồng ý", "Xem chi tiết", "Không đồng ý"]
    finally:
        stop.set()
        await serving
        await app.close()
        await fake.stop()
