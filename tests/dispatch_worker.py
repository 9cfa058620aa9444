"""A dispatcher in its own process, for the crash and multi-process tests.

python -m tests.dispatch_worker DATABASE_URL SERVER_URL STALE_SECONDS
    sends every due outbox row of the `http` channel to a recording server, then exits.
python -m tests.dispatch_worker DATABASE_URL TELEGRAM_URL STALE_SECONDS serve RATE
    delivers the `telegram` channel's rows through the real Telegram channel and the shared
    send budget (RATE messages a second, shared by every worker on the database) until
    SIGTERM, then stops as `bot run` does: hands its claims back and exits. RATE "ptb:30"
    uses PTB's own rate limiter, per process, as before the shared budget (benches).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import timedelta

import aiohttp
from telegram.ext import AIORateLimiter, ExtBot

from bot.handlers.telegram import TelegramChannel
from bot.handlers.telegram_request import AiohttpRequest
from bot.handlers.telegram_runtime import build_bot
from bot.messages import Reply
from bot.services.dispatcher import Dispatcher
from storage.db import Database

TOKEN = "123:TEST"


class HttpChannel:
    """Posts each message to the recording server (one request per message)."""

    name = "http"

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url = session, url

    async def send(self, chat_id: str, reply: Reply) -> None:
        async with self.session.post(self.url, json={"chat_id": chat_id}) as response:
            response.raise_for_status()


async def main(database_url: str, server_url: str, stale_seconds: float) -> None:
    db = Database(database_url)
    async with aiohttp.ClientSession() as http:
        dispatcher = Dispatcher(db, {"http": HttpChannel(http, server_url)},
                                pseudonym_key=b"crash", stale_after=timedelta(
                                    seconds=stale_seconds))
        while await dispatcher.dispatch_due():
            pass
    await db.dispose()


def per_process_bot(telegram_url: str, rate: float) -> ExtBot:
    """The bot as it was before the shared budget: PTB's rate limiter, one per process."""
    base = telegram_url.rstrip("/")
    return ExtBot(TOKEN, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot",
                  request=AiohttpRequest(connections=256),
                  rate_limiter=AIORateLimiter(overall_max_rate=rate, max_retries=3))


async def serve(database_url: str, telegram_url: str, stale_seconds: float,
                rate: str) -> None:
    db = Database(database_url)
    bot = (per_process_bot(telegram_url, float(rate[4:])) if rate.startswith("ptb:")
           else build_bot(TOKEN, telegram_url, db=db, overall_max_rate=float(rate)))
    await bot.initialize()
    dispatcher = Dispatcher(db, {"telegram": TelegramChannel(bot)}, pseudonym_key=b"crash",
                            stale_after=timedelta(seconds=stale_seconds))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    running = asyncio.create_task(dispatcher.run())
    print("ready", flush=True)
    await stop.wait()
    await dispatcher.stop(grace=10)
    await running
    await bot.shutdown()
    await db.dispose()


if __name__ == "__main__":
    if len(sys.argv) > 4 and sys.argv[4] == "serve":
        asyncio.run(serve(sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[5]))
    else:
        asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
