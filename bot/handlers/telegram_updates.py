"""Bot API updates, as the JSON Telegram sends, read into neutral events.

The runtime works on the update's dict as received: building python-telegram-bot's
`Update` objects cost more per update than our whole database turn. Every accessor here
tolerates missing or mistyped fields (an update Telegram never sends must not crash us).
"""

from __future__ import annotations

from typing import Any

from bot.config import SUPPORTED_LOCALES
from bot.messages import Attachment, Contact, Inbound, parse_command
from bot.sanitize import clean_id

CHANNEL = "telegram"
MEMBER_STATUSES = ("member", "administrator", "creator", "restricted")
Update = dict[str, Any]


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _id(value: object) -> int | None:
    """An id Telegram could send: an integer of at most 53 bits (bot.sanitize.clean_id)."""
    return value if isinstance(value, int) and clean_id(value) is not None else None


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def message_of(update: Update) -> dict[str, Any]:
    """The update's new message ({} when it is something else)."""
    return _dict(update.get("message"))


def callback_of(update: Update) -> dict[str, Any]:
    """The update's button press ({} when it is something else)."""
    return _dict(update.get("callback_query"))


def chat_of(update: Update) -> dict[str, Any]:
    """The chat the update happened in ({} when there is none)."""
    if message := message_of(update):
        return _dict(message.get("chat"))
    if query := callback_of(update):
        return _dict(_dict(query.get("message")).get("chat"))
    return _dict(_dict(update.get("my_chat_member")).get("chat"))


def chat_id_of(update: Update) -> int | None:
    """The id of the update's chat."""
    return _id(chat_of(update).get("id"))


def sender_id_of(update: Update) -> int | None:
    """The id of the person behind the update."""
    for key in ("message", "callback_query", "my_chat_member"):
        if found := _dict(update.get(key)):
            return _id(_dict(found.get("from")).get("id"))
    return None


def pressed_message(update: Update) -> tuple[int, int] | None:
    """(chat id, message id) of the message whose button was pressed."""
    message = _dict(callback_of(update).get("message"))
    chat, message_id = _id(_dict(message.get("chat")).get("id")), _id(message.get("message_id"))
    return (chat, message_id) if chat is not None and message_id is not None else None


def private_press(update: Update) -> str | None:
    """The callback query id of a button pressed in a private chat (None otherwise)."""
    query = callback_of(update)
    chat = _dict(_dict(query.get("message")).get("chat"))
    query_id = query.get("id")
    return query_id if chat.get("type") == "private" and isinstance(query_id, str) else None


def migrated_to(update: Update) -> tuple[int, int] | None:
    """(old, new) chat id when a group became a supergroup."""
    message = message_of(update)
    old, new = _id(_dict(message.get("chat")).get("id")), _id(message.get("migrate_to_chat_id"))
    return (old, new) if old is not None and new is not None else None


def blocked_change(update: Update) -> bool | None:
    """True when a user blocked the bot in the private chat, False when they unblocked it."""
    member = _dict(update.get("my_chat_member"))
    if not member or _dict(member.get("chat")).get("type") != "private":
        return None
    return _dict(member.get("new_chat_member")).get("status") == "kicked"


