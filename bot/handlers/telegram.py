"""Telegram edge, outgoing: Reply -> Bot API calls. No business logic.

Texts, edits and callback answers go out as raw Bot API calls through PTB's bot (its
aiohttp transport and rate limiter stay in the path) without building PTB objects for the
request or the answer: that object building cost more than the rest of a turn. Incoming
updates are read in telegram_updates.

Photos and documents reach flows as `Attachment(kind, ref=file_id)`: the file stays on
Telegram's side and `TelegramChannel.fetch_file(ref)` downloads it when a feature needs the
bytes (a file_id is valid for this bot only, downloads are capped at 20 MB by Telegram).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

# Opt in to PTB's timedelta time periods now: the int form warns on every RetryAfter.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import Bot, BotCommand  # noqa: E402
from telegram.constants import ChatAction, MessageLimit  # noqa: E402
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter  # noqa: E402
from telegram.request import RequestData  # noqa: E402

from bot import messages  # noqa: E402
from bot.config import SUPPORTED_LOCALES  # noqa: E402
from bot.flows.menu import COMMAND_MENU  # noqa: E402
from bot.handlers.telegram_updates import CHANNEL  # noqa: E402
from bot.i18n import translations  # noqa: E402
from bot.messages import Attachment, Button, RecipientBlocked, Reply  # noqa: E402

log = logging.getLogger(__name__)
TEXT_LIMIT = MessageLimit.MAX_TEXT_LENGTH  # 4,096 characters
CAPTION_LIMIT = MessageLimit.CAPTION_LENGTH  # 1,024 characters
CALLBACK_DATA_LIMIT = 64  # bytes
MEDIA_GROUP_LIMIT = 10  # photos in one album
SHORT_LABEL = 3  # buttons this short ("1"…"5") share a row, up to ROW_OF_SHORT
ROW_OF_SHORT = 5
NETWORK_RETRIES = (0.5, 2.0, 5.0)  # seconds to wait before each retry of a failed call
T = TypeVar("T")


def keyboard(buttons: Iterable[Button]) -> dict[str, Any] | None:
    """An inline keyboard: one button per row, very short labels side by side."""
    rows: list[list[dict[str, str]]] = []
    for button in buttons:
        if len(button.payload.encode()) > CALLBACK_DATA_LIMIT:  # Telegram refuses the message
            log.warning("button payload over %s bytes: %r…", CALLBACK_DATA_LIMIT,
                        button.payload[:24])
        key = {"text": button.label, "callback_data": button.payload}
        short = len(button.label) <= SHORT_LABEL
        if short and rows and len(rows[-1]) < ROW_OF_SHORT and all(
            len(k["text"]) <= SHORT_LABEL for k in rows[-1]
        ):
            rows[-1].append(key)
        else:
            rows.append([key])
    return {"inline_keyboard": rows} if rows else None


def request_keyboard(reply: Reply) -> dict[str, Any]:
    """A reply keyboard under the text field: the share-location / share-phone buttons first,
    then the reply's choices as plain keys (a pressed key sends its label, which the engine
    takes as that choice). It folds away once used."""
    rows: list[list[dict[str, Any]]] = [
        [{"text": r.label, f"request_{r.kind}": True}] for r in reply.requests]
    rows += [[{"text": b.label}] for b in reply.buttons]
    return {"keyboard": rows, "resize_keyboard": True, "one_time_keyboard": True}


def markup_of(reply: Reply) -> dict[str, Any] | None:
    """The reply's keyboard: a request keyboard when it asks for a location or a phone,
    else inline buttons (or none)."""
    return request_keyboard(reply) if reply.requests else keyboard(reply.buttons)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Telegram's pieces of a long text (at least one, maybe empty, message)."""
    return messages.split_text(text, limit) or [""]


def _retry_seconds(exc: RetryAfter) -> float:
    """How long Telegram asked us to wait."""
    value = getattr(exc, "_retry_after", None)  # the timedelta behind the deprecated int
    return value.total_seconds() if value is not None else 1.0


