"""Zalo Official Account edge: webhook event -> Inbound, Reply -> consultation messages.

Choices go out as up to 5 `oa.query.hide` buttons whose query is "#civic:" + the payload;
a tap comes back as a text message and becomes `Inbound.payload` again. More than 5
choices become numbered lines, and the engine matches the typed number or label.
Consultation messages may go out only within CONSULTATION_WINDOW of the user's last
interaction; a notice outside it raises OutsideWindow (the outbox records it, no retry).
No wording here: only markup.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot import messages
from bot.handlers.zalo import render as numbered
from bot.handlers.zalo import split_text
from bot.handlers.zalo_oa_client import OUTSIDE_WINDOW, ZaloOAClient, ZaloOAError
from bot.messages import (
    ZALO_OA_BUTTONS,
    Attachment,
    Inbound,
    Reply,
    Undeliverable,
    parse_command,
)
from bot.sanitize import clean_id
from bot.services import choices
from storage import clock
from storage.db import Database
from storage.models import ZaloOAFollower

log = logging.getLogger(__name__)
CHANNEL = "zalo_oa"
MAX_BUTTONS = ZALO_OA_BUTTONS  # more choices become numbered lines
BUTTON_TITLE_LIMIT = 100
PAYLOAD_PREFIX = "#civic:"  # the query text of our buttons; query payloads hold ≤1000 chars
TAG_SEPARATOR = "|"  # then a tag: text typed beginning with the prefix is no button
# Zalo OA: consultation messages are allowed up to 7 days after the user's last
# interaction (the first 8 within 48 h are free); after that only paid template or
# promotion messages (reference/zalo.md §2).
CONSULTATION_WINDOW = timedelta(days=7)
OUTSIDE_WINDOW_REASON = "not deliverable on Zalo OA (outside window)"
TEXT, IMAGE, FILE, LOCATION, STICKER, GIF, AUDIO = (
    "user_send_text", "user_send_image", "user_send_file", "user_send_location",
    "user_send_sticker", "user_send_gif", "user_send_audio",
)
FOLLOW, UNFOLLOW = "follow", "unfollow"
MESSAGE_EVENTS = {TEXT, IMAGE, FILE, LOCATION, STICKER, GIF, AUDIO}
EVENT_ID_LENGTH = 64


class OutsideWindow(Undeliverable):
    """The user's last interaction is older than the consultation window."""

    def __init__(self) -> None:
        super().__init__(OUTSIDE_WINDOW_REASON)


def user_of(event: dict[str, Any]) -> str:
    """The Zalo user id the event is about (the sender, or the follower); "" for none or
    one that is no plausible id."""
    for key in ("sender", "follower"):
        if isinstance(event.get(key), dict) and event[key].get("id"):
            return clean_id(event[key]["id"]) or ""
    return ""


def msg_id_of(event: dict[str, Any]) -> str | None:
    """The id of the user's message, which our answer quotes (None when it is no id)."""
    message = event.get("message")
    return clean_id(message.get("msg_id")) if isinstance(message, dict) else None


def button_payload(payload: str, key: bytes = b"") -> str:
    """The query of one of our buttons: the prefix, the payload and a short tag that tells a
    tap from text a person typed beginning with the prefix."""
    payload = payload[:980]
    return f"{PAYLOAD_PREFIX}{payload}{TAG_SEPARATOR}{_tag(payload, key)}"


def pressed_payload(text: str, key: bytes = b"") -> str | None:
    """The payload of a tap on one of our buttons; None for anything typed."""
    if not text.startswith(PAYLOAD_PREFIX):
        return None
    payload, _, tag = text.removeprefix(PAYLOAD_PREFIX).rpartition(TAG_SEPARATOR)
    return payload if payload and hmac.compare_digest(tag, _tag(payload, key)) else None


def _tag(payload: str, key: bytes) -> str:
    return hmac.new(key, payload.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:8]


def event_time(event: dict[str, Any]) -> datetime | None:
    """When the event happened (its `timestamp`, milliseconds as text)."""
    try:
        return datetime.fromtimestamp(int(event["timestamp"]) / 1000, UTC)
    except (KeyError, TypeError, ValueError, OverflowError):
        return None


def event_id(event: dict[str, Any]) -> str:
    """The idempotency key: "text:<msg_id>", or for follow events the user and time."""
    name = event.get("event_name")
    name = (name if isinstance(name, str) else "other").removeprefix("user_send_")[:20]
    key = msg_id_of(event) or f"{user_of(event)}:{event.get('timestamp', '')}"
    if len(name) + 1 + len(key) > EVENT_ID_LENGTH:
        content = json.dumps(event, sort_keys=True, ensure_ascii=False).encode()
        key = "sha256-" + hashlib.sha256(content).hexdigest()[:32]
    return f"{name}:{key}"


