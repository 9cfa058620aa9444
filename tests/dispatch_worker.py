"""A dispatcher in its own process, for the crash test: sends every due outbox row of the
`http` channel to a recording server, then exits. Run: python -m tests.dispatch_worker
DATABASE_URL SERVER_URL STALE_SECONDS."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

import aiohttp

from bot.messages import Reply
from bot.services.dispatcher import Dispatcher
from storage.db import Database


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


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
