"""Serving aiohttp apps on 127.0.0.1 for tests: fakes of the platforms, and our own bot.

`serve` starts an app on a free port; `ServedBot` runs a channel runtime behind our HTTP
server (bot.web) the way `python -m bot run` does, so tests reach its webhook over loopback.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web

from bot.web import build_web_app
from storage.db import Database

RIGHT_SECRET = object()  # post()'s default: the secret the bot was configured with


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve `app` on a free port of 127.0.0.1; returns its runner (to clean up) and URL."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


class ServedBot:
    """A channel runtime (`runtime`, named `channel`) behind our HTTP server on loopback.

    In webhook mode events are POSTed to `webhook_path` with the secret in `secret_header`,
    as the platform does; in polling mode they are queued on the fake (`fake.push`).
    """

    channel = ""
    webhook_path = ""
    secret_header = ""
    secret = ""

    def __init__(self, db: Database, fake: Any, runtime: Any, webhook: bool = True) -> None:
        self.db, self.fake, self.runtime, self.webhook = db, fake, runtime, webhook
        self._runner: web.AppRunner | None = None
        self.http: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> Any:
        """Start the runtime and the HTTP server; returns self."""
        await self.runtime.start()
        app = build_web_app(self.db, lambda: {self.channel: self.runtime.up},
                            self.runtime.routes())
        self._runner, self.url = await serve(app)
        self.http = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        """Stop everything started."""
        await self.http.close()
        await self._runner.cleanup()
        await self.runtime.stop()

    async def post(self, body: Any, secret: Any = RIGHT_SECRET) -> int:
        """POST to the webhook (JSON, or raw bytes); returns the status.

        The right secret by default; `secret=None` sends no secret header at all.
        """
        secret = self.secret if secret is RIGHT_SECRET else secret
        headers = {self.secret_header: secret} if secret is not None else {}
        data = body if isinstance(body, bytes) else None
        async with self.http.post(self.url + self.webhook_path, headers=headers, data=data,
                                  json=None if data is not None else body) as resp:
            answer = await resp.read()
        if resp.status == 200 and hasattr(self.fake, "webhook_reply"):
            self.fake.webhook_reply(answer)  # as the platform performs a method in the answer
        return resp.status

    async def deliver(self, event: dict[str, Any]) -> None:
        """Hand an event to the bot the way the current mode receives it."""
        if self.webhook:
            assert await self.post(event) == 200
        else:
            self.fake.push(event)
