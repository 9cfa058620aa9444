"""A fake Zalo OA API and OAuth v4 server on 127.0.0.1 (aiohttp) that records every call.

OAuth: `POST /v4/oa/access_token` (checks the app secret, the PKCE verifier, and that a
refresh token is used once). API: getoa, message/cs, tag/tagfollower,
tag/rmfollowerfromtag, answering `{"error": 0, "data": …}` or -216 for a wrong token.
Also builds signed webhook events as Zalo sends them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.loopback import serve

APP_ID = "4143457011248377913"
APP_SECRET = "app-s3cret"
SECRET_KEY = "oa-secret-key"
OA_ID = "579745863508352884"


@dataclass
class Call:
    """One recorded call."""

    path: str
    body: dict[str, Any]
    token: str | None = None
    at: float = field(default_factory=time.perf_counter)

    @property
    def to(self) -> dict[str, str]:
        """The recipient of a message."""
        return self.body.get("recipient") or {}

    @property
    def text(self) -> str:
        return str((self.body.get("message") or {}).get("text") or "")

    @property
    def buttons(self) -> list[dict[str, str]]:
        attachment = (self.body.get("message") or {}).get("attachment") or {}
        return list((attachment.get("payload") or {}).get("buttons") or [])


class FakeZaloOA:
    """The fake servers: start, point the bot at `url` (both API and OAuth), read `calls`."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.access_tokens: set[str] = set()
        self.refresh_token: str | None = None  # the one valid refresh token
        self.codes: dict[str, str] = {}  # authorisation code -> code challenge
        self.faults: dict[str, list[dict[str, Any]]] = {}
        self.refresh_delay = 0.0
        self.media: dict[str, bytes] = {}  # files users "sent", served at {url}/media/NAME
        self.outside_window: set[str] = set()  # users Zalo answers -230 for
        self._serial = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> FakeZaloOA:
        app = web.Application()
        app.router.add_post("/v4/oa/access_token", self._token)
        app.router.add_route("*", "/{version}/oa/{path:.+}", self._api)
        app.router.add_get("/media/{name}", self._media)
        self._runner, self.url = await serve(app)
        return self

    async def _media(self, request: web.Request) -> web.Response:
        body = self.media.get(request.match_info["name"])
        if body is None:
            return web.Response(status=404)
        return web.Response(body=body, content_type="application/pdf")

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- test controls -------------------------------------------------------------------

    def issue(self) -> tuple[str, str]:
        """A valid pair, as if the admin had authorised (for seeding)."""
        n = next(self._serial)
        access, refresh = f"AT{n}", f"RT{n}"
        self.access_tokens.add(access)
        self.refresh_token = refresh
        return access, refresh

    def expire(self, token: str) -> None:
        self.access_tokens.discard(token)

    def fail(self, path: str, code: int, message: str = "error", times: int = 1) -> None:
        """Answer the next `times` calls whose path ends with `path` with an error."""
        self.faults.setdefault(path, []).extend([{"error": code, "message": message}] * times)

    def of(self, path: str, user: str | None = None) -> list[Call]:
        """Recorded calls to a path ending (to a user id or quoted message)."""
        return [c for c in self.calls if c.path.endswith(path)
                and (user is None or user in c.to.values() or c.body.get("user_id") == user)]

    def messages(self) -> list[Call]:
        return self.of("/message/cs")

    async def wait_for(self, path: str, count: int = 1, within: float = 5.0) -> list[Call]:
        deadline = time.monotonic() + within
        while len(self.of(path)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} {path} call(s) expected, got "
                                     f"{[c.path for c in self.calls]}")
            await asyncio.sleep(0.01)
        return self.of(path)

    # --- the servers ---------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.calls.append(Call("/v4/oa/access_token", {k: str(v) for k, v in form.items()}))
        if request.headers.get("secret_key") != APP_SECRET or form.get("app_id") != APP_ID:
            return web.json_response({"error": -14002, "error_name": "Invalid app secret"})
        grant = form.get("grant_type")
        if grant == "authorization_code":
            challenge = self.codes.pop(str(form.get("code")), None)
            verifier = str(form.get("code_verifier", "")).encode()
            expected = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).decode()
            if challenge is None or expected.rstrip("=") != challenge:
                return web.json_response({"error": -14019, "error_name": "Invalid code"})
        elif grant == "refresh_token":
            if self.refresh_delay:
                await asyncio.sleep(self.refresh_delay)
            if form.get("refresh_token") != self.refresh_token or not self.refresh_token:
                return web.json_response({"error": -14014,
                                          "error_name": "Invalid refresh token"})
        else:
            return web.json_response({"error": -14001, "error_name": "Invalid grant"})
        access, refresh = self.issue()
        return web.json_response({"access_token": access, "refresh_token": refresh,
                                  "expires_in": "90000"})

    async def _api(self, request: web.Request) -> web.Response:
        path = request.path
        body = await request.json() if request.can_read_body else {}
        token = request.headers.get("access_token")
        if token not in self.access_tokens:
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        self.calls.append(Call(path, body, token))
        for key, queue in self.faults.items():
            if path.endswith(key) and queue:
                return web.json_response(queue.pop(0))
        if path.endswith("/getoa"):
            return web.json_response({"error": 0, "message": "Success",
                                      "data": {"oa_id": OA_ID, "name": "UBND xã Chi Lăng"}})
        data: dict[str, Any] = {}
        if path.endswith("/message/cs") and set(body["recipient"].values()) & self.outside_window:
            return web.json_response({"error": -230, "message": "User has not interacted with "
                                      "the OA in the past 7 days"})
        if path.endswith("/message/cs"):
            data = {"message_id": f"oa{next(self._serial)}",
                    "user_id": body.get("recipient", {}).get("user_id", "")}
        return web.json_response({"error": 0, "message": "Success", "data": data})