def to_inbound(event: dict[str, Any], key: bytes = b"") -> Inbound | None:
    """The neutral message of a user_send_* event; None for anything else.

    A tap on one of our buttons ("#civic:PAYLOAD|tag") becomes the payload; stickers and
    GIFs become a message with nothing to read but its kind (`unread`).
    """
    name, user_id = event.get("event_name"), user_of(event)
    if not isinstance(name, str) or name not in MESSAGE_EVENTS or not user_id:
        return None
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    text = message.get("text") if isinstance(message.get("text"), str) else ""
    text = "" if name in (STICKER, GIF) else text
    if name == TEXT and (pressed := pressed_payload(text, key)) is not None:
        return Inbound(CHANNEL, user_id, payload=pressed)
    command, args = parse_command(text) if name == TEXT else (None, "")
    payload = _first_payload(message)
    location = None
    attachments: tuple[Attachment, ...] = ()
    url = payload.get("url") if isinstance(payload.get("url"), str) else ""
    if name == IMAGE and url:
        attachments = (Attachment("photo", url),)
    elif name == FILE and url:
        name_given = payload.get("name")
        attachments = (Attachment("document", url,
                                  name_given if isinstance(name_given, str) else None,
                                  size=_int(payload.get("size"))),)
    elif name == AUDIO and url:
        attachments = (Attachment("voice", url),)
    elif name == LOCATION:
        coordinates = payload.get("coordinates")
        coordinates = coordinates if isinstance(coordinates, dict) else {}
        try:
            location = (float(coordinates["latitude"]), float(coordinates["longitude"]))
        except (KeyError, TypeError, ValueError):
            location = None
        if location is not None and not all(map(math.isfinite, location)):
            location = None
    return Inbound(CHANNEL, user_id, text=text, command=command, args=args,
                   location=location, attachments=attachments,
                   unread={STICKER: "sticker", GIF: "gif"}.get(name))


def _first_payload(message: dict[str, Any]) -> dict[str, Any]:
    attachments = message.get("attachments")
    if isinstance(attachments, list) and attachments and isinstance(attachments[0], dict):
        payload = attachments[0].get("payload")
        return payload if isinstance(payload, dict) else {}
    return {}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def links(attachments: Iterable[Attachment]) -> list[str]:
    """Files as text lines: their URL when they have one, else their name."""
    return [f"📍 {messages.map_link(a)}" if a.kind == "location" else
            f"📎 {a.name or a.kind}" + (f": {a.ref}" if a.ref.startswith(("https://", "http://"))
                                       else "") for a in attachments]


def render(reply: Reply, key: bytes = b"") -> list[dict[str, Any]]:
    """The `message` objects of one reply: text cut at 2,000 characters, buttons on the last.

    Up to 5 choices are `oa.query.hide` buttons; more become numbered lines. Files go as
    links (the OA upload API is not used).
    """
    buttons = reply.buttons if len(reply.buttons) <= MAX_BUTTONS else ()
    text = reply.text.strip() if buttons else numbered(reply)
    text = "\n".join(p for p in (text, *links(reply.attachments)) if p)
    messages: list[dict[str, Any]] = [{"text": c} for c in split_text(text)] if text else []
    if buttons:
        if not messages:
            messages = [{"text": "…"}]
        messages[-1]["attachment"] = {"type": "template", "payload": {"buttons": [
            {"title": b.label[:BUTTON_TITLE_LIMIT], "type": "oa.query.hide",
             "payload": button_payload(b.payload, key)} for b in buttons]}}
    return messages


class ZaloOAChannel:
    """Sends through the OA API; implements the dispatcher's Channel contract."""

    name = CHANNEL

    def __init__(self, client: ZaloOAClient, db: Database, button_key: bytes = b"") -> None:
        self.client, self.db, self.button_key = client, db, button_key

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Deliver one outbox message; raises OutsideWindow outside the consultation window."""
        if not await self.in_window(chat_id):
            raise OutsideWindow()
        reply, offer = await choices.for_numbered_channel(self.db, CHANNEL, chat_id, reply)
        await self.deliver(chat_id, [reply])
        if offer:
            await choices.offer(self.db, CHANNEL, chat_id, reply.buttons)

    async def deliver(self, user_id: str, replies: Iterable[Reply],
                      quote: str | None = None) -> None:
        """Send replies in order, quoting the user's message `quote` when answering it."""
        recipient = {"message_id": quote} if quote else {"user_id": user_id}
        try:
            for reply in replies:
                for message in render(reply, self.button_key):
                    await self.client.send_cs(recipient, message)
        except ZaloOAError as exc:
            if exc.code in OUTSIDE_WINDOW:
                raise OutsideWindow() from exc
            raise

    async def in_window(self, user_id: str) -> bool:
        """Whether a consultation message may go to this user now."""
        async with self.db.session() as session:
            follower = await session.get(ZaloOAFollower, user_id)
        last = follower.last_interaction_at if follower else None
        return last is not None and clock.now() - last <= CONSULTATION_WINDOW
