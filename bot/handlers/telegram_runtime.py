"""Running the Telegram edge: long polling or webhook, order and idempotency.

Every update is stored (table inbound_events) before it is processed, in both modes: a
redelivered update_id is dropped, and updates a crash left pending are processed at the
next start (or, with several processes, by the next one whose sweep finds their lease
expired). Updates of one chat are handled strictly in order, different chats at once; an
update's done-mark is committed before the chat's next update.
Updates stay the JSON dicts Telegram sent (see telegram_updates); PTB is the transport
only (its bot, our aiohttp request class, its rate limiter): no Application,
ConversationHandler, persistence or JobQueue.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hmac
import logging
from pathlib import Path
from typing import Any

from aiohttp import web
from telegram.error import InvalidToken, TelegramError
from telegram.ext import ExtBot

from bot.engine import Engine
from bot.handlers import flood, webhook_body
from bot.handlers import telegram_updates as updates
from bot.handlers.flood import FloodControl, Ticket
from bot.handlers.telegram import TelegramChannel
from bot.handlers.telegram_budget import BudgetRateLimiter, telegram_budget
from bot.handlers.telegram_request import AiohttpRequest
from bot.handlers.telegram_updates import CHANNEL
from bot.keyed_locks import KeyedLocks
from bot.messages import Inbound, RecipientBlocked, Reply
from bot.sanitize import clean_id, clean_json
from bot.services import groups, inbound_events, reachability
from storage.db import Database

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhook/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
TYPING_AFTER = 0.5  # seconds: show "typing…" when an answer takes longer than this
POLL_TIMEOUT = 25  # seconds a getUpdates long poll waits
POLL_RETRY = (1.0, 60.0)  # first and longest pause after a failed getUpdates (doubling)
MAX_CONCURRENT = 256  # updates processed at once (more wait, stored, in arrival order)
OK_BODY = b"{\"ok\": true}"


def build_bot(token: str, api_url: str, *, connections: int = 256,
              db: Database | None = None, overall_max_rate: float = 30) -> ExtBot:
    """PTB's bot on our aiohttp transport, behind the send budget (bot.handlers.
    telegram_budget): Telegram's limits (30 messages/s per bot, 20 a minute per group),
    shared by every process on `db` when it is PostgreSQL. A 429 is waited out by
    telegram.with_retries. `overall_max_rate` 0: no limit (benches)."""
    base = api_url.rstrip("/")
    return ExtBot(
        token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot",
        request=AiohttpRequest(connections=connections),
        get_updates_request=AiohttpRequest(connections=1, read_timeout=POLL_TIMEOUT + 10),
        rate_limiter=BudgetRateLimiter(telegram_budget(db, token, overall_max_rate))
        if overall_max_rate else None,
    )


class ChatOrder:
    """Runs updates of different chats concurrently and each chat's updates in order."""

    def __init__(self, max_concurrent: int = MAX_CONCURRENT) -> None:
        self._chats = KeyedLocks()
        self._slots = asyncio.Semaphore(max_concurrent)
        self._tasks: set[asyncio.Task] = set()

    def submit(self, chat: object, work: Any) -> None:
        """Schedule the coroutine `work` after the chat's earlier updates."""
        task = asyncio.create_task(self._run(chat, work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, chat: object, work: Any) -> None:
        # The chat's lock is taken first, before any other wait: tasks start in the order
        # they were submitted, so each chat's updates queue up in arrival order.
        async with self._chats.hold(chat), self._slots:
            await work

    async def drain(self) -> None:
        """Wait for every submitted update to finish."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class TelegramRuntime:
    """The Telegram channel of a running bot: receive, store, process, answer."""

    def __init__(
        self, engine: Engine, db: Database, *, token: str,
        api_url: str = "https://api.telegram.org", webhook_url: str | None = None,
        webhook_secret: str | None = None, data_dir: Path | None = None,
        default_locale: str = "vi", poll_timeout: int = POLL_TIMEOUT,
        bot: ExtBot | None = None, lease: float = inbound_events.LEASE,
        flood: FloodControl | None = None,
    ) -> None:
        if webhook_url and not webhook_secret:
            raise ValueError("TELEGRAM_WEBHOOK_SECRET must be set with TELEGRAM_WEBHOOK_URL")
        self.engine, self.db = engine, db
        self.webhook_url, self.webhook_secret = webhook_url, webhook_secret
        self.poll_timeout = poll_timeout
        self.bot = bot or build_bot(token, api_url, db=db)
        self.channel = TelegramChannel(self.bot, data_dir, default_locale)
        self.events = inbound_events.EventLog(db, CHANNEL, lease)
        self.order = ChatOrder()
        self.flood = flood or FloodControl(rate=0)  # none unless given (bot.server gives it)
        self.default_locale = default_locale
        self._hints: set[asyncio.Future] = set()
        self.up = False
        self._polling: asyncio.Task | None = None
        self._sweeping: asyncio.Task | None = None

    async def start(self) -> None:
        """Check the token, set the command menu and webhook (or start polling), catch up."""
        await self.bot.initialize()  # getMe
        await self.channel.set_commands()
        if self.webhook_url:
            await self.bot.set_webhook(self.webhook_url, secret_token=self.webhook_secret,
                                       allowed_updates=ALLOWED_UPDATES)
        else:
            await self.bot.delete_webhook()
        for payload in await self.events.pending():
            self._submit(payload)
        self._sweeping = asyncio.create_task(self.events.keep_leases(self._submit),
                                             name="telegram-leases")
        if not self.webhook_url:
            self._polling = asyncio.create_task(self._poll(), name="telegram-polling")
        self.up = True
        log.info("telegram: @%s up (%s)", self.bot.username,
                 "webhook" if self.webhook_url else "long polling")

    async def stop(self) -> None:
        """Stop polling, finish the updates in hand, close the HTTP sessions."""
        self.up = False
        for task in (self._polling, self._sweeping):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self.flood.stop()  # a flooder's delayed updates stay pending for the next start
        await self.order.drain()
        await self.events.flush()
        await self.events.hand_back()
        await self.bot.shutdown()
        for request in self.bot._request:  # PTB skips this when getMe failed
            await request.shutdown()

    def routes(self) -> list[web.RouteDef]:
        """The webhook route for the project's aiohttp server (webhook mode only)."""
        return [web.post(WEBHOOK_PATH, self.webhook)] if self.webhook_url else []

    async def webhook(self, request: web.Request) -> web.Response:
        """Telegram posts an update: check the secret, store it, answer 200 at once."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), (self.webhook_secret or "").encode()):
            return web.json_response({"ok": False, "error": "unauthorized"}, status=401)
        try:
            update: Any = webhook_body.parse(await webhook_body.raw(request))
        except webhook_body.Malformed as problem:
            return webhook_body.refuse(CHANNEL, problem, {"ok": False, "error": "malformed"})
        if not _is_update(update):  # JSON that is no update: process nothing
            if (isinstance(update, dict) and "update_id" in update  # an id Telegram never
                    and not _is_update({"update_id": update["update_id"]})):  # sends: kept
                await self.events.reject(str(update["update_id"])[:100], update,
                                         "update_id is not a Telegram update id")
            return web.json_response({"ok": False, "error": "malformed update"}, status=400)
        # A button pressed in a private chat is answered in this response (Telegram performs
        # a method named in the answer to a webhook request): one Bot API call less per
        # press. Alerts are only shown in groups, so nothing is lost by answering early.
        query_id = updates.private_press(update)
        await self.receive(update, pressed_answered=query_id is not None)
        if query_id is None:
            return web.Response(body=OK_BODY, content_type="application/json")
        return web.json_response({"method": "answerCallbackQuery",
                                  "callback_query_id": query_id})

    async def receive(self, update: dict[str, Any], *, pressed_answered: bool = False) -> bool:
        """Store a new update and queue it; False for an update_id seen before.

        `pressed_answered`: the button press was answered already (in the webhook reply).
        """
        chat = updates.chat_id_of(update) or updates.sender_id_of(update)
        if not await self.events.store(str(update["update_id"]), update,
                                       chat=None if chat is None else str(chat)):
            return False
        self._submit(update, pressed_answered)
        return True

    def _submit(self, update: dict[str, Any], pressed_answered: bool = False) -> None:
        chat = updates.chat_id_of(update) or updates.sender_id_of(update)
        sender = updates.sender_id_of(update)
        ticket = self.flood.admit(sender or chat)
        if ticket.notify and sender is not None and sender == chat:  # private chats only
            self._later(self._tell_flooding(sender))
        self.order.submit(chat, self._handle(update, pressed_answered, ticket))

    async def _tell_flooding(self, chat_id: int) -> None:
        reply = await flood.notice(self.db, CHANNEL, str(chat_id), self.default_locale)
        with contextlib.suppress(TelegramError, RecipientBlocked):
            await self.channel.deliver(chat_id, [reply])

    async def _poll(self) -> None:
        """Long polling with getUpdates; network trouble waits and tries again."""
        first, longest = POLL_RETRY
        offset, pause = None, first
        while True:
            try:
                batch = await self.bot._post("getUpdates", {
                    "offset": offset, "timeout": self.poll_timeout,
                    "allowed_updates": ALLOWED_UPDATES,
                }, read_timeout=self.poll_timeout + POLL_TIMEOUT + 10)
                pause = first
            except InvalidToken:
                log.error("telegram: the bot token was refused; polling stops")
                self.up = False
                return
            except TelegramError as exc:
                log.warning("telegram: getUpdates failed (%s); retrying in %.0f s",
                            type(exc).__name__, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, longest)
                continue
            for update in batch if isinstance(batch, list) else ():
                if not isinstance(update, dict):
                    continue
                if _is_update(cleaned := _cleaned(update)):
                    await self.receive(cleaned)
                if _is_update({"update_id": update.get("update_id")}):  # past a bad one too
                    offset = update["update_id"] + 1

    async def _handle(self, update: dict[str, Any], pressed_answered: bool,
                      ticket: Ticket) -> None:
        """Process one stored update, then mark it done (committed before the chat's next
        update is taken); a failure is logged, never raised.

        A flooder's update first waits its turn (bot.handlers.flood); at stop it is left
        pending, for the next start."""
        def failed(exc: Exception) -> None:
            log.error("telegram: update %s failed: %s", update.get("update_id"),
                      f"{type(exc).__name__}: {exc}"[:300],
                      exc_info=exc if not isinstance(exc, TelegramError) else None)

        await flood.in_turn(self.flood, ticket, self.events, str(update["update_id"]),
                            lambda: self.process(update, pressed_answered), failed)

    async def process(self, update: dict[str, Any], pressed_answered: bool = False) -> None:
        """Answer one update: engine, callback answer, replies (editing where asked)."""
        blocked = updates.blocked_change(update)
        sender = updates.sender_id_of(update)
        if blocked is not None and sender is not None:
            await reachability.set_blocked(self.db, CHANNEL, str(sender), blocked)
            return
        if (moved := updates.migrated_to(update)) is not None:
            async with self.db.unit_of_work() as session:
                await groups.move(session, CHANNEL, str(moved[0]), str(moved[1]))
                await session.commit()
            return
        query_id = updates.callback_of(update).get("id")
        replies: list[Reply] = []
        try:
            if (inbound := updates.to_inbound(update)) is not None:
                pressed = updates.pressed_message(update)
                inbound = dataclasses.replace(
                    inbound, event_ref=str(update["update_id"]),
                    offer_ref=None if pressed is None else f"{pressed[0]}:{pressed[1]}")
                replies = await self._answer(inbound, updates.chat_id_of(update))
        finally:
            answered = None
            if query_id is not None and not pressed_answered:
                # Always answered; alongside the replies, not before them. An alert is the
                # answer's pop-up; after an early answer it goes out as a message instead.
                alert = next((r for r in replies if r.alert), None)
                answered = asyncio.ensure_future(self.channel.answer_button(
                    str(query_id), alert.text if alert else None))
                replies = [r for r in replies if not r.alert]
            try:
                if replies and (chat := updates.chat_id_of(update)) is not None:
                    await self._deliver(update, chat, replies)
            finally:
                if answered is not None:
                    with contextlib.suppress(TelegramError):
                        await answered

    async def _deliver(self, update: dict[str, Any], chat_id: int,
                       replies: list[Reply]) -> None:
        """Send the replies in the chat the update came from."""
        pressed = updates.pressed_message(update)
        try:
            await self.channel.deliver(chat_id, replies, edit=pressed)
        except RecipientBlocked:
            await reachability.set_blocked(self.db, CHANNEL, str(chat_id), True)

    async def _answer(self, inbound: Inbound, chat_id: int | None) -> list[Reply]:
        """Ask the engine; show "typing…" if the answer takes a while."""
        timer = None
        if chat_id is not None:
            timer = asyncio.get_running_loop().call_later(TYPING_AFTER, self._typing, chat_id)
        try:
            return await self.engine.handle(inbound)
        finally:
            if timer is not None:
                timer.cancel()

    def _typing(self, chat_id: int) -> None:
        self._later(self.channel.typing(chat_id))

    def _later(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._hints.add(task)  # keep a reference until it is done
        task.add_done_callback(self._hints.discard)


def _is_update(value: object) -> bool:
    """A JSON object with a plausible integer update_id; all its other fields are objects."""
    if not isinstance(value, dict):
        return False
    update_id = value.get("update_id")
    return (isinstance(update_id, int) and clean_id(update_id) is not None
            and all(isinstance(v, dict) for k, v in value.items() if k != "update_id"))


def _cleaned(update: dict[str, Any]) -> Any:
    """A polled update with its text cleaned (None when it is nested absurdly deep)."""
    try:
        return clean_json(update)
    except ValueError:
        return None
