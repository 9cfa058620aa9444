"""Telegram webhook path: civicbot next to a bare python-telegram-bot echo bot.

A fake Bot API runs in its own process (tests/fake_telegram.py) together with a load driver
that plays Telegram: it POSTs updates to the bot's webhook (40 connections, like Telegram)
and times each one until the matching sendMessage/editMessageText reaches the fake. Each
simulated user waits for the answer before the next step. Both bots use the same aiohttp
transport, the same fake, in the same run; civicbot runs on a fresh SQLite database.

    .venv/bin/python bench/telegram.py             # the README table
    .venv/bin/python bench/telegram.py --tiny      # a quick check that it still works

Modes: "burst" (all users at once, as fast as answers come: throughput) and "steady" (a
fixed rate of updates per second: latency). The global 30 messages/s limiter is off for
both bots here (it would cap both at 30/s); retries and the per-group limit stay on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# This file is named like the library: never let `import telegram` find it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

from aiohttp import ClientSession, TCPConnector, web  # noqa: E402

TOKEN = "4242:BENCH"
SECRET = "bench-secret"
CIVIC_SCRIPT = [
    ("text", "/start"), ("press", "Xem chi tiết"), ("press", "Đồng ý"), ("press", "Khu Hòa Bình"),
    ("press", "Cài đặt"), ("press", "Menu chính"), ("press", "Trợ giúp"), ("text", "menu"),
    ("press", "Công khai thông tin"), ("text", "/help"),
]
ECHO_SCRIPT = [("text", f"m{i}") if i % 2 == 0 else ("data", f"echo:{i}") for i in range(10)]


# --- the fake's process: Bot API + load driver ----------------------------------------------

class Driver:
    """Plays Telegram for N users against a bot's webhook and times the answers."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        fake.record = False
        fake.on_call = self._on_call
        self.waiting: dict[int, asyncio.Future] = {}

    def _on_call(self, call: Any) -> None:
        if call.method in ("sendMessage", "editMessageText"):
            future = self.waiting.pop(call.chat_id, None)
            if future is not None and not future.done():
                future.set_result((time.perf_counter(), call))

    async def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Run one load; `spec`: webhook, script, users, rate (0 = burst)."""
        from tests.fake_telegram import callback_update, message_update

        script = CIVIC_SCRIPT if spec["script"] == "civic" else ECHO_SCRIPT
        users, rate = spec["users"], spec["rate"]
        latencies: list[float] = []
        async with ClientSession(connector=TCPConnector(limit=40)) as http:
            async def post(update: dict[str, Any]) -> None:
                async with http.post(spec["webhook"], json=update,
                                     headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as r:
                    assert r.status == 200, r.status
                    self.fake.webhook_reply(await r.read())  # a method in the answer

            async def user(i: int, start: float) -> None:
                chat, last = 10_000 + spec["offset"] + i, None
                for k, (kind, value) in enumerate(script):
                    if rate:
                        await asyncio.sleep(max(0.0, start + k * users / rate
                                                - time.perf_counter()))
                    if kind == "text":
                        update = message_update(chat, value)
                    else:
                        data = value if kind == "data" else last.payload(value)
                        message_id = last.result["message_id"] if last else 1
                        update = callback_update(chat, data, message_id=message_id)
                    answer = asyncio.get_running_loop().create_future()
                    self.waiting[chat] = answer
                    sent = time.perf_counter()
                    await post(update)
                    at, call = await asyncio.wait_for(answer, 60)
                    latencies.append(at - sent)
                    last = call if call.labels else last

            began = time.perf_counter()
            await asyncio.gather(*(user(i, began + (i / rate if rate else 0))
                                   for i in range(users)))
            elapsed = time.perf_counter() - began
        ordered = sorted(latencies)
        return {"updates": len(ordered), "seconds": round(elapsed, 2),
                "updates_per_s": round(len(ordered) / elapsed, 1),
                "p50_ms": round(statistics.median(ordered) * 1000, 1),
                "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 1)}


async def fake_process() -> None:
    """Serve the fake Bot API and the driver's /_bench route; print the URL; run until killed."""
    from tests.fake_telegram import FakeTelegram

    fake = FakeTelegram(TOKEN)
    driver = Driver(fake)
    await fake.start()
    control = web.Application()

    async def bench(request: web.Request) -> web.Response:
        return web.json_response(await driver.run(await request.json()))

    control.router.add_post("/_bench", bench)
    runner = web.AppRunner(control, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(fake.url, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.to_thread(sys.stdin.read)  # until the parent closes our stdin


# --- the bots' process ------------------------------------------------------------------------

async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"


async def _load(control: str, webhook: str, script: str, users: int, rate: float,
                offset: int) -> dict[str, Any]:
    spec = {"webhook": webhook, "script": script, "users": users, "rate": rate,
            "offset": offset}
    async with ClientSession() as http, http.post(f"{control}/_bench", json=spec) as resp:
        return await resp.json()


async def echo_bot(fake_url: str, control: str, loads: list[tuple[str, int, float]]
                   ) -> list[dict[str, Any]]:
    """A bare PTB echo bot behind the same kind of webhook route, same transport."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, MessageHandler, filters

    from bot.handlers.telegram_runtime import build_bot

    application = (ApplicationBuilder().bot(build_bot(TOKEN, fake_url, overall_max_rate=0))
                   .concurrent_updates(256).updater(None).job_queue(None).build())

    async def echo(update: Update, _context: Any) -> None:
        await update.effective_chat.send_message(update.message.text)

    async def pressed(update: Update, _context: Any) -> None:
        await update.callback_query.answer()
        await update.effective_chat.send_message(update.callback_query.data)

    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(pressed))

    async def webhook(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != SECRET:
            return web.Response(status=401)
        await application.update_queue.put(Update.de_json(await request.json(),
                                                          application.bot))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/webhook/telegram", webhook)
    results = []
    async with application:
        await application.start()
        runner, url = await _serve(app)
        for i, (name, users, rate) in enumerate(loads):
            result = await _load(control, url + "/webhook/telegram", "echo", users, rate,
                                 i * 100_000)
            results.append({"bot": "PTB echo", "mode": name, **result})
        await runner.cleanup()
        await application.stop()
    return results


async def civic_bot(fake_url: str, control: str, loads: list[tuple[str, int, float]],
                    database_url: str | None = None) -> list[dict[str, Any]]:
    """civicbot: webhook route, stored updates, engine, SQLite (or the given database)."""
    from bot.engine import Engine
    from bot.handlers.telegram_runtime import TelegramRuntime, build_bot
    from bot.services import commune_setup
    from bot.web import build_web_app
    from storage import clock
    from storage.db import Database, async_database_url

    results = []
    name = "civicbot (PostgreSQL)" if database_url else "civicbot (SQLite)"
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(async_database_url(database_url or f"sqlite:///{tmp}/bench.db"))
        await db.drop_all()
        await db.upgrade()
        async with db.session() as session:
            await commune_setup.load_demo_if_empty(session, "bench", now=clock.now())
            await session.commit()
        engine = Engine(db, pseudonym_key=b"bench")
        runtime = TelegramRuntime(
            engine, db, token=TOKEN, webhook_url="https://bench.invalid/webhook/telegram",
            webhook_secret=SECRET,
            bot=build_bot(TOKEN, fake_url, overall_max_rate=0),
        )
        await runtime.start()
        runner, url = await _serve(build_web_app(db, lambda: {"telegram": runtime.up},
                                                 runtime.routes()))
        for i, (mode, users, rate) in enumerate(loads):
            result = await _load(control, url + "/webhook/telegram", "civic", users, rate,
                                 i * 100_000)
            results.append({"bot": name, "mode": mode, **result})
        await runner.cleanup()
        await runtime.stop()
        await db.drop_all()
        await db.dispose()
    return results


def _table(rows: list[dict[str, Any]]) -> str:
    lines = ["| bot | mode | updates | updates/s | p50 ms | p99 ms |",
             "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['bot']} | {r['mode']} | {r['updates']} | {r['updates_per_s']} | "
              f"{r['p50_ms']} | {r['p99_ms']} |" for r in rows]
    return "\n".join(lines)


async def run(fake_url: str, control: str, users: int, rates: list[float], steady_users: int,
              database_url: str | None = None) -> dict[str, Any]:
    """Measure both bots against the fake; return every row and the throughput ratio."""
    loads = [("burst", users, 0.0)]
    loads += [(f"steady {rate:g}/s", steady_users, rate) for rate in rates]
    rows = await echo_bot(fake_url, control, loads)
    rows += await civic_bot(fake_url, control, loads, database_url)
    echo, civic = rows[0]["updates_per_s"], rows[len(loads)]["updates_per_s"]
    return {"rows": rows, "ratio": round(civic / echo, 2)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300, help="users in the burst")
    parser.add_argument("--rate", type=float, action="append",
                        help="updates/s of a steady run (repeatable; default 100 and 50)")
    parser.add_argument("--steady-users", type=int, default=100)
    parser.add_argument("--database-url", help="civicbot's database (default: a temporary "
                        "SQLite file); its tables are dropped before and after")
    parser.add_argument("--tiny", action="store_true", help="2 users, a few seconds")
    parser.add_argument("--fake-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fake_process:
        asyncio.run(fake_process())
        return {}
    args.rate = args.rate or [100, 50]
    if args.tiny:
        args.users, args.rate, args.steady_users = 2, [40], 2
    with subprocess.Popen([sys.executable, __file__, "--fake-process"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True, cwd=ROOT) as fake:
        fake_url, control = fake.stdout.readline().split()
        try:
            result = asyncio.run(run(fake_url, control, args.users, args.rate,
                                     args.steady_users, args.database_url))
        finally:
            fake.stdin.close()
            fake.wait(timeout=10)
    print(_table(result["rows"]))
    print(f"civicbot / echo throughput (burst): {result['ratio']}")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
