"""Broadcast delivery through the outbox dispatcher, against a local fake Bot API.

1. Limits off: N deliveries (one outbox row each) sent by the dispatcher, next to a bare
   loop of `bot.send_message` over the same fake: the dispatcher's own overhead.
2. Limits on (Telegram's 30 messages/s, as configured in production): M deliveries to
   private chats; the rate reached, as a share of the configured one.

    .venv/bin/python bench/broadcast_delivery.py                 # 10,000 and 3,000
    .venv/bin/python bench/broadcast_delivery.py --tiny          # a quick check

Prints one line of figures; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
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
from storage.db import Database  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402

TOKEN = "4242:BENCH"
TEXT = "Thông báo: sáng mai 7h tiêm phòng dại cho chó, mèo tại nhà văn hóa khu."


async def _queue(db: Database, count: int, start: int) -> None:
    async with db.session() as session:
        for number in range(start, start + count):
            await outbox.enqueue(session, outbox.Recipient("telegram", str(number)),
                                 Reply(TEXT), kind="broadcast_delivery", broadcast_id=1)
        await session.commit()


async def _dispatch(db: Database, fake_url: str, count: int, start: int, rate: float
                    ) -> float:
    """Seconds for the dispatcher to send `count` queued rows."""
    bot = build_bot(TOKEN, fake_url, overall_max_rate=rate)
    await bot.initialize()
    try:
        await _queue(db, count, start)
        dispatcher = Dispatcher(db, {"telegram": TelegramChannel(bot)},
                                pseudonym_key=b"bench", batch=200)
        began = time.perf_counter()
        sent = 0
        while sent < count:
            sent += await dispatcher.dispatch_due()
        return time.perf_counter() - began
    finally:
        await bot.shutdown()


async def _bare(fake_url: str, count: int) -> float:
    """Seconds for a plain loop of send_message over the same fake."""
    bot = build_bot(TOKEN, fake_url, overall_max_rate=0)
    await bot.initialize()
    try:
        began = time.perf_counter()
        for number in range(count):
            await bot.send_message(1_000_000 + number, TEXT)
        return time.perf_counter() - began
    finally:
        await bot.shutdown()


async def run(unlimited: int, limited: int, rate: float) -> dict[str, float]:
    """Run both parts; returns the figures."""
    fake = await FakeTelegram(TOKEN, record=False).start()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/bench.db")
        await db.upgrade()
        try:
            bare = await _bare(fake.url, unlimited)
            ours = await _dispatch(db, fake.url, unlimited, 1, 0)
            paced = await _dispatch(db, fake.url, limited, 10_000_000, rate)
        finally:
            await db.dispose()
            await fake.stop()
    return {
        "deliveries": unlimited, "bare_per_s": round(unlimited / bare),
        "dispatcher_per_s": round(unlimited / ours),
        "ratio": round(bare / ours, 2),
        "limited_deliveries": limited, "configured_rate": rate,
        "limited_per_s": round(limited / paced, 1),
        "share_of_rate": round(limited / paced / rate, 3),
    }


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Parse arguments, run, print one line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--limited", type=int, default=3_000)
    parser.add_argument("--rate", type=float, default=30)
    parser.add_argument("--tiny", action="store_true")
    args = parser.parse_args(argv)
    if args.tiny:
        args.deliveries, args.limited = 50, 30
    result = asyncio.run(run(args.deliveries, args.limited, args.rate))
    print(" ".join(f"{key}={value}" for key, value in result.items()))
    return result


if __name__ == "__main__":
    main()
