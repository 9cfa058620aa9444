"""Telegram edge: PTB Update -> Inbound, Reply -> Bot API calls. No business logic.

Photos and documents reach flows as `Attachment(kind, ref=file_id)`: the file stays on
Telegram's side and `TelegramChannel.fetch_file(ref)` downloads it when a feature needs the
bytes (a file_id is valid for this bot only, downloads are capped at 20 MB by Telegram).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

# Opt in to PTB's timedelta time periods now: the int form warns on every RetryAfter.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import (  # noqa: E402
    Bot,
    BotCommand,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    Update,
)
from telegram.constants import ChatAction, ChatType, MessageLimit  # noqa: E402
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter  # noqa: E402

from bot import messages  # noqa: E402
from bot.config import SUPPORTED_LOCALES  # noqa: E402
from bot.flows.menu import COMMAND_MENU  # noqa: E402
from bot.i18n import translations  # noqa: E402
from bot.messages import (  # noqa: E402
    Attachment,
    Button,
    Contact,
    Inbound,
    RecipientBlocked,
    Reply,
    parse_command,
)

log = logging.getLogger(__name__)
CHANNEL = "telegram"
TEXT_LIMIT = MessageLimit.MAX_TEXT_LENGTH  # 4,096 characters
CAPTION_LIMIT = MessageLimit.CAPTION_LENGTH  # 1,024 characters
CALLBACK_DATA_LIMIT = 64  # bytes
SHORT_LABEL = 3  # buttons this short ("1"…"5") share a row, up to ROW_OF_SHORT
ROW_OF_SHORT = 5
NETWORK_RETRIES = (0.5, 2.0, 5.0)  # seconds to wait before each retry of a failed call
T = TypeVar("T")


def to_inbound(update: Update) -> Inbound | None:
    """The neutral event of an update, or None for what the bot ignores.

    In groups only commands, button presses and the bot's own membership changes count;
    ordinary chatter is ignored.
    """
    if (query := update.callback_query) is not None:
        chat = query.message.chat if query.message else None
        return Inbound(
            CHANNEL, str(query.from_user.id), payload=query.data or "",
            language=_language(query.from_user.language_code),
            chat_id=None if chat is None or chat.type == ChatType.PRIVATE else str(chat.id),
        )
    if (member := update.my_chat_member) is not None:
        return _membership(member)
    message = update.message
    if message is None or message.from_user is None:
        return None
    private = message.chat.type == ChatType.PRIVATE
    text = message.text or message.caption or ""
    command, args = parse_command(text) if message.text else (None, text)
    if not private and command is None:
        return None
    contact = None
    if message.contact is not None:
        name = " ".join(p for p in (message.contact.first_name, message.contact.last_name) if p)
        contact = Contact(message.contact.phone_number, name or None)
    location = None
    if message.location is not None:
        location = (message.location.latitude, message.location.longitude)
    return Inbound(
        CHANNEL, str(message.from_user.id), text=text, command=command, args=args,
        location=location, contact=contact, attachments=attachments_of(message),
        language=_language(message.from_user.language_code),
        chat_id=None if private else str(message.chat.id),
    )


def attachments_of(message: Message) -> tuple[Attachment, ...]:
    """Photos (the largest size), documents and voice notes, by file_id."""
    found = []
    if message.photo:
        photo = message.photo[-1]
        found.append(Attachment("photo", photo.file_id, size=photo.file_size))
    if (doc := message.document) is not None:
        found.append(Attachment("document", doc.file_id, doc.file_name, doc.mime_type,
                                doc.file_size))
    if (voice := message.voice) is not None:
        found.append(Attachment("voice", voice.file_id, None, voice.mime_type, voice.file_size))
    return tuple(found)


def _membership(member: ChatMemberUpdated) -> Inbound | None:
    """The bot added to or removed from a group; None for anything else."""
    if member.chat.type == ChatType.PRIVATE:
        return None
    was_in = member.old_chat_member.status in ("member", "administrator", "creator",
                                               "restricted")
    is_in = member.new_chat_member.status in ("member", "administrator", "creator",
                                              "restricted")
    if was_in == is_in:
        return None
    return Inbound(CHANNEL, str(member.from_user.id), chat_id=str(member.chat.id),
                   event="added" if is_in else "removed")


def blocked_change(update: Update) -> bool | None:
    """True when a user blocked the bot in the private chat, False when they unblocked it."""
    member = update.my_chat_member
    if member is None or member.chat.type != ChatType.PRIVATE:
        return None
    return member.new_chat_member.status == "kicked"


def _language(code: str | None) -> str | None:
    """The user's app language when we support it ("vi-VN" -> "vi")."""
    short = (code or "").split("-")[0].lower()
    return short if short in SUPPORTED_LOCALES else None


