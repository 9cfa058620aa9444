"""A resident's reply while a broadcast runs at the full send budget, one or two processes.

A broadcast (one outbox row per recipient, kind broadcast_delivery) goes out through the
fake Telegram under the bot's budget (30 messages/s, shared through PostgreSQL), delivered
by this process's dispatcher, or by it and a second process (tests.dispatch_worker).
Meanwhile this process answers a resident every 200 ms through the same bot, as the
runtime does. Prints the replies' latency (call to answer, budget wait included: p50,
p99, max) and the broadcast's rate in its busiest second.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<db> \\
        .venv/bin/python bench/reply_during_broadcast.py       # 3,000: 1 then 2 processes
    .venv/bin/python bench/reply_during_broadcast.py --tiny    # SQLite, one process, quick
    … --before: PTB's rate limiter in each process, as before the shared budget

The PostgreSQL database is emptied first. Asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

from bot.handlers.telegram import TelegramChannel  # noqa: E402
from bot.handlers.telegram_runtime import build_bot  # noqa: E402
from bot.messages import Reply  # noqa: E402
from bot.services import outbox  # noqa: E402
from bot.services.dispatcher import Dispatcher  # noqa: E402
from storage.db import Database, async_database_url  # noqa: E402
from tests.dispatch_worker import TOKEN, per_process_bot  # noqa: E402
from tests.fake_telegram import FakeTelegram, most_in_one_second  # noqa: E402

RATE = 30.0  # Telegram's, per bot
RESIDENT = 10_000_000  # the chat the replies go to, apart from the recipients
TEXT = "Thông báo: sáng mai 7h tiêm phòng dại cho chó, mèo tại nhà văn hóa khu."


async def _worker(url: str, fake: FakeTelegram, before: bool) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.dispatch_worker", url, fake.url, "20", "serve",
        f"ptb:{RATE}" if before else str(RATE), cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    await asyncio.wait_for(process.stdout.readline(), 30)
    return process


async def _round(db: Database, fake: FakeTelegram, recipients: int, processes: int,
                 before: bool) -> dict[str, float]:
    """One broadcast with replies alongside; the figures."""
    fake.calls.clear()
    bot = (per_process_bot(fake.url, RATE) if before
           else build_bot(TOKEN, fake.url, db=db, overall_max_rate=RATE))
    await bot.initialize()
    channel = TelegramChannel(bot)
    dispatcher = Dispatcher(db, {"telegram": channel}, pseudonym_key=b"bench")
    url = db.engine.url.render_as_string(hide_password=False)
    others = [await _worker(url, fake, before) for _ in range(processes - 1)]
    running = asyncio.create_task(dispatcher.run())
    async with db.session() as session:
        for number in range(1, recipients + 1):
            await outbox.enqueue(session, outbox.Recipient("telegram", str(number)),
                                 Reply(TEXT), kind="broadcast_delivery", broadcast_id=1)
        await session.commit()
    began, waits = time.perf_counter(), []
    while len(fake.of("sendMessage")) - len(waits) < recipients:
        start = time.perf_counter()
        await channel.send(str(RESIDENT), Reply("Dạ, trợ lý đã nhận phản ánh của Anh/Chị."))
        waits.append(time.perf_counter() - start)
        await asyncio.sleep(max(0.2 - (time.perf_counter() - start), 0))
    seconds = time.perf_counter() - began
    await dispatcher.stop(grace=5)
    await running
    for other in others:
        other.send_signal(signal.SIGTERM)
        await other.wait()
    await bot.shutdown()
    sent = [c.at for c in fake.of("sendMessage") if c.chat_id != RESIDENT]
    return {
        "processes": processes, "recipients": recipients, "replies": len(waits),
        "p50_ms": statistics.median(waits) * 1000,
        "p99_ms": sorted(waits)[max(int(len(waits) * 0.99) - 1, 0)] * 1000,
        "max_ms": max(waits) * 1000, "broadcast_per_s": len(sent) / seconds,
        "busiest_second": most_in_one_second([*sent, *(c.at for c in fake.of(
            "sendMessage", RESIDENT))]),
    }


async def run(args: argparse.Namespace) -> dict:
    pg_url = os.environ.get("TEST_DATABASE_URL")
    with tempfile.TemporaryDirectory() as folder:
        db = Database(async_database_url(pg_url) if pg_url and not args.tiny
                      else f"sqlite+aiosqlite:///{folder}/bench.db")
        fake = await FakeTelegram().start()
        rows = []
        try:
            for processes in (1, 2) if not db.is_sqlite else (1,):
                await db.drop_all()
                await db.create_all()
                rows.append(await _round(db, fake, args.recipients, processes, args.before))
                print(" ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}"
                               for k, v in rows[-1].items()), flush=True)
        finally:
            await fake.stop()
            await db.dispose()
    return {"rows": rows}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--tiny", action="store_true", help="SQLite, 30 recipients")
    parser.add_argument("--before", action="store_true",
                        help="PTB's rate limiter per process, as before the shared budget")
    args = parser.parse_args(argv)
    if args.tiny:
        args.recipients = 30
    return asyncio.run(run(args))


if __name__ == "__main__":
    main()
