"""One account floods the Telegram webhook while others use the menu: their latency with and
without per-person flood control (bot.handlers.flood).

Runs in one process: the fake Bot API (tests/fake_telegram.py, with Telegram's 30 messages/s
limiter on in the bot, as in production), civicbot's webhook on a fresh SQLite database, and a
load driver. Three runs: no flooder (the baseline), a flooder at --flood-rate messages/s with
flood control off, and the same with it on (burst 10, then 1 message/s). For each: the others'
p50/p99, the flooder's answers during the run, a new person's first answer right after the
storm (while the backlog drains), events still pending then, and the process's RSS.

    .venv/bin/python bench/flood.py              # docs/benchmarks.md
    .venv/bin/python bench/flood.py --tiny       # a quick check that it still works
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from aiohttp import ClientSession, TCPConnector  # noqa: E402

TOKEN = "4242:BENCH"
SECRET = "bench-secret"
ONBOARD = [("text", "/start"), ("press", "Đồng ý"), ("press", "Khu Hòa Bình")]
MENU = [("text", "menu"), ("press", "Cài đặt"), ("press", "Menu chính"), ("press", "Trợ giúp"),
        ("text", "menu"), ("press", "Công khai thông tin")]
FLOODER = 99_000


def rss_mb() -> float:
    """The process's resident memory (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Driver:
    """Plays Telegram: posts updates to the webhook and times the first answer of each."""

    def __init__(self, fake: Any, webhook: str) -> None:
        self.fake, self.webhook = fake, webhook
        fake.record = False
        fake.on_call = self._on_call
        self.waiting: dict[int, asyncio.Future] = {}
        self.keyboards: dict[int, Any] = {}
        self.answers: dict[int, int] = {}
        self.http: ClientSession | None = None

    def _on_call(self, call: Any) -> None:
        if call.method not in ("sendMessage", "editMessageText"):
            return
        chat = call.chat_id
        self.answers[chat] = self.answers.get(chat, 0) + 1
        if call.labels:
            self.keyboards[chat] = call
        future = self.waiting.pop(chat, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    async def post(self, update: dict[str, Any]) -> None:
        async with self.http.post(self.webhook, json=update,  # type: ignore[union-attr]
                                  headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as r:
            assert r.status == 200, r.status
            self.fake.webhook_reply(await r.read())

    async def step(self, chat: int, kind: str, value: str) -> float:
        """One step of a person who waits for the answer; its latency in seconds."""
        from tests.fake_telegram import callback_update, message_update

        if kind == "text":
            update = message_update(chat, value)
        else:
            for _ in range(500):  # a step's later messages may still be on their way
                if value in getattr(self.keyboards.get(chat), "labels", ()):
                    break
                await asyncio.sleep(0.01)
            keyboard = self.keyboards[chat]
            update = callback_update(chat, keyboard.payload(value),
                                     message_id=keyboard.result["message_id"])
        answer = asyncio.get_running_loop().create_future()
        self.waiting[chat] = answer
        sent = time.perf_counter()
        await self.post(update)
        return await asyncio.wait_for(answer, 60) - sent


async def _run(flood_rate: float, control: bool, users: int, seconds: float,
               think: float) -> dict[str, Any]:
    from bot.engine import Engine
    from bot.handlers.flood import FloodControl
    from bot.handlers.telegram_runtime import TelegramRuntime, build_bot
    from bot.services import commune_setup
    from bot.web import build_web_app
    from storage import clock
    from storage.db import Database, async_database_url
    from storage.models import InboundEvent
    from tests.fake_telegram import FakeTelegram, message_update
    from tests.loopback import serve

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(async_database_url(f"sqlite:///{tmp}/bench.db"))
        await db.create_all()
        async with db.session() as session:
            await commune_setup.load_demo_if_empty(session, "bench", now=clock.now())
            await session.commit()
        fake = await FakeTelegram(TOKEN).start()
        runtime = TelegramRuntime(
            Engine(db, pseudonym_key=b"bench"), db, token=TOKEN,
            webhook_url="https://bench.invalid/webhook/telegram", webhook_secret=SECRET,
            bot=build_bot(TOKEN, fake.url), flood=FloodControl(rate=1.0 if control else 0))
        await runtime.start()
        runner, url = await serve(build_web_app(db, lambda: {}, runtime.routes()))
        driver = Driver(fake, url + "/webhook/telegram")
        driver.http = ClientSession(connector=TCPConnector(limit=60))
        people = [10_000 + i for i in range(users)] + ([FLOODER] if flood_rate else [])
        await asyncio.gather(*(_steps(driver, chat, ONBOARD) for chat in people))
        gc.collect()
        rss_before = rss_mb()
        latencies: list[float] = []
        end = time.perf_counter() + seconds

        async def person(chat: int) -> None:
            k = 0
            while time.perf_counter() < end:
                kind, value = MENU[k % len(MENU)]
                latencies.append(await driver.step(chat, kind, value))
                k += 1
                await asyncio.sleep(think)  # reading the answer

        async def flooder() -> None:
            began, n = time.perf_counter(), 0
            while time.perf_counter() < end:
                await driver.post(message_update(FLOODER, f"tin nhắn {n}"))
                n += 1
                await asyncio.sleep(max(0.0, began + n / flood_rate - time.perf_counter()))

        flooded_before = driver.answers.get(FLOODER, 0)
        tasks = [person(chat) for chat in people if chat != FLOODER]
        await asyncio.gather(*tasks, *([flooder()] if flood_rate else []))
        flood_answers = driver.answers.get(FLOODER, 0) - flooded_before
        newcomer = await driver.step(50_000, "text", "/start")  # while the backlog drains
        await asyncio.sleep(0.2)  # the newcomer's own update is marked done
        await runtime.events.flush()
        async with db.session() as session:
            from sqlmodel import func, select
            pending = (await session.exec(select(func.count()).where(
                InboundEvent.status == "pending"))).one()
        rss_after = rss_mb()
        await driver.http.close()
        await runner.cleanup()
        await runtime.stop()  # a flooder's waiting messages stay pending (next start)
        await fake.stop()
        await db.dispose()
    gc.collect()
    ordered = sorted(latencies)
    return {"run": ("flooder, control on" if control else "flooder, control off")
            if flood_rate else "no flooder",
            "steps": len(ordered), "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 1),
            "flood_answered": flood_answers, "newcomer_ms": round(newcomer * 1000, 1),
            "pending_after": pending, "rss_before_mb": round(rss_before, 1),
            "rss_after_mb": round(rss_after, 1), "rss_end_mb": round(rss_mb(), 1)}


async def _steps(driver: Driver, chat: int, steps: list[tuple[str, str]]) -> None:
    for kind, value in steps:
        await driver.step(chat, kind, value)


def _table(rows: list[dict[str, Any]]) -> str:
    lines = ["| run | others' steps | p50 ms | p99 ms | flooder answered | newcomer ms | "
             "pending after | RSS MB (start/after/end) |", "|" + " --- |" * 8]
    lines += [f"| {r['run']} | {r['steps']} | {r['p50_ms']} | {r['p99_ms']} | "
              f"{r['flood_answered']} | {r['newcomer_ms']} | {r['pending_after']} | "
              f"{r['rss_before_mb']}/{r['rss_after_mb']}/{r['rss_end_mb']} |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10, help="people using the menu")
    parser.add_argument("--think", type=float, default=1.0,
                        help="seconds a person reads an answer before the next step")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each run")
    parser.add_argument("--flood-rate", type=float, default=50.0, help="the flooder's msg/s")
    parser.add_argument("--tiny", action="store_true", help="2 users, 0.5 s runs")
    args = parser.parse_args(argv)
    if args.tiny:
        args.users, args.seconds, args.flood_rate, args.think = 2, 0.5, 20.0, 0.2

    async def every_run() -> list[dict[str, Any]]:
        return [await _run(0, False, args.users, args.seconds, args.think),
                await _run(args.flood_rate, False, args.users, args.seconds, args.think),
                await _run(args.flood_rate, True, args.users, args.seconds, args.think)]

    rows = asyncio.run(every_run())
    base, on = rows[0]["p99_ms"], rows[2]["p99_ms"]
    result = {"rows": rows, "p99_ratio_with_control": round(on / base, 2) if base else None,
              "p99_ratio_without_control": round(rows[1]["p99_ms"] / base, 2) if base else None}
    print(_table(rows))
    print(f"others' p99 vs no flooder: control off x{result['p99_ratio_without_control']}, "
          f"control on x{result['p99_ratio_with_control']}")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
