"""Killing the dispatcher mid-run loses no delivery; at most the in-flight ones go twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path

from aiohttp import web

from bot.messages import Reply
from bot.services import outbox
from storage.db import Database
from tests.loopback import serve

ROOT = Path(__file__).resolve().parent.parent
RECIPIENTS = 150


async def _recording_server(received: Counter) -> tuple[web.AppRunner, str]:
    async def handle(request: web.Request) -> web.Response:
        received[(await request.json())["chat_id"]] += 1
        await asyncio.sleep(0.004)  # a real API takes a few milliseconds
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/send", handle)
    runner, url = await serve(app)
    return runner, url + "/send"


async def _worker(database_url: str, server: str, stale: float) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.dispatch_worker", database_url, server, str(stale),
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


async def test_a_killed_dispatcher_resumes_without_losing_or_repeating(db: Database):
    async with db.session() as session:
        for number in range(RECIPIENTS):
            await outbox.enqueue(session, outbox.Recipient("http", str(number)),
                                 Reply("Thông báo mất điện ngày mai."), kind="broadcast_delivery",
                                 broadcast_id=1, dedup_key=f"crash:{number}")
        await session.commit()
    url = db.engine.url.render_as_string(hide_password=False)
    received: Counter = Counter()
    runner, server = await _recording_server(received)
    try:
        first = await _worker(url, server, stale=300)
        for _ in range(3000):
            if sum(received.values()) >= RECIPIENTS // 3:
                break
            await asyncio.sleep(0.005)
        first.send_signal(signal.SIGKILL)  # no chance to mark anything
        await first.wait()
        killed_at = sum(received.values())
        assert 0 < killed_at < RECIPIENTS

        second = await _worker(url, server, stale=0)  # in-flight rows are retried at once
        assert await asyncio.wait_for(second.wait(), 60) == 0
    finally:
        await runner.cleanup()

    assert set(received) == {str(n) for n in range(RECIPIENTS)}  # nobody was lost
    assert max(received.values()) <= 2
    twice = [chat for chat, count in received.items() if count == 2]
    assert len(twice) <= 50  # at most the batch that was in flight
    async with db.session() as session:
        assert await outbox.waiting_by_channel(session) == {}
