"""Running the Telegram edge: PTB Application, long polling or webhook, order and idempotency.

Every update is stored (table inbound_events) before it is processed, in both modes: a
redelivered update_id is dropped, and updates a crash left pending are processed at the
next start. Updates of one chat are handled strictly in order, different chats at once.
PTB is the transport only: no ConversationHandler, persistence or JobQueue.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from pathlib import Path
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    TypeHandler,
)

from bot.engine import Engine, KeyedLocks
from bot.handlers.telegram import CHANNEL, TelegramChannel, blocked_change, to_inbound
from bot.handlers.telegram_request import AiohttpRequest
from bot.messages import Inbound, RecipientBlocked, Reply
from bot.services import groups, inbound_events, reachability
from storage.db import Database

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhook/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
TYPING_AFTER = 0.5  # seconds: show "typing…" when an answer takes longer than this
POLL_TIMEOUT = 25  # seconds a getUpdates long poll waits
POLL_RETRY = (1.0, 60.0)  # first and longest pause after a failed getUpdates (doubling)


class PerChatProcessor(BaseUpdateProcessor):
    """Runs updates of different chats concurrently and each chat's updates in order."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._chats = KeyedLocks()

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        """Wait for the chat's earlier updates, then process this one."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        async with self._chats.hold(chat.id):
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def build_application(token: str, api_url: str, *, max_retries: int = 3,
                      connections: int = 256, overall_max_rate: float = 30) -> Application:
    """A PTB Application on our aiohttp transport, without Updater and JobQueue.

    The rate limiter keeps bursts under Telegram's limits (30 messages/s overall, 20 per
    minute per group) and retries a 429 after the time Telegram asks for.
    """
    base = api_url.rstrip("/")
    limiter = AIORateLimiter(overall_max_rate=overall_max_rate, max_retries=max_retries)
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .request(AiohttpRequest(connections=connections))
        .get_updates_request(AiohttpRequest(connections=1, read_timeout=POLL_TIMEOUT + 10))
        .rate_limiter(limiter)
        .concurrent_updates(PerChatProcessor(connections))
        .updater(None)
        .job_queue(None)
        .build()
    )


class TelegramRuntime:
    """The Telegram channel of a running bot: receive, store, process, answer."""

    def __init__(
        self, engine: Engine, db: Database, *, token: str,
        api_url: str = "https://api.telegram.org", webhook_url: str | None = None,
        webhook_secret: str | None = None, data_dir: Path | None = None,
        default_locale: str = "vi", poll_timeout: int = POLL_TIMEOUT,
        application: Application | None = None,
    ) -> None:
        if webhook_url and not webhook_secret:
            raise ValueError("TELEGRAM_WEBHOOK_SECRET must be set with TELEGRAM_WEBHOOK_URL")
        self.engine, self.db = engine, db
        self.webhook_url, self.webhook_secret = webhook_url, webhook_secret
        self.poll_timeout = poll_timeout
        self.application = application or build_application(token, api_url)
        self.channel = TelegramChannel(self.application.bot, data_dir, default_locale)
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self.events = inbound_events.EventLog(db, CHANNEL)
        self.up = False
        self._polling: asyncio.Task | None = None

    async def start(self) -> None:
        """Check the token, set the command menu and webhook (or start polling), catch up."""
        await self.application.initialize()  # getMe
        bot = self.application.bot
        await self.channel.set_commands()
        if self.webhook_url:
            await bot.set_webhook(self.webhook_url, secret_token=self.webhook_secret,
                                  allowed_updates=ALLOWED_UPDATES)
        else:
            await bot.delete_webhook()
        await self.application.start()
        for payload in await self.events.pending():
            await self.application.update_queue.put(Update.de_json(payload, bot))
        if not self.webhook_url:
            self._polling = asyncio.create_task(self._poll(), name="telegram-polling")
        self.up = True
        log.info("telegram: @%s up (%s)", bot.username, "webhook" if self.webhook_url
                 else "long polling")

    async def stop(self) -> None:
        """Stop polling, finish the updates in hand, close the HTTP sessions."""
        self.up = False
        if self._polling is not None:
            self._polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._polling
        if self.application.running:
            await self.application.stop()
        await self.events.flush()
        await self.application.shutdown()
        for request in self.application.bot._request:  # PTB skips this when getMe failed
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
            data = json.loads(await request.read())
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self.application.bot)
        except Exception:  # not JSON, or JSON that is no update: refuse, process nothing
            return web.json_response({"ok": False, "error": "malformed update"}, status=400)
        await self.receive(update, data)
        return web.json_response({"ok": True})

    async def receive(self, update: Update, data: dict[str, Any]) -> bool:
        """Store a new update and queue it; False for an update_id seen before."""
        if not await self.events.store(str(update.update_id), data):
            return False
        await self.application.update_queue.put(update)
        return True

    async def _poll(self) -> None:
        """Long polling with getUpdates; network trouble waits and tries again."""
        first, longest = POLL_RETRY
        bot, offset, pause = self.application.bot, None, first
        while True:
            try:
                updates = await bot.get_updates(offset=offset, timeout=self.poll_timeout,
                                                allowed_updates=ALLOWED_UPDATES)
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
            for update in updates:
                await self.receive(update, update.to_dict())
                offset = update.update_id + 1

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """PTB's single handler: process, then mark the stored update done."""
        try:
            await self.process(update)
        finally:
            self.events.done(str(update.update_id))

    async def process(self, update: Update) -> None:
        """Answer one update: engine, callback answer, replies (editing where asked)."""
        blocked = blocked_change(update)
        if blocked is not None and update.effective_user is not None:
            await reachability.set_blocked(self.db, CHANNEL, str(update.effective_user.id),
                                           blocked)
            return
        if update.message is not None and update.message.migrate_to_chat_id:
            async with self.db.unit_of_work() as session:
                await groups.move(session, CHANNEL, str(update.message.chat.id),
                                  str(update.message.migrate_to_chat_id))
                await session.commit()
            return
        inbound = to_inbound(update)
        query = update.callback_query
        replies: list[Reply] = []
        try:
            if inbound is not None:
                replies = await self._answer(inbound, update)
        finally:
            answered = None
            if query is not None:  # always answered; alongside the replies, not before them
                alert = next((r for r in replies if r.alert), None)
                answered = asyncio.ensure_future(query.answer(
                    alert.text[:200] if alert else None, show_alert=alert is not None))
            try:
                if replies and update.effective_chat is not None:
                    await self._deliver(update, replies)
            finally:
                if answered is not None:
                    with contextlib.suppress(TelegramError):
                        await answered

    async def _deliver(self, update: Update, replies: list[Reply]) -> None:
        """Send the replies in the chat the update came from."""
        query = update.callback_query
        if query is not None:
            replies = [r for r in replies if not r.alert]
        chat_id = update.effective_chat.id
        try:
            await self.channel.deliver(chat_id, replies,
                                       edit=query.message if query is not None else None)
        except RecipientBlocked:
            await reachability.set_blocked(self.db, CHANNEL, str(chat_id), True)

    async def _answer(self, inbound: Inbound, update: Update) -> list[Reply]:
        """Ask the engine; show "typing…" if the answer takes a while."""
        chat = update.effective_chat
        answer = asyncio.ensure_future(self.engine.handle(inbound))
        done, _ = await asyncio.wait({answer}, timeout=TYPING_AFTER)
        if not done and chat is not None:
            await self.channel.typing(chat.id)
        return await answer

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log a failed update by its id and the error, never its content."""
        error = context.error
        log.error("telegram: update %s failed: %s", getattr(update, "update_id", "?"),
                  f"{type(error).__name__}: {error}"[:300],
                  exc_info=error if not isinstance(error, TelegramError) else None)
