"""Channel-neutral message types. Nothing here imports telegram or aiohttp.

Adapters turn a native event into an `Inbound` and render each `Reply` the way their
channel can: real buttons where it has them, numbered lines where it does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Button:
    """A choice offered to the user: the label they see and the payload we get back."""

    label: str
    payload: str


@dataclass(frozen=True)
class Request:
    """A button only the person's own app can answer: share the current location ("location")
    or the phone number ("contact"). Telegram shows it under the text field; other channels
    cannot, so flows say in words what to do there (see `numbered_choices`)."""

    kind: str  # "location" | "contact"
    label: str


LOCATION, CONTACT = "location", "contact"
REQUEST_CHANNELS = frozenset({"telegram"})  # where a Request becomes a real button
ZALO_OA_BUTTONS = 5  # Zalo OA shows up to this many choices as buttons, more as numbers


def numbered_choices(channel: str, count: int) -> bool:
    """True where `count` choices reach the person as numbered lines to type (Zalo's bot
    API, the console, Zalo OA beyond its buttons), False where they are buttons to tap."""
    return channel in ("zalo", "console") or (channel == "zalo_oa" and count > ZALO_OA_BUTTONS)


@dataclass(frozen=True)
class Attachment:
    """A file by reference: a channel file id, a URL or a path under the data folder."""

    kind: str  # "photo" | "document" | "voice" | "image" | "location" (ref "lat,lon")
    ref: str
    name: str | None = None
    mime_type: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class Contact:
    """A phone number the user chose to share (Telegram's contact button)."""

    phone: str
    name: str | None = None


@dataclass(frozen=True)
class Inbound:
    """One event from a user, whatever the channel."""

    channel: str  # "telegram" | "zalo" | "zalo_oa" | "console"
    user_id: str  # the channel's own user id, as text
    text: str = ""
    command: str | None = None  # "start", "menu"… without the slash, parsed by the adapter
    args: str = ""  # the rest of a command line: "/start s_12" -> "s_12"
    payload: str | None = None  # data of a pressed button
    location: tuple[float, float] | None = None
    contact: Contact | None = None
    attachments: tuple[Attachment, ...] = ()
    language: str | None = None  # the channel's language hint, if any
    chat_id: str | None = None  # the chat it came from when that is not the private chat
    event: str | None = None  # a membership event in `chat_id`: "added" | "removed" (the bot)
    unread: str | None = None  # content we cannot read: "sticker", "gif", "video", "unsupported"
    reply_to_bot: bool = False  # in a group: a reply to one of the bot's messages
    event_ref: str | None = None  # the stored inbound event's id: its outcome is kept with it
    offer_ref: str | None = None  # the id of the message whose button was pressed

    @property
    def start_parameter(self) -> str | None:
        """The deep-link parameter of `/start PARAM`, if any."""
        return self.args or None if self.command == "start" else None


@dataclass(frozen=True)
class Reply:
    """One message back to the user who wrote.

    `edit` asks channels that can edit messages to replace the previous bot message
    (pagination); others simply send a new one. `alert` answers a pressed button with a
    pop-up where the channel has one (Telegram), a plain message elsewhere. `wants_reply`
    asks the channel to open a reply to this message where it can (a group whose bot sees
    only replies to it: Telegram's force_reply). `requests` are buttons that share a
    location or a phone number where the channel can (Telegram); other channels leave
    them out.

    Channels show several photos as one album where they have albums, and a "location"
    attachment as a map location message (a map link where they have none).
    """

    text: str
    buttons: tuple[Button, ...] = ()
    attachments: tuple[Attachment, ...] = field(default=())
    edit: bool = False
    alert: bool = False
    wants_reply: bool = False
    requests: tuple[Request, ...] = ()


class RecipientBlocked(Exception):
    """The person blocked the bot or left: do not retry (the outbox marks the row "blocked")."""


class Undeliverable(Exception):
    """The channel may not deliver this message now (e.g. outside Zalo OA's messaging
    window): do not retry; the outbox marks the row "failed" with the message as reason."""


class Channel(Protocol):
    """What the outbox dispatcher needs from a channel.

    `send` delivers one reply to a chat (a user's private chat or a group) and raises
    RecipientBlocked when the recipient cannot be reached any more; any other exception
    is a failure the dispatcher retries later.
    """

    name: str

    async def send(self, chat_id: str, reply: Reply) -> None: ...


class ProgressChannel(Channel, Protocol):
    """A channel that can keep one message up to date (edit it): progress of a broadcast.

    `post_progress` sends `text` when `ref` is None, else edits that message; it returns
    the reference of the message now showing the text.
    """

    async def post_progress(self, chat_id: str, text: str, ref: str | None) -> str | None: ...


def parse_command(text: str) -> tuple[str | None, str]:
    """Split "/start abc" into ("start", "abc"); plain text gives (None, text).

    Telegram's "/menu@CivicBot" suffix is dropped; command names are lower-cased.
    """
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None, text
    head, _, rest = stripped[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    if not name or not all(c.isalnum() or c == "_" for c in name):
        return None, text
    return name, rest.strip()


def listed_once(reply: Reply) -> tuple[str, tuple[Button, ...]]:
    """For channels that print choices as numbered lines: a bullet list naming the first
    buttons in order ("• PA-2026-000123: …" for the button "PA-2026-000123") is numbered in
    place of the bullets, so the list is printed once. Returns the text and the buttons
    still to print, numbered after the list. A list only partly named stays as it is."""
    lines = reply.text.split("\n")
    matched: list[int] = []
    for i, line in enumerate(lines):
        if not line.startswith("• "):
            if matched and line.strip():
                break  # the list ended
            continue
        if len(matched) < len(reply.buttons) and _names(line, reply.buttons[len(matched)]):
            matched.append(i)
        elif matched:
            return reply.text, reply.buttons  # a bullet of the same list names no button
    if not matched:
        return reply.text, reply.buttons
    for number, i in enumerate(matched, 1):
        lines[i] = f"{number}. {lines[i][2:]}"
    return "\n".join(lines), reply.buttons[len(matched):]


def _names(line: str, button: Button) -> bool:
    label = button.label.rstrip("…").strip()
    return bool(label) and line[2:].startswith(label)


def split_text(text: str, limit: int) -> list[str]:
    """Cut a long text into messages of at most `limit` characters (none for blank text).

    Cuts fall on paragraph breaks where possible, then on line breaks, then on spaces;
    channels call it with their own limit (Telegram 4,096, Zalo 2,000).
    """
    chunks = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit + 1]
        for separator in ("\n\n", "\n", " "):
            cut = window.rfind(separator)
            if cut > 0:
                chunks.append(rest[:cut].rstrip())
                rest = rest[cut + len(separator):].lstrip("\n")
                break
        else:
            chunks.append(rest[:limit])
            rest = rest[limit:]
    chunks.append(rest)
    return [c for c in chunks if c.strip()]


def location_of(attachment: Attachment) -> tuple[float, float] | None:
    """The (latitude, longitude) of a "location" attachment, None for anything else."""
    if attachment.kind != "location":
        return None
    try:
        latitude, longitude = (float(part) for part in attachment.ref.split(","))
    except ValueError:
        return None
    return latitude, longitude


def map_link(attachment: Attachment) -> str | None:
    """A map link for a "location" attachment (for channels without location messages)."""
    place = location_of(attachment)
    return f"https://maps.google.com/?q={place[0]},{place[1]}" if place else None