def to_inbound(update: Update) -> Inbound | None:
    """The neutral event of an update, or None for what the bot ignores.

    In groups only commands, button presses, replies to a bot message (the words a staff
    prompt asked for) and the bot's own membership changes count; ordinary chatter is
    ignored.
    """
    if query := callback_of(update):
        sender = _dict(query.get("from"))
        if _id(sender.get("id")) is None:
            return None
        chat = _dict(_dict(query.get("message")).get("chat"))
        if chat and chat.get("type") != "private" and _id(chat.get("id")) is None:
            return None
        return Inbound(
            CHANNEL, str(sender["id"]), payload=_str(query.get("data")),
            language=_language(sender.get("language_code")),
            chat_id=None if not chat or chat.get("type") == "private" else str(chat.get("id")),
        )
    if member := _dict(update.get("my_chat_member")):
        return _membership(member)
    message = message_of(update)
    sender = _dict(message.get("from"))
    if _id(sender.get("id")) is None:
        return None
    chat = _dict(message.get("chat"))
    private = chat.get("type") == "private"
    if not private and _id(chat.get("id")) is None:
        return None
    typed = _str(message.get("text"))
    text = typed or _str(message.get("caption"))
    command, args = parse_command(text) if typed else (None, text)
    answered = _dict(_dict(message.get("reply_to_message")).get("from"))
    reply_to_bot = not private and command is None and answered.get("is_bot") is True
    if not private and command is None and not reply_to_bot:
        return None
    contact = None
    if shared := _dict(message.get("contact")):
        name = " ".join(_str(shared.get(k)) for k in ("first_name", "last_name")
                        if shared.get(k))
        contact = Contact(_str(shared.get("phone_number")), name or None)
    location = None
    if (place := _dict(message.get("location"))) and all(
        isinstance(place.get(k), int | float) for k in ("latitude", "longitude")
    ):
        location = (float(place["latitude"]), float(place["longitude"]))
    return Inbound(
        CHANNEL, str(sender["id"]), text=text, command=command, args=args,
        location=location, contact=contact, attachments=attachments_of(message),
        language=_language(sender.get("language_code")),
        chat_id=None if private else str(chat.get("id")), reply_to_bot=reply_to_bot,
        unread=unread_kind(message),
    )


UNREAD_KINDS = (("sticker", "sticker"), ("animation", "gif"), ("video", "video"),
                ("video_note", "video"), ("audio", "audio"))


def unread_kind(message: dict[str, Any]) -> str | None:
    """What a message holds that the bot cannot read (a sticker, a video…), if anything."""
    return next((kind for key, kind in UNREAD_KINDS if message.get(key)), None)


def attachments_of(message: dict[str, Any]) -> tuple[Attachment, ...]:
    """Photos (the largest size), documents and voice notes, by file_id."""
    found = []
    photos = [p for p in _list(message.get("photo"))
              if isinstance(p, dict) and _file_id(p.get("file_id"))]
    if photos:
        photo = photos[-1]
        found.append(Attachment("photo", photo["file_id"], size=_id(photo.get("file_size"))))
    if _file_id((doc := _dict(message.get("document"))).get("file_id")):
        found.append(Attachment("document", doc["file_id"], _str(doc.get("file_name")) or None,
                                _str(doc.get("mime_type")) or None, _id(doc.get("file_size"))))
    if _file_id((voice := _dict(message.get("voice"))).get("file_id")):
        found.append(Attachment("voice", voice["file_id"], None,
                                _str(voice.get("mime_type")) or None,
                                _id(voice.get("file_size"))))
    return tuple(found)


def _file_id(value: object) -> bool:
    """A Telegram file id: a short ASCII token."""
    return isinstance(value, str) and 0 < len(value) <= 256 and value.isascii()


def _membership(member: dict[str, Any]) -> Inbound | None:
    """The bot added to or removed from a group; None for anything else."""
    chat, sender = _dict(member.get("chat")), _dict(member.get("from"))
    if (chat.get("type") in (None, "private") or _id(sender.get("id")) is None
            or _id(chat.get("id")) is None):
        return None
    was_in = _dict(member.get("old_chat_member")).get("status") in MEMBER_STATUSES
    is_in = _dict(member.get("new_chat_member")).get("status") in MEMBER_STATUSES
    if was_in == is_in:
        return None
    return Inbound(CHANNEL, str(sender["id"]), chat_id=str(chat.get("id")),
                   event="added" if is_in else "removed")


def _language(code: object) -> str | None:
    """The user's app language when we support it ("vi-VN" -> "vi")."""
    short = _str(code).split("-")[0].lower()
    return short if short in SUPPORTED_LOCALES else None
