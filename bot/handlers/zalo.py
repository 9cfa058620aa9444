"""Zalo Bot Platform edge: event -> Inbound, Reply -> sendMessage/sendPhoto. No business logic.

Zalo has no buttons: choices are numbered lines ("1. Đồng ý") and the engine matches the
typed number or label. Texts are cut at 2,000 characters on paragraph breaks. Photos and
voice messages a user sends arrive as URLs and reach flows as `Attachment(kind, ref=URL)`.
Photos go out by URL only: a URL reference as is, a file of the data folder through a
link on our HTTP server when PUBLIC_BASE_URL is set (bot.handlers.media_links: no server
path in it, expires after 7 days), else its name as text.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aiohttp import web

from bot import messages
from bot.handlers import media_links
from bot.handlers.zalo_client import ZaloClient, ZaloError
from bot.messages import Attachment, Inbound, RecipientBlocked, Reply, parse_command
from bot.sanitize import clean_id
from bot.services import choices, groups, relays
from storage import clock
from storage.db import Database
from storage.models import GroupLink

log = logging.getLogger(__name__)
CHANNEL = "zalo"
TEXT_LIMIT = 2000  # characters, for texts and captions
MEDIA_PATH = "/media/zalo"
TEXT, IMAGE, STICKER, VOICE, UNSUPPORTED = (
    "message.text.received", "message.image.received", "message.sticker.received",
    "message.voice.received", "message.unsupported.received",
)
EVENT_ID_LENGTH = 64  # inbound_events.event_id
BLOCKED_CODES = {403}  # Zalo does not document a "blocked" code; 403 is the likely one


def unwrap(body: Any) -> dict[str, Any] | None:
    """The event of a webhook body or getUpdates result: wrapped in {ok, result} or flat."""
    if isinstance(body, dict) and isinstance(body.get("result"), dict):
        body = body["result"]
    if (isinstance(body, dict) and isinstance(body.get("event_name"), str)
            and isinstance(body.get("message"), dict)):
        return body
    return None


def event_id(event: dict[str, Any]) -> str:
    """The idempotency key of an event: its name and the message id.

    "message.text.received" + "82599f…" gives "text:82599f…" (the column holds 64
    characters); an event without a message id, or with a very long one, is keyed by a
    hash of its content.
    """
    name = event["event_name"].removeprefix("message.").removesuffix(".received")[:20]
    message = event["message"]
    key = clean_id(message.get("message_id") or message.get("msg_id")) or ""
    if not key or len(name) + 1 + len(key) > EVENT_ID_LENGTH:
        content = json.dumps(event, sort_keys=True, ensure_ascii=False).encode()
        key = "sha256-" + hashlib.sha256(content).hexdigest()[:32]
    return f"{name}:{key}"


def chat_of(event: dict[str, Any]) -> tuple[str, bool]:
    """The chat id an event came from, and whether it is a group chat."""
    message = event["message"]
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    chat_id = clean_id(chat.get("id") or sender.get("id")) or ""
    return chat_id, str(chat.get("chat_type", "PRIVATE")).upper() == "GROUP"


def sender_of(event: dict[str, Any]) -> str:
    """The id of the person who sent the event ("" when there is none)."""
    sender = event["message"].get("from")
    return (clean_id(sender.get("id")) or "") if isinstance(sender, dict) else ""


def to_inbound(event: dict[str, Any], *, groups: bool = False) -> Inbound | None:
    """The neutral event, or None for what the bot ignores.

    Stickers and content Zalo withholds become a message with nothing to read but its
    kind (`unread`), which the engine answers; unless `groups`, group chats give None. In
    groups, where Zalo delivers only messages that mention or answer the bot, only commands
    count.
    """
    name, message = event["event_name"], event["message"]
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    if sender.get("is_bot"):
        return None
    user_id = clean_id(sender.get("id")) or ""
    chat_id, group = chat_of(event)
    if not user_id or (group and not groups):
        return None
    unread = {STICKER: "sticker", UNSUPPORTED: "unsupported"}.get(name)
    text = "" if unread else str(message.get("text") or message.get("caption") or "")
    if group:
        text = _without_mention(text)
    command, args = parse_command(text) if name == TEXT else (None, "")
    if group and command is None:
        return None
    attachments: tuple[Attachment, ...] = ()
    if name == IMAGE and (url := _url(message.get("photo_url") or message.get("photo"))):
        attachments = (Attachment("photo", url),)
    elif name == VOICE and (url := _url(message.get("voice_url") or message.get("url"))):
        attachments = (Attachment("voice", url),)
    return Inbound(CHANNEL, user_id, text=text, command=command, args=args,
                   attachments=attachments, chat_id=chat_id if group else None, unread=unread)


def _url(value: object) -> str | None:
    """A web address Zalo sent for a file; None for anything that is not one."""
    if isinstance(value, str) and value.startswith(("https://", "http://")) and len(value) < 2048:
        return value
    return None


def _without_mention(text: str) -> str:
    """Drop a leading "@Bot name" mention so "@Bot /link khu-1" reads as the command."""
    stripped = text.strip()
    if stripped.startswith("@") and "/" in stripped:
        return stripped[stripped.index("/"):]
    return stripped


def render(reply: Reply) -> str:
    """The text with its buttons as numbered lines below it (a list naming them is
    numbered in place: printed once)."""
    text, rest = messages.listed_once(reply)
    first = len(reply.buttons) - len(rest) + 1
    lines = [f"{i}. {button.label}" for i, button in enumerate(rest, first)]
    return "\n\n".join(p for p in (text.strip(), "\n".join(lines)) if p)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Zalo's pieces of a long text (none for a blank one)."""
    return messages.split_text(text, limit)


