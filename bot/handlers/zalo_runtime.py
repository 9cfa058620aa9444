"""Running the Zalo edge: webhook (POST /webhook/zalo) or getUpdates long polling.

Every event is stored (table inbound_events) before it is processed, keyed by
`event_name:message_id`: a redelivered event is dropped, and events a crash left pending
are processed at the next start (or by another process once their lease ran out). Events
of one chat are handled strictly in order, different chats at once; an event's done-mark is
committed before the chat's next event.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import hmac
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.engine import Engine
from bot.handlers import flood, received_files, webhook_body
from bot.handlers.flood import FloodControl, Ticket
from bot.handlers.zalo import (
    CHANNEL,
    UNSUPPORTED,
    ZaloChannel,
    chat_of,
    event_id,
    sender_of,
    to_inbound,
    unwrap,
)
from bot.handlers.zalo_client import ZaloClient, ZaloError
from bot.keyed_locks import KeyedLocks
from bot.messages import RecipientBlocked, Reply
from bot.sanitize import clean_json
from bot.services import inbound_events, reachability, send_budget
from bot.services.send_budget import SendBudget
from storage.db import Database

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhook/zalo"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
TYPING_AFTER = 0.5  # seconds: show "typing…" when an answer takes longer than this
POLL_TIMEOUT = 30  # seconds a getUpdates long poll waits
POLL_RETRY = (1.0, 60.0)  # first and longest pause after a failed getUpdates (doubling)
REFUSED_TOKEN = {401, 404}  # getUpdates answers these for a wrong or reset token


class ZaloRuntime:
    """The Zalo channel of a running bot: receive, store, process, answer."""

    def __init__(
        self, engine: Engine, db: Database, *, token: str, api_url: str,
        webhook_url: str | None = None, webhook_secret: str | None = None,
        public_base_url: str | None = None, data_dir: Path | None = None,
        groups: bool = False, default_locale: str = "vi", poll_timeout: int = POLL_TIMEOUT,
        lease: float = inbound_events.LEASE, flood: FloodControl | None = None,
    ) -> None:
        if webhook_url and not (webhook_secret and 8 <= len(webhook_secret) <= 256):
            raise ValueError("ZALO_WEBHOOK_SECRET (8 to 256 characters) must be set with "
                             "ZALO_WEBHOOK_URL")
        self.engine, self.db = engine, db
        self.webhook_url, self.webhook_secret = webhook_url, webhook_secret
        self.groups, self.poll_timeout = groups, poll_timeout
        bot_id = hashlib.sha256(token.encode()).hexdigest()[:12]  # names it, reveals nothing
        self.client = ZaloClient(token, api_url, budget=SendBudget(
            db, f"zalo:{bot_id}", send_budget.ZALO_BOT))
        media_key = hashlib.sha256(b"civicbot-media:" + token.encode()).digest()
        self.channel = ZaloChannel(self.client, data_dir=data_dir,
                                   public_base_url=public_base_url, media_key=media_key,
                                   db=db, groups=groups, default_locale=default_locale)
        self.events = inbound_events.EventLog(db, CHANNEL, lease)
        self.files = received_files.ReceivedFiles(data_dir)  # links may expire
        self.up = False
        self._chats = KeyedLocks()
        self.flood = flood or FloodControl(rate=0)  # none unless given (bot.server gives it)
        self.default_locale = default_locale
        self._tasks: set[asyncio.Task] = set()
        self._polling: asyncio.Task | None = None
        self._sweeping: asyncio.Task | None = None

    async def start(self) -> None:
        """Check the token, set the webhook (or start polling), process what was pending."""
        me = await self.client.get_me()
        if self.webhook_url:
            await self.client.set_webhook(self.webhook_url, self.webhook_secret or "")
        else:
            await self.client.delete_webhook()
        for payload in await self.events.pending():
            if (event := unwrap(payload)) is not None:
                self._schedule(event)
        self._sweeping = asyncio.create_task(self.events.keep_leases(self._take),
                                             name="zalo-leases")
        if not self.webhook_url:
            self._polling = asyncio.create_task(self._poll(), name="zalo-polling")
        self.up = True
        log.info("zalo: %s up (%s)", (me or {}).get("account_name", "bot"),
                 "webhook" if self.webhook_url else "long polling")

    async def stop(self) -> None:
        """Stop polling, finish the events in hand, close the HTTP session."""
        self.up = False
        for task in (self._polling, self._sweeping):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self.flood.stop()  # a flooder's delayed events stay pending for the next start
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10)
        await self.events.flush()
        await self.events.hand_back()
        await self.client.close()
        await self.files.close()

    def routes(self) -> list[web.RouteDef]:
        """The webhook route (webhook mode) and the signed media route (PUBLIC_BASE_URL)."""
        hook = [web.post(WEBHOOK_PATH, self.webhook)] if self.webhook_url else []
        return hook + self.channel.media_routes()

    async def webhook(self, request: web.Request) -> web.Response:
        """Zalo posts an event: check the secret, store it, answer 200 at once."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), (self.webhook_secret or "").encode()):
            return web.json_response({"ok": False, "error": "unauthorized"}, status=401)
        try:
            event = unwrap(webhook_body.parse(await webhook_body.raw(request)))
        except webhook_body.Malformed as problem:
            return webhook_body.refuse(CHANNEL, problem, {"ok": False, "error": "malformed"})
        if event is None:  # JSON that is no event: refuse, process nothing
            return web.json_response({"ok": False, "error": "malformed event"}, status=400)
        await self.receive(event)
        return web.json_response({"ok": True})

    async def receive(self, event: dict[str, Any]) -> bool:
        """Store a new event and schedule it; False for an event seen before."""
        if not await self.events.store(event_id(event), event, chat=chat_of(event)[0]):
            log.info("zalo: duplicate %s dropped", event["event_name"])
            return False
        self._schedule(event)
        return True

    def _schedule(self, event: dict[str, Any]) -> None:
        """Process the event in its own task; the chat's lock keeps each chat in order."""
        chat, group = chat_of(event)
        sender = sender_of(event)
        ticket = self.flood.admit(sender or chat)
        if ticket.notify and sender and not group:
            self._start(self._tell_flooding(chat))
        self._start(self._run(event, ticket))

    def _start(self, work: Any) -> None:
        task = asyncio.create_task(work, name="zalo-event")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _take(self, payload: dict[str, Any]) -> None:
        """An event taken over from a process that died: schedule it as if it came now."""
        if (event := unwrap(payload)) is not None:
            self._schedule(event)

    async def _tell_flooding(self, chat_id: str) -> None:
        reply = await flood.notice(self.db, CHANNEL, chat_id, self.default_locale)
        with contextlib.suppress(ZaloError, RecipientBlocked):
            await self.channel.deliver(chat_id, [reply])

    async def _run(self, event: dict[str, Any], ticket: Ticket) -> None:
        """Process under the chat's lock, then mark the stored event done.

        Tasks start in the order they were made and take the lock first thing, so the
        lock's queue keeps each chat's events in arrival order. A flooder's event first
        waits its turn (bot.handlers.flood); at stop it stays pending for the next start.
        """
        async with self._chats.hold(chat_of(event)[0]):
            await flood.in_turn(self.flood, ticket, self.events, event_id(event),
                                lambda: self.process(event), lambda exc: log.error(
                                    "zalo: %s failed", event.get("event_name"), exc_info=exc))

    async def _poll(self) -> None:
        """Long polling with getUpdates (one event per call); trouble waits and retries."""
        first, longest = POLL_RETRY
        pause = first
        while True:
            try:
                found = await self.client.get_updates(self.poll_timeout)
                pause = first
            except ZaloError as exc:
                if exc.code in REFUSED_TOKEN:
                    log.error("zalo: the bot token was refused; polling stops")
                    self.up = False
                    return
                log.warning("zalo: getUpdates failed (%s); retrying in %.0f s", exc.code, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, longest)
                continue
            if found is not None and (event := unwrap(_cleaned(found))) is not None:
                await self.receive(event)

    async def process(self, event: dict[str, Any]) -> None:
        """Answer one event: engine, then the replies in the chat it came from."""
        name = event["event_name"]
        if name == UNSUPPORTED:  # content withheld by Zalo (protected users): not an error
            log.info("zalo: unsupported message received; the person is told it was not read")
        inbound = to_inbound(event, groups=self.groups)
        if inbound is None:
            return
        inbound = dataclasses.replace(await self.files.keep(inbound),
                                      event_ref=event_id(event))
        chat_id = inbound.chat_id or inbound.user_id
        answer = asyncio.ensure_future(self.engine.handle(inbound))
        done, _ = await asyncio.wait({answer}, timeout=TYPING_AFTER)
        if not done:
            await self.channel.typing(chat_id)
        replies: list[Reply] = await answer
        try:
            await self.channel.deliver(chat_id, replies)
        except RecipientBlocked:
            await reachability.set_blocked(self.db, CHANNEL, chat_id, True)


def _cleaned(found: Any) -> Any:
    """A polled event with its text cleaned (None when it is nested absurdly deep)."""
    try:
        return clean_json(found)
    except ValueError:
        return None