async def with_retries(call: Callable[[], Awaitable[T]]) -> T:
    """Run a Bot API call: wait out flood control, retry network errors with backoff.

    Forbidden (the person blocked the bot, or the bot left the group) becomes
    RecipientBlocked; a bad request is not retried.
    """
    for attempt, pause in enumerate((*NETWORK_RETRIES, None)):
        try:
            return await call()
        except Forbidden as exc:
            raise RecipientBlocked(str(exc)) from exc
        except BadRequest:
            raise
        except RetryAfter as exc:
            if pause is None:
                raise
            await asyncio.sleep(_retry_seconds(exc))
        except NetworkError as exc:
            if pause is None:
                raise
            log.warning("telegram call failed (%s), retry %s in %.1f s", type(exc).__name__,
                        attempt + 1, pause)
            await asyncio.sleep(pause)
    raise AssertionError("unreachable")


class JsonBody(RequestData):
    """A request body encoded once as JSON (PTB's RequestData encodes each parameter, then
    the whole again, through an object per parameter)."""

    def __init__(self, params: dict[str, Any]) -> None:
        super().__init__()
        self._body = json.dumps(params, ensure_ascii=False).encode()

    @property
    def json_payload(self) -> bytes:
        """The parameters as UTF-8 JSON."""
        return self._body

    @property
    def multipart_data(self) -> dict:
        """No files."""
        return {}


async def api(bot: Bot, method: str, params: dict[str, Any]) -> Any:
    """One Bot API call (no files), its JSON result as is: through the bot's transport,
    its rate limiter if any, and PTB's mapping of errors to exceptions; no PTB objects are
    built for the request or the answer."""
    url = f"{bot.base_url}/{method}"
    body = JsonBody(params)
    limiter = getattr(bot, "rate_limiter", None)
    if limiter is None:
        return await bot.request.post(url, request_data=body)
    return await limiter.process_request(
        callback=bot.request.post, args=(url,), kwargs={"request_data": body},
        endpoint=method, data=params, rate_limit_args=None)


