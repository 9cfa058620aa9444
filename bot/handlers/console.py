"""Console edge: one person chatting in the terminal (channel "console").

Buttons are printed as numbered lines; the engine accepts the number or the label.
Works with piped stdin: one line is one message.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from bot import messages
from bot.engine import Engine
from bot.messages import Attachment, Inbound, Reply, listed_once, parse_command
from bot.sanitize import clean_text
from bot.services import choices
from bot.services.dispatcher import Dispatcher
from storage.db import Database

CHANNEL = "console"


PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
VOICE_SUFFIXES = (".ogg", ".oga", ".opus", ".m4a", ".aac", ".mp3", ".amr")


def to_inbound(line: str, user_id: str) -> Inbound:
    """A typed line as an Inbound: "/x args" is a command, anything else is text.

    "/attach PATH | caption" sends a file as a chat app would: a photo for image files, a
    voice message for audio files, a document otherwise, with the caption as the message text.
    """
    text = clean_text(line.rstrip("\r\n"))
    command, args = parse_command(text)
    if command == "attach" and args:
        path_text, _, caption = args.partition("|")
        return Inbound(channel=CHANNEL, user_id=user_id, text=caption.strip(),
                       attachments=(_attachment(Path(path_text.strip()).expanduser()),))
    return Inbound(channel=CHANNEL, user_id=user_id, text=text, command=command, args=args)


def _attachment(path: Path) -> Attachment:
    suffix = path.suffix.lower()
    kind = ("photo" if suffix in PHOTO_SUFFIXES else "voice" if suffix in VOICE_SUFFIXES
            else "document")
    size = path.stat().st_size if path.is_file() else None
    return Attachment(kind, str(path.resolve()), name=path.name, size=size)


def render(reply: Reply) -> str:
    """A reply as terminal text: the message, then "  1. label" per button."""
    text, rest = listed_once(reply)
    first = len(reply.buttons) - len(rest) + 1
    lines = [text]
    lines += [f"  {i}. {button.label}" for i, button in enumerate(rest, first)]
    lines += [f"  [{a.kind}: {messages.map_link(a) or a.name or a.ref}]"
              for a in reply.attachments]
    return "\n".join(lines)


class ConsoleChannel:
    """Delivers outbox messages to the one console user chatting in this terminal.

    Messages for other console users wait in the outbox until they chat themselves.
    """

    name = CHANNEL

    def __init__(self, user_id: str, stdout: TextIO = sys.stdout,
                 db: Database | None = None) -> None:
        self.chat_ids = frozenset({user_id})
        self.stdout = stdout
        self.db = db

    async def post_progress(self, chat_id: str, text: str, ref: str | None) -> str | None:
        """A terminal cannot edit: print each new progress line."""
        self.stdout.write(text + "\n\n")
        self.stdout.flush()
        return "console"

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Print the message as the bot's own replies are printed; its numbered choices
        become the person's, unless they are mid-flow (bot.services.choices)."""
        offer = False
        if self.db is not None:
            reply, offer = await choices.for_numbered_channel(self.db, CHANNEL, chat_id, reply)
        self.stdout.write(render(reply) + "\n\n")
        self.stdout.flush()
        if offer and self.db is not None:
            await choices.offer(self.db, CHANNEL, chat_id, reply.buttons)


async def chat(engine: Engine, user_id: str, stdin: TextIO = sys.stdin,
               stdout: TextIO = sys.stdout, dispatcher: Dispatcher | None = None) -> int:
    """Talk until end of input; returns how many messages were sent.

    With a dispatcher, messages waiting for this user are shown before each prompt.
    """
    if dispatcher is not None:
        dispatcher.register(ConsoleChannel(user_id, stdout, engine.db))
    interactive = stdin.isatty()
    sent = 0
    while True:
        if dispatcher is not None:
            await dispatcher.dispatch_due()
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            if dispatcher is not None:  # what the last turns started (a file) is shown too
                await engine.drain()
                await dispatcher.dispatch_due()
            return sent
        if not interactive:
            stdout.write(f"> {line.rstrip()}\n")
        for reply in await engine.handle(to_inbound(line, user_id)):
            stdout.write(render(reply) + "\n\n")
        stdout.flush()
        sent += 1