def keyboard(buttons: Iterable[Button]) -> InlineKeyboardMarkup | None:
    """An inline keyboard: one button per row, very short labels side by side."""
    rows: list[list[InlineKeyboardButton]] = []
    for button in buttons:
        if len(button.payload.encode()) > CALLBACK_DATA_LIMIT:  # Telegram refuses the message
            log.warning("button payload over %s bytes: %r…", CALLBACK_DATA_LIMIT,
                        button.payload[:24])
        key = InlineKeyboardButton(button.label, callback_data=button.payload)
        short = len(button.label) <= SHORT_LABEL
        if short and rows and len(rows[-1]) < ROW_OF_SHORT and all(
            len(k.text) <= SHORT_LABEL for k in rows[-1]
        ):
            rows[-1].append(key)
        else:
            rows.append([key])
    return InlineKeyboardMarkup(rows) if rows else None


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
                      edit: MaybeInaccessibleMessage | None = None) -> None:
        """Send replies in order; the first one marked `edit` replaces `edit`'s message."""
        for reply in replies:
            if reply.edit and edit is not None and not reply.attachments:
                target, edit = edit, None
                if await self._edit(target, reply):
                    continue
            await self._send(chat_id, reply)

    async def _send(self, chat_id: int, reply: Reply) -> None:
        """Send one reply: its text (split when long, buttons on the last part), then files."""
        chunks = split_text(reply.text)
        if reply.text or not reply.attachments:
            for i, chunk in enumerate(chunks):
                markup = keyboard(reply.buttons) if i == len(chunks) - 1 else None
                await with_retries(lambda c=chunk, m=markup: self.bot.send_message(
                    chat_id, c, reply_markup=m))
        for attachment in reply.attachments:
            await self._send_file(chat_id, attachment)

    async def post_progress(self, chat_id: str, text: str, ref: str | None) -> str | None:
        """Send a progress line, or edit the one sent before (`ref` = its message id)."""
        if ref is not None:
            try:
                await with_retries(lambda: self.bot.edit_message_text(
                    text, chat_id=int(chat_id), message_id=int(ref)))
                return ref
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    return ref
                log.info("could not edit the progress message (%s); sending a new one", exc)
        message = await with_retries(lambda: self.bot.send_message(int(chat_id), text))
        return str(message.message_id)

    async def _edit(self, message: MaybeInaccessibleMessage, reply: Reply) -> bool:
        """Replace a message's text and keyboard; False when it cannot be edited."""
        if len(reply.text) > TEXT_LIMIT:
            return False
        try:
            await with_retries(lambda: self.bot.edit_message_text(
                reply.text, chat_id=message.chat.id, message_id=message.message_id,
                reply_markup=keyboard(reply.buttons)))
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return True
            log.info("could not edit a message (%s); sending a new one", exc)
            return False
        return True

    async def _send_file(self, chat_id: int, attachment: Attachment) -> None:
        """Send a photo or document by file_id, URL, or upload from the data folder."""
        source: Any = attachment.ref
        local = self.data_dir / attachment.ref if self.data_dir else None
        if local is not None and "/" in attachment.ref and local.is_file():
            source = local.read_bytes()
        caption = (attachment.name or "")[:CAPTION_LIMIT] or None
        if attachment.kind in ("photo", "image"):
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
            await self.bot.send_chat_action(chat_id, ChatAction.TYPING)
        except Exception as exc:  # a hint only: never fail the reply for it
            log.debug("typing indicator failed: %s", type(exc).__name__)

    async def set_commands(self) -> None:
        """The command menu next to the text field, in every supported language."""
        for locale in (None, *SUPPORTED_LOCALES):
            gettext = translations(locale or self.default_locale).gettext
            commands = [BotCommand(name, gettext(text)) for name, text in COMMAND_MENU]
            await with_retries(lambda c=commands, lc=locale: self.bot.set_my_commands(
                c, language_code=lc))