class ZaloChannel:
    """Sends replies through the Bot API; implements the dispatcher's Channel contract.

    With a database, `send` (the outbox's path) also does what numbered choices need:
    the buttons of a notice become the person's offered choices, so typing "1" presses
    it (unless the person is mid-flow: bot.services.choices); and a notice for a linked
    hamlet group goes to the hamlet heads to relay unless `groups` is on and the group send
    works.
    """

    name = CHANNEL

    def __init__(self, client: ZaloClient, *, data_dir: Path | None = None,
                 public_base_url: str | None = None, media_key: bytes = b"",
                 db: Database | None = None, groups: bool = False,
                 default_locale: str = "vi") -> None:
        self.client = client
        self.data_dir = data_dir
        self.public_base_url = (public_base_url or "").rstrip("/") or None
        self.media_key = media_key
        self.db, self.groups, self.default_locale = db, groups, default_locale

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Deliver one outbox message to a chat (raises RecipientBlocked when unreachable)."""
        if self.db is None:
            await self.deliver(chat_id, [reply])
            return
        async with self.db.session() as session:
            link = await groups.get(session, CHANNEL, chat_id)
        if link is not None and link.kind == groups.HAMLET:
            await self._to_hamlet_group(link, reply)
            return
        offer = False
        if reply.buttons and link is None:
            reply, offer = await choices.for_numbered_channel(self.db, CHANNEL, chat_id, reply,
                                                              self.default_locale)
        await self.deliver(chat_id, [reply])
        if offer:
            await choices.offer(self.db, CHANNEL, chat_id, reply.buttons)

    async def _to_hamlet_group(self, link: GroupLink, reply: Reply) -> None:
        """Post into the group when groups are on; otherwise, or when that fails, hand the
        notice to the hamlet heads (raises relays.NoHamletHead when there is none)."""
        if self.groups:
            try:
                await self.deliver(link.chat_id, [Reply(reply.text,
                                                        attachments=reply.attachments)])
                return
            except (ZaloError, RecipientBlocked) as exc:
                log.warning("zalo: hamlet group send failed (%s); the hamlet head relays it",
                            type(exc).__name__)
        async with self.db.unit_of_work() as session:  # type: ignore[union-attr]
            await relays.hand_to_heads(session, link, reply, self.default_locale)
            await session.commit()

    async def deliver(self, chat_id: str, replies: Iterable[Reply]) -> None:
        """Send replies in order; `edit` is ignored (Zalo cannot edit: a new message)."""
        try:
            for reply in replies:
                await self._send(chat_id, reply)
        except ZaloError as exc:
            if exc.code in BLOCKED_CODES:
                raise RecipientBlocked(exc.description) from exc
            raise

    async def _send(self, chat_id: str, reply: Reply) -> None:
        """The text (split when long, with the numbered choices), then the files."""
        links = []
        photos = []
        for attachment in reply.attachments:
            if (pin := messages.map_link(attachment)) is not None:
                links.append(f"📍 {pin}")
                continue
            url = self.url_of(attachment)
            if attachment.kind in ("photo", "image") and url:
                photos.append((url, attachment.name))
            else:
                links.append(f"📎 {attachment.name or attachment.kind}" +
                             (f": {url}" if url else ""))
        text = "\n".join(p for p in (render(reply), *links) if p)
        for chunk in split_text(text) if text else ():
            await self.client.send_message(chat_id, chunk)
        for url, caption in photos:
            await self.client.send_photo(chat_id, url, (caption or "")[:TEXT_LIMIT] or None)

    def url_of(self, attachment: Attachment) -> str | None:
        """A public URL for an attachment, if it has or can have one."""
        ref = attachment.ref
        if ref.startswith(("https://", "http://")):
            return ref
        if self.public_base_url is None or self.data_dir is None or "/" not in ref:
            return None
        if not _inside(self.data_dir, ref):
            return None
        base = self.data_dir.resolve()
        relative = (base / ref).resolve().relative_to(base)
        token = media_links.make(self.media_key, relative.as_posix(), clock.now())
        return f"{self.public_base_url}{MEDIA_PATH}/{token}{relative.suffix[:10]}"

    async def typing(self, chat_id: str) -> None:
        """Show "typing…" in the chat (best effort)."""
        try:
            await self.client.send_chat_action(chat_id)
        except Exception as exc:  # a hint only: never fail the reply for it
            log.debug("typing indicator failed: %s", type(exc).__name__)

    def media_routes(self) -> list[web.RouteDef]:
        """GET routes serving data-folder files by signed URL (PUBLIC_BASE_URL set only)."""
        if self.public_base_url is None or self.data_dir is None:
            return []
        return [web.get(MEDIA_PATH + "/{token}", self._serve_media)]

    async def _serve_media(self, request: web.Request) -> web.StreamResponse:
        """Serve the file of a valid, unexpired link; 404 otherwise."""
        token = request.match_info["token"].partition(".")[0]  # the extension is decoration
        path = media_links.read(self.media_key, token, clock.now())
        if self.data_dir is None or path is None or not _inside(self.data_dir, path):
            raise web.HTTPNotFound()
        return web.FileResponse(self.data_dir / path)


def _inside(folder: Path, relative: str) -> bool:
    """True when `relative` names an existing file inside `folder` (no escaping with ..)."""
    base = folder.resolve()
    target = (base / relative).resolve()
    return target.is_relative_to(base) and target.is_file()