class TelegramChannel:
    """Sends replies through the Bot API; implements the dispatcher's Channel contract."""

    name = CHANNEL

    def __init__(self, bot: Bot, data_dir: Path | None = None,
                 default_locale: str = "vi") -> None:
        self.bot = bot
        self.data_dir = data_dir
        self.default_locale = default_locale

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Deliver one reply to a chat (raises RecipientBlocked when it is unreachable)."""
        await self.deliver(int(chat_id), [reply])

    async def deliver(self, chat_id: int, replies: Iterable[Reply],
                      edit: tuple[int, int] | None = None) -> None:
        """Send replies in order; the first one marked `edit` replaces the message `edit`
        ((chat id, message id))."""
        for reply in replies:
            if reply.edit and edit is not None and not reply.attachments and not reply.requests:
                target, edit = edit, None
                if await self._edit(target, reply):
                    continue
            await self._send(chat_id, reply)

    async def _send(self, chat_id: int, reply: Reply) -> None:
        """Send one reply: its text (split when long, buttons on the last part, or a reply
        prompt), then files: photos by file id or URL as one album, a location as a map."""
        chunks = split_text(reply.text)
        if reply.text or not reply.attachments:
            for i, chunk in enumerate(chunks):
                params: dict[str, Any] = {"chat_id": chat_id, "text": chunk}
                if i == len(chunks) - 1 and (markup := markup_of(reply)):
                    params["reply_markup"] = markup
                elif i == len(chunks) - 1 and reply.wants_reply:
                    params["reply_markup"] = {"force_reply": True}
                await with_retries(lambda p=params: api(self.bot, "sendMessage", p))
        album = [a for a in reply.attachments if a.kind in ("photo", "image")
                 and not self._local(a)]
        if len(album) > 1:
            await with_retries(lambda: api(self.bot, "sendMediaGroup", {
                "chat_id": chat_id, "media": [
                    {"type": "photo", "media": a.ref} | (
                        {"caption": a.name[:CAPTION_LIMIT]} if a.name else {})
                    for a in album[:MEDIA_GROUP_LIMIT]]}))
            album = album[:MEDIA_GROUP_LIMIT]
        for attachment in reply.attachments:
            if attachment not in album or len(album) < 2:
                await self._send_file(chat_id, attachment)

    def _local(self, attachment: Attachment) -> Path | None:
        """The file of the data folder an attachment refers to, if it is one."""
        local = self.data_dir / attachment.ref if self.data_dir else None
        return local if local is not None and "/" in attachment.ref and local.is_file() else None

    async def answer_button(self, query_id: str, alert: str | None = None) -> None:
        """Answer a button press: stops the button's spinner, or shows `alert` in a box."""
        params: dict[str, Any] = {"callback_query_id": query_id}
        if alert:
            params |= {"text": alert[:200], "show_alert": True}
        await api(self.bot, "answerCallbackQuery", params)

    async def post_progress(self, chat_id: str, text: str, ref: str | None) -> str | None:
        """Send a progress line, or edit the one sent before (`ref` = its message id)."""
        if ref is not None:
            try:
                await with_retries(lambda: api(self.bot, "editMessageText", {
                    "chat_id": int(chat_id), "message_id": int(ref), "text": text}))
                return ref
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    return ref
                log.info("could not edit the progress message (%s); sending a new one", exc)
        message = await with_retries(lambda: api(self.bot, "sendMessage", {
            "chat_id": int(chat_id), "text": text}))
        return str(message["message_id"])

    async def _edit(self, target: tuple[int, int], reply: Reply) -> bool:
        """Replace a message's text and keyboard; False when it cannot be edited."""
        if len(reply.text) > TEXT_LIMIT:
            return False
        chat_id, message_id = target
        params: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id,
                                  "text": reply.text}
        if markup := keyboard(reply.buttons):
            params["reply_markup"] = markup
        try:
            await with_retries(lambda: api(self.bot, "editMessageText", params))
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return True
            log.info("could not edit a message (%s); sending a new one", exc)
            return False
        return True

    async def _send_file(self, chat_id: int, attachment: Attachment) -> None:
        """Send a photo, voice note or document by file_id, URL, or upload from the data
        folder; a location as a map location message."""
        if (place := messages.location_of(attachment)) is not None:
            await with_retries(lambda: api(self.bot, "sendLocation", {
                "chat_id": chat_id, "latitude": place[0], "longitude": place[1]}))
            return
        source: Any = attachment.ref
        if (local := self._local(attachment)) is not None:
            source = local.read_bytes()
        caption = (attachment.name or "")[:CAPTION_LIMIT] or None
        if attachment.kind == "voice" and isinstance(source, str):
            await with_retries(lambda: api(self.bot, "sendVoice", {
                "chat_id": chat_id, "voice": source}))
        elif attachment.kind in ("photo", "image"):
            await with_retries(lambda: self.bot.send_photo(chat_id, source, caption=caption))
        else:
            await with_retries(lambda: self.bot.send_document(
                chat_id, source, caption=caption, filename=attachment.name))

    async def fetch_file(self, ref: str) -> bytes:
        """The bytes of a file a user sent (getFile, then download)."""
        file = await with_retries(lambda: self.bot.get_file(ref))
        return bytes(await with_retries(file.download_as_bytearray))

    async def typing(self, chat_id: int) -> None:
        """Show "typing…" in the chat (best effort)."""
        try:
            await api(self.bot, "sendChatAction", {"chat_id": chat_id,
                                                   "action": ChatAction.TYPING.value})
        except Exception as exc:  # a hint only: never fail the reply for it
            log.debug("typing indicator failed: %s", type(exc).__name__)

    async def set_commands(self) -> None:
        """The command menu next to the text field, in every supported language."""
        for locale in (None, *SUPPORTED_LOCALES):
            gettext = translations(locale or self.default_locale).gettext
            commands = [BotCommand(name, gettext(text)) for name, text in COMMAND_MENU]
            await with_retries(lambda c=commands, lc=locale: self.bot.set_my_commands(
                c, language_code=lc))
