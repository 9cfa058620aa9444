"""A fake Zalo Bot API on 127.0.0.1 (aiohttp) that records every call.

Serves `POST /bot<token>/<method>` with JSON bodies like bot-api.zaloplatforms.com: getMe,
getUpdates (one event per call, `error_code` 408 when nothing came), setWebhook,
deleteWebhook, getWebhookInfo, sendMessage, sendPhoto, sendChatAction. Faults can be
injected (HTTP 429, `ok: false` with HTTP 200). Also builds event JSON for tests.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.loopback import serve

BOT_ID = "b0t1d"


@dataclass
class Call:
    """One recorded Bot API call."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.perf_counter)

    @property
    def chat_id(self) -> str | None:
        """The chat the call addressed, if any."""
        value = self.params.get("chat_id")
        return str(value) if value is not None else None

    @property
    def text(self) -> str:
        """The text (or caption) sent."""
        return str(self.params.get("text") or self.params.get("caption") or "")


class FakeZalo:
    """The fake server: start it, point the bot at `url`, read `calls`."""

    def __init__(self, token: str = "123:TEST") -> None:
        self.token = token
        self.calls: list[Call] = []
        self.events: list[dict[str, Any]] = []
        self.faults: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.webhook = ""
        self.media: dict[str, bytes] = {}  # files users "sent", served at {url}/media/NAME
        self._changed = asyncio.Event()
        self._message_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> FakeZalo:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/media/{name}", self._media)
        self._runner, self.url = await serve(app)
        return self

    async def _media(self, request: web.Request) -> web.Response:
        body = self.media.get(request.match_info["name"])
        if body is None:
            return web.Response(status=404)
        return web.Response(body=body, content_type="image/jpeg")

    async def stop(self) -> None:
        """Close the server."""
        if self._runner is not None:
            await self._runner.cleanup()

    # --- test controls -------------------------------------------------------------------

    def push(self, event: dict[str, Any]) -> None:
        """Queue an event for getUpdates (long polling)."""
        self.events.append(event)
        self._changed.set()

    def fail(self, method: str, status: int = 200, code: int = 400,
             description: str = "Bad request", times: int = 1) -> None:
        """Answer the next `times` calls of `method` with an error (`ok: false`)."""
        body = {"ok": False, "error_code": code, "description": description}
        self.faults.setdefault(method, []).extend([(status, body)] * times)

    def of(self, method: str, chat_id: str | None = None) -> list[Call]:
        """Recorded calls of one method (to one chat)."""
        return [c for c in self.calls
                if c.method == method and (chat_id is None or c.chat_id == chat_id)]

    async def wait_for(self, method: str, count: int = 1, chat_id: str | None = None,
                       within: float = 5.0) -> list[Call]:
        """Wait until `count` calls of `method` (to `chat_id`) were recorded."""
        deadline = time.monotonic() + within
        while len(self.of(method, chat_id)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{count} {method} call(s) expected, got {len(self.of(method, chat_id))}: "
                    f"{[c.method for c in self.calls]}")
            await asyncio.sleep(0.01)
        return self.of(method, chat_id)

    # --- the Bot API ---------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"})
        method = request.match_info["method"]
        params = await request.json() if request.can_read_body else {}
        if self.faults.get(method):
            status, body = self.faults[method].pop(0)
            return web.json_response(body, status=status)
        if method == "getUpdates":
            return await self._get_updates(params)
        self.calls.append(Call(method, params))
        return web.json_response({"ok": True, **self._result(method, params)})

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        if not self.events:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), float(params.get("timeout") or 0))
            except TimeoutError:
                return web.json_response({"ok": False, "error_code": 408,
                                          "description": "Request timeout"})
        return web.json_response({"ok": True, "result": self.events.pop(0)})

    def _result(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "getMe":
            return {"result": {"id": BOT_ID, "account_name": "bot.civic",
                               "account_type": "BASIC", "can_join_groups": False}}
        if method == "setWebhook":
            self.webhook = params["url"]
            return {"result": {"url": self.webhook, "updated_at": int(time.time() * 1000)}}
        if method == "deleteWebhook":
            self.webhook = ""
            return {"result": {"url": "", "updated_at": int(time.time() * 1000)}}
        if method == "getWebhookInfo":
            return {"result": {"url": self.webhook, "updated_at": int(time.time() * 1000)}}
        if method == "sendChatAction":
            return {}
        return {"result": {"message_id": f"m{next(self._message_ids)}",
                           "date": int(time.time() * 1000)}}


# --- event JSON, as Zalo sends it --------------------------------------------------------

_ids = itertools.count(1)


def event(name: str, user_id: str, *, chat_id: str | None = None, group: bool = False,
          message_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """One event in the flat shape: {event_name, message}."""
    message: dict[str, Any] = {
        "from": {"id": user_id, "display_name": f"User {user_id}", "is_bot": False},
        "chat": {"id": chat_id or user_id, "chat_type": "GROUP" if group else "PRIVATE"},
        "message_id": message_id or f"msg{next(_ids):06d}",
        "date": int(time.time() * 1000), **fields,
    }
    return {"event_name": name, "message": message}


def text_event(user_id: str, text: str, **kw: Any) -> dict[str, Any]:
    """A text message."""
    return event("message.text.received", user_id, text=text, **kw)


def image_event(user_id: str, url: str, caption: str | None = None,
                **kw: Any) -> dict[str, Any]:
    """A photo, as observed live: `photo_url` and `message_type` CHAT_PHOTO."""
    extra = {"caption": caption} if caption else {}
    return event("message.image.received", user_id, photo_url=url,
                 message_type="CHAT_PHOTO", **extra, **kw)


def sticker_event(user_id: str, **kw: Any) -> dict[str, Any]:
    """A sticker."""
    return event("message.sticker.received", user_id, sticker="bfe4b1ca3a8fd3d18a9e",
                 url="https://zalo-api.zadn.vn/api/emoticon/sticker/webpc?eid=1", **kw)


def voice_event(user_id: str, url: str, **kw: Any) -> dict[str, Any]:
    """A voice message."""
    return event("message.voice.received", user_id, voice_url=url, **kw)


def unsupported_event(user_id: str, **kw: Any) -> dict[str, Any]:
    """Content Zalo withholds (protected users)."""
    return event("message.unsupported.received", user_id, **kw)


def wrapped(flat: dict[str, Any]) -> dict[str, Any]:
    """The documented shape: {"ok": true, "result": {event}}."""
    return {"ok": True, "result": flat}
