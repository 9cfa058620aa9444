"""`python -m bot run` stops cleanly on SIGTERM: exits 0 within the bound, the message on
the wire is finished and marked, the other claimed deliveries are handed back (pending,
not left "sending" for the stale period). Runs the real command on the real clock."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

from sqlmodel import select

from bot.messages import Reply
from bot.server import SHUTDOWN_SECONDS
from bot.services import outbox
from storage.db import Database
from storage.models import OutboxMessage
from tests.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "77:STOP"


async def test_sigterm_hands_claims_back_and_exits_in_time(tmp_path: Path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'run.db'}")
    await db.upgrade()
    async with db.session() as session:
        for number in range(1, 201):
            await outbox.enqueue(session, outbox.Recipient("telegram", str(number)),
                                 Reply("Lịch họp tổ dân phố tối thứ Năm."),
                                 kind="broadcast_delivery", broadcast_id=1)
        await session.commit()
    fake = await FakeTelegram(TOKEN).start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
           "DATA_DIR": str(tmp_path), "TELEGRAM_BOT_TOKEN": TOKEN,
           "TELEGRAM_API_URL": fake.url, "HTTP_PORT": str(port), "PSEUDONYM_KEY": "stop-key"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env)
    try:
        await fake.wait_for("sendMessage", 5, within=30)  # 30 a second: far from done
        process.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        assert await asyncio.wait_for(process.wait(), SHUTDOWN_SECONDS + 5) == 0
        assert time.monotonic() - stopped < 5  # nothing to wait for here
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await fake.stop()

    async with db.session() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    await db.dispose()
    sent = {int(call.chat_id or 0) for call in fake.of("sendMessage")}
    assert {int(r.chat_id) for r in rows if r.status == outbox.SENT} == sent  # all marked
    assert {r.status for r in rows} == {outbox.SENT, outbox.PENDING}  # none left "sending"
    assert len(fake.of("sendMessage")) == len(sent) < 200