# --- webhook events, as Zalo sends them ---------------------------------------------------

_ids = itertools.count(1)


def _base(name: str, **fields: Any) -> dict[str, Any]:
    return {"app_id": APP_ID, "event_name": name,
            "timestamp": str(int(time.time() * 1000)), **fields}


def message_event(name: str, user_id: str, *, msg_id: str | None = None,
                  **message: Any) -> dict[str, Any]:
    """A user_send_* event."""
    return _base(name, sender={"id": user_id}, recipient={"id": OA_ID},
                 user_id_by_app=f"app{user_id}",
                 message={"msg_id": msg_id or f"msg{next(_ids):06d}", **message})


def text_event(user_id: str, text: str, **kw: Any) -> dict[str, Any]:
    return message_event("user_send_text", user_id, text=text, **kw)


def image_event(user_id: str, url: str, **kw: Any) -> dict[str, Any]:
    return message_event("user_send_image", user_id, text="", attachments=[
        {"type": "image", "payload": {"url": url, "thumbnail": url}}], **kw)


def file_event(user_id: str, url: str, name: str, **kw: Any) -> dict[str, Any]:
    return message_event("user_send_file", user_id, attachments=[
        {"type": "file", "payload": {"url": url, "name": name, "size": "2048", "type": "pdf"}}],
        **kw)


def location_event(user_id: str, lat: float, lon: float, **kw: Any) -> dict[str, Any]:
    return message_event("user_send_location", user_id, attachments=[
        {"type": "location", "payload": {"coordinates": {"latitude": str(lat),
                                                         "longitude": str(lon)}}}], **kw)


def sticker_event(user_id: str, **kw: Any) -> dict[str, Any]:
    return message_event("user_send_sticker", user_id, attachments=[
        {"type": "sticker", "payload": {"id": "abc", "url": "https://zalo.me/s.png"}}], **kw)


def follow_event(user_id: str, name: str = "follow") -> dict[str, Any]:
    return _base(name, oa_id=OA_ID, follower={"id": user_id}, source="oa_profile",
                 user_id_by_app=f"app{user_id}")


def signed(event: dict[str, Any], secret_key: str = SECRET_KEY) -> tuple[bytes, str]:
    """The raw body and its X-ZEvent-Signature header value."""
    raw = json.dumps(event, ensure_ascii=False).encode()
    mac = hashlib.sha256(event["app_id"].encode() + raw + event["timestamp"].encode()
                         + secret_key.encode()).hexdigest()
    return raw, f"mac={mac}"
