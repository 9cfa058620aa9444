"""A fake Telegram Bot API on 127.0.0.1 (aiohttp) that records every call.

Serves `/bot<token>/<method>` and `/file/bot<token>/<path>` like api.telegram.org, so the
real python-telegram-bot talks to it through `TELEGRAM_API_URL`. Faults can be injected
(429 with retry_after, 403 for a blocked chat). Also builds update JSON for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.loopback import serve

BOT_ID = 1000
BOT_USERNAME = "civic_test_bot"
JSON_FIELDS = ("reply_markup", "allowed_updates", "commands", "chat_id", "message_id",
               "show_alert", "timeout", "offset", "limit")


@dataclass
class Call:
    """One recorded Bot API call."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.perf_counter)
    result: Any = None
    in_webhook_reply: bool = False  # made by answering a webhook request, not by a request

    @property
    def chat_id(self) -> int | None:
        """The chat the call addressed, if any."""
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def labels(self) -> list[str]:
        """Labels of the inline keyboard sent with the call."""
        markup = self.params.get("reply_markup") or {}
        return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]

    def payload(self, label: str) -> str:
        """The callback data of the button with this label."""
        markup = self.params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if button["text"] == label:
                    return button["callback_data"]
        raise AssertionError(f"no button {label!r} in {self.labels}")


class FakeTelegram:
    """The fake server: start it, point the bot at `url`, read `calls`."""

    def __init__(self, token: str = "123:TEST", record: bool = True) -> None:
        self.token = token
        self.record = record
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.blocked_chats: set[int] = set()
        self.faults: dict[str, list[tuple[int, str, int | None]]] = {}
        self.files: dict[str, bytes] = {}
        self.uploads: dict[str, bytes] = {}
        self.on_call: Callable[[Call], None] | None = None
        # A call for which `hold` says True is never answered nor recorded (a delivery that
        # never completes: the test kills the bot meanwhile); `held` counts them.
        self.hold: Callable[[str, dict[str, Any]], bool] | None = None
        self.held: list[Call] = []
        self._changed = asyncio.Event()
        self._message_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> FakeTelegram:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner, self.url = await serve(app)
        return self

    async def stop(self) -> None:
        """Close the server."""
        if self._runner is not None:
            await self._runner.cleanup()

    # --- test controls -------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates (long polling)."""
        self.updates.append(update)
        self._changed.set()

    def fail(self, method: str, code: int, description: str, *, retry_after: int | None = None,
             times: int = 1) -> None:
        """Answer the next `times` calls of `method` with an error."""
        self.faults.setdefault(method, []).extend([(code, description, retry_after)] * times)

    def of(self, method: str, chat_id: int | None = None) -> list[Call]:
        """Recorded calls of one method (to one chat)."""
        return [c for c in self.calls
                if c.method == method and (chat_id is None or c.chat_id == chat_id)]

    async def wait_for(self, method: str, count: int = 1, chat_id: int | None = None,
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

    def webhook_reply(self, body: bytes) -> Call | None:
        """What Telegram does with a webhook request's answer: a JSON object naming a
        `method` is performed as that call (the bot never sees its result)."""
        with contextlib.suppress(ValueError):
            params = json.loads(body or b"null")
            if isinstance(params, dict) and isinstance(params.get("method"), str):
                method = params.pop("method")
                call = Call(method, params, in_webhook_reply=True)
                call.result = self._result(method, params)
                if self.record:
                    self.calls.append(call)
                if self.on_call is not None:
                    self.on_call(call)
                return call
        return None

    # --- the Bot API ---------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    params[key] = value
                    continue
                content = value.file.read()
                self.uploads[value.filename] = content  # the bytes of files sent to chats
                params[key] = {"filename": value.filename, "size": len(content)}
        for key in JSON_FIELDS:
            if isinstance(params.get(key), str):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        if self.faults.get(method):
            code, description, retry_after = self.faults[method].pop(0)
            return _error(code, description, retry_after)
        if method == "getUpdates":
            return web.json_response({"ok": True, "result": await self._get_updates(params)})
        if self.hold is not None and self.hold(method, params):
            self.held.append(Call(method, params))
            await asyncio.Event().wait()  # until the bot goes away
        call = Call(method, params)
        if self.record:
            self.calls.append(call)
        if call.chat_id in self.blocked_chats:
            return _error(403, "Forbidden: bot was blocked by the user")
        call.result = self._result(method, params)
        if self.on_call is not None:
            self.on_call(call)
        return web.json_response({"ok": True, "result": call.result})

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), float(params.get("timeout") or 0))
            except TimeoutError:
                return []
        return self.updates[:100]

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "Civic",
                    "username": BOT_USERNAME, "can_join_groups": True,
                    "can_read_all_group_messages": False, "supports_inline_queries": False}
        if method == "getFile":
            file_id = params["file_id"]
            return {"file_id": file_id, "file_unique_id": f"u{file_id}",
                    "file_size": len(self.files.get(file_id, b"")),
                    "file_path": f"photos/{file_id}.jpg"}
        if method in ("sendMessage", "editMessageText", "sendPhoto", "sendDocument"):
            chat_id = int(params["chat_id"])
            message = {
                "message_id": int(params.get("message_id") or next(self._message_ids)),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Civic"},
            }
            if "text" in params:
                message["text"] = params["text"]
            if method == "sendPhoto":
                message["photo"] = [{"file_id": "sent-photo", "file_unique_id": "sp",
                                     "width": 10, "height": 10}]
            if method == "sendDocument":
                message["document"] = {"file_id": "sent-doc", "file_unique_id": "sd"}
            if isinstance(params.get("reply_markup"), dict):
                message["reply_markup"] = params["reply_markup"]
            return message
        return True

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        file_id = request.match_info["path"].rsplit("/", 1)[-1].removesuffix(".jpg")
        if file_id not in self.files:
            return _error(404, "Not Found")
        return web.Response(body=self.files[file_id])


