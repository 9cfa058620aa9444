"""The project's aiohttp server: channel webhooks, `GET /healthz`, and the routes given (the
public page of bot.public_page when PUBLIC_PAGE is on)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from aiohttp import web

from bot.services import outbox
from storage.db import Database

ChannelsUp = Callable[[], Mapping[str, bool]]


def build_web_app(db: Database, channels_up: ChannelsUp = dict,
                  routes: Iterable[web.RouteDef] = ()) -> web.Application:
    """The aiohttp application: the given webhook routes plus the health check."""
    app = web.Application(client_max_size=1024 * 1024)

    async def healthz(_request: web.Request) -> web.Response:
        """200 with a small status: database reachable, channels up, messages waiting."""
        db_ok = await db.ping()
        waiting: dict[str, int] = {}
        if db_ok:
            async with db.session() as session:
                waiting = await outbox.waiting_by_channel(session)
        channels = dict(channels_up())
        healthy = db_ok and all(channels.values())
        body = {"status": "ok" if healthy else "degraded", "database": db_ok,
                "channels": channels, "outbox_waiting": waiting}
        return web.json_response(body, status=200 if db_ok else 503)

    app.router.add_get("/healthz", healthz)
    app.router.add_routes(list(routes))
    return app