def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=code)


# --- update JSON, as Telegram sends it ---------------------------------------------------

_ids = itertools.count(1)


def _user(user_id: int, language: str | None = "vi") -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
    if language:
        user["language_code"] = language
    return user


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
    return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}


def message_update(user_id: int, text: str | None = None, *, chat_id: int | None = None,
                   update_id: int | None = None, language: str | None = "vi",
                   **extra: Any) -> dict[str, Any]:
    """A message (text, or photo/contact/location/document given in `extra`)."""
    message: dict[str, Any] = {
        "message_id": next(_ids), "date": int(time.time()),
        "chat": _chat(chat_id or user_id), "from": _user(user_id, language), **extra,
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(text.split()[0])}]
    return {"update_id": update_id or next(_ids), "message": message}


def callback_update(user_id: int, data: str, *, message_id: int, chat_id: int | None = None,
                    update_id: int | None = None) -> dict[str, Any]:
    """A pressed inline button on the bot's message `message_id`."""
    return {"update_id": update_id or next(_ids), "callback_query": {
        "id": str(next(_ids)), "from": _user(user_id), "chat_instance": "ci", "data": data,
        "message": {"message_id": message_id, "date": int(time.time()),
                    "chat": _chat(chat_id or user_id),
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "Civic"},
                    "text": "…"},
    }}


def member_update(by_user: int, chat_id: int, old: str, new: str,
                  update_id: int | None = None) -> dict[str, Any]:
    """The bot's own membership in a chat changed (my_chat_member)."""
    bot = {"id": BOT_ID, "is_bot": True, "first_name": "Civic"}
    return {"update_id": update_id or next(_ids), "my_chat_member": {
        "chat": _chat(chat_id), "from": _user(by_user), "date": int(time.time()),
        "old_chat_member": _member(bot, old), "new_chat_member": _member(bot, new),
    }}


_ADMIN_RIGHTS = ("can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
                 "can_manage_video_chats", "can_restrict_members", "can_promote_members",
                 "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
                 "can_delete_stories")


def _member(user: dict[str, Any], status: str) -> dict[str, Any]:
    member: dict[str, Any] = {"user": user, "status": status}
    if status == "administrator":
        member |= dict.fromkeys(_ADMIN_RIGHTS, False)
    if status == "kicked":
        member["until_date"] = 0
    return member


def most_in_one_second(times: list[float]) -> int:
    """The largest number of moments (perf_counter seconds) within any one second: the
    busiest second of a run, to compare with a per-second send limit."""
    times, most, first = sorted(times), 0, 0
    for last, moment in enumerate(times):
        while times[first] <= moment - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most
