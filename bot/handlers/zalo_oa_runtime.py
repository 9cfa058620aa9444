"""Running the Zalo OA edge: the signed webhook (POST /webhook/zalo-oa) and the answers.

`X-ZEvent-Signature: mac=<hex>`, hex = SHA-256 of app_id + raw body + timestamp + the OA
secret key (plain SHA-256, not HMAC; app_id and timestamp from the body); anything else
is refused with 401 and not processed. Accepted events are stored first (inbound_events,
deduplicated on msg_id), answered 200 at once, then processed in order per user.
Follow starts onboarding; unfollow marks the user blocked so no notice goes out.
A resident's hamlet becomes a follower tag (best effort), for 1:1 notices by hamlet.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import hmac
import logging
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlmodel import select

from bot.engine import Engine
from bot.handlers import flood, received_files, webhook_body
from bot.handlers.flood import FloodControl, Ticket
from bot.handlers.zalo_oa import (
    CHANNEL,
    FOLLOW,
    UNFOLLOW,
    ZaloOAChannel,
    event_id,
    event_time,
    msg_id_of,
    to_inbound,
    user_of,
)
from bot.handlers.zalo_oa_client import ZaloOAClient, ZaloOAError, ZaloOAuth
from bot.handlers.zalo_oa_tokens import NoTokens, TokenStore
from bot.keyed_locks import KeyedLocks
from bot.messages import Inbound, RecipientBlocked, Undeliverable
from bot.services import inbound_events, reachability, send_budget
from bot.services.inbound_events import kind_of
from bot.services.send_budget import SendBudget
from storage import clock
from storage.db import Database
from storage.models import Hamlet, User, ZaloOAFollower

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhook/zalo-oa"
SIGNATURE_HEADER = "X-ZEvent-Signature"
_TIMESTAMP = re.compile(rb'"timestamp"\s*:\s*"?(\d{1,20})"?')


def signature(app_id: str, raw_body: bytes, timestamp: str, secret_key: str) -> str:
    """The mac Zalo puts in X-ZEvent-Signature for this body."""
    return hashlib.sha256(app_id.encode() + raw_body + timestamp.encode()
                          + secret_key.encode()).hexdigest()


class ZaloOARuntime:
    """The Zalo OA channel of a running bot: receive, store, process, answer."""

    def __init__(self, engine: Engine, db: Database, *, app_id: str, secret_key: str,
                 app_secret: str = "", access_token: str | None = None,
                 refresh_token: str | None = None, api_url: str, oauth_url: str,
                 data_dir: Path | None = None, lease: float = inbound_events.LEASE,
                 default_locale: str = "vi", flood: FloodControl | None = None) -> None:
        if not secret_key:
            raise ValueError("ZALO_OA_SECRET_KEY (the OA secret key of the webhook page) "
                             "must be set")
        self.engine, self.db = engine, db
        self.app_id, self._secret_key = app_id, secret_key
        self._seed = (access_token, refresh_token)
        self.auth = ZaloOAuth(app_id, app_secret, oauth_url)
        self.tokens = TokenStore(db, self.auth)
        self.client = ZaloOAClient(self.tokens, api_url, budget=SendBudget(
            db, f"zalo_oa:{app_id}", send_budget.ZALO_OA))
        self.button_key = hashlib.sha256(b"civicbot-buttons:" + secret_key.encode()).digest()
        self.channel = ZaloOAChannel(self.client, db, self.button_key)
        self.events = inbound_events.EventLog(db, CHANNEL, lease)
        self.files = received_files.ReceivedFiles(data_dir)  # links may expire
        self.up = False
        self._users = KeyedLocks()
        self.flood = flood or FloodControl(rate=0)  # none unless given (bot.server gives it)
        self.default_locale = default_locale
        self._tasks: set[asyncio.Task] = set()
        self._sweeping: asyncio.Task | None = None

    async def start(self) -> None:
        """Seed the tokens, check them against the API, process what was left pending."""
        from bot.server import ChannelStartError

        await self.tokens.seed(*self._seed)
        try:
            oa = await self.client.get_oa()
        except NoTokens as exc:
            raise ChannelStartError(f"zalo_oa: {exc.description}") from None
        for payload in await self.events.pending():
            self._schedule(payload)
        self._sweeping = asyncio.create_task(self.events.keep_leases(self._schedule),
                                             name="zalo-oa-leases")
        self.up = True
        log.info("zalo_oa: %s up (webhook %s)", oa.get("name", "OA"), WEBHOOK_PATH)

    async def stop(self) -> None:
        """Finish the events in hand, close the HTTP sessions."""
        self.up = False
        if self._sweeping is not None:
            self._sweeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeping
        self.flood.stop()  # a flooder's delayed events stay pending for the next start
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10)
        await self.events.flush()
        await self.events.hand_back()
        await self.client.close()
        await self.auth.close()
        await self.files.close()

    def routes(self) -> list[web.RouteDef]:
        """The webhook route."""
        return [web.post(WEBHOOK_PATH, self.webhook)]

    def verified(self, raw: bytes, header: str) -> dict[str, Any] | None:
        """The event when its signature matches the raw body and it is JSON of our app; else
        None. The signature is checked on the bytes first (the timestamp it covers is found
        by a pattern): nothing of an unsigned body is parsed. Raises webhook_body.Malformed
        for a signed body that is no JSON object."""
        given = header.strip().removeprefix("mac=").strip().lower().encode()
        # Only keys match (a quote inside a JSON string is escaped); a nested "timestamp"
        # key may come first, so a few are tried.
        stamps = [m.group(1).decode() for m in _TIMESTAMP.finditer(raw)][:8] or [""]
        signed = next((stamp for stamp in stamps if hmac.compare_digest(
            given, signature(self.app_id, raw, stamp, self._secret_key).encode())), None)
        if signed is None:
            return None
        event = webhook_body.parse(raw)
        if str(event.get("app_id", "")) != self.app_id or str(
                event.get("timestamp", "")) != signed:
            return None
        return event

    async def webhook(self, request: web.Request) -> web.Response:
        """Zalo posts an event: verify the signature, store it, answer 200 at once."""
        try:
            raw = await webhook_body.raw(request)
            event = self.verified(raw, request.headers.get(SIGNATURE_HEADER, ""))
        except webhook_body.Malformed as problem:
            return webhook_body.refuse(CHANNEL, problem, {"error": "malformed"})
        if event is None:
            return web.json_response({"error": "unauthorized"}, status=401)
        if not await self.events.store(event_id(event), event, chat=user_of(event) or None):
            log.info("zalo_oa: duplicate %s dropped", kind_of(event))
        else:
            self._schedule(event)
        return web.json_response({"error": 0})

    def _schedule(self, event: dict[str, Any]) -> None:
        ticket = self.flood.admit(user_of(event))
        if ticket.notify and user_of(event):
            self._start(self._tell_flooding(user_of(event)))
        self._start(self._run(event, ticket))

    def _start(self, work: Any) -> None:
        task = asyncio.create_task(work, name="zalo-oa-event")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _tell_flooding(self, user_id: str) -> None:
        reply = await flood.notice(self.db, CHANNEL, user_id, self.default_locale)
        with contextlib.suppress(ZaloOAError, RecipientBlocked, Undeliverable):
            await self.channel.deliver(user_id, [reply])

    async def _run(self, event: dict[str, Any], ticket: Ticket) -> None:
        """Process under the user's lock (arrival order), then mark the event done (committed
        before the user's next event). A flooder's event first waits its turn; at stop it
        stays pending for the next start."""
        async with self._users.hold(user_of(event)):
            await flood.in_turn(self.flood, ticket, self.events, event_id(event),
                                lambda: self.process(event), lambda exc: log.error(
                                    "zalo_oa: %s failed", kind_of(event), exc_info=exc))

    async def process(self, event: dict[str, Any]) -> None:
        """Answer one event: record the interaction, run the engine, send the replies."""
        name, user_id = event.get("event_name"), user_of(event)
        if not user_id:
            return
        if name == UNFOLLOW:
            await self._follower(user_id, following=False)
            await reachability.set_blocked(self.db, CHANNEL, user_id, True)
            return
        if name == FOLLOW:
            inbound: Inbound | None = Inbound(CHANNEL, user_id, text="/start", command="start")
            await self._follower(user_id, following=True, at=event_time(event))
            await reachability.set_blocked(self.db, CHANNEL, user_id, False)
        else:
            inbound = to_inbound(event, self.button_key)
            if inbound is None:
                log.debug("zalo_oa: %s ignored", name)
                return
            inbound = await self.files.keep(inbound)
            await self._follower(user_id, at=event_time(event))
        inbound = dataclasses.replace(inbound, event_ref=event_id(event))
        replies = await self.engine.handle(inbound)
        try:
            await self.channel.deliver(user_id, replies, quote=msg_id_of(event))
        except RecipientBlocked:
            await reachability.set_blocked(self.db, CHANNEL, user_id, True)
        except Undeliverable as exc:
            log.warning("zalo_oa: answer not delivered: %s", exc)
        await self.tag(user_id)

    async def _follower(self, user_id: str, *, following: bool | None = None,
                        at: datetime | None = None) -> None:
        """Record an interaction (the window starts again) and the follow state."""
        async with self.db.unit_of_work() as session:
            row = await session.get(ZaloOAFollower, user_id) or ZaloOAFollower(user_id=user_id)
            if following is not None:
                row.following = following
            if following is not False:
                when = min(at or clock.now(), clock.now())
                if row.last_interaction_at is None or when > row.last_interaction_at:
                    row.last_interaction_at = when
            session.add(row)
            await session.commit()

    async def tag(self, user_id: str) -> None:
        """Tag the follower with their hamlet's name when it changed (best effort)."""
        async with self.db.session() as session:
            hamlet = (await session.exec(
                select(Hamlet.name).join(User, User.hamlet_id == Hamlet.id)
                .where(User.channel == CHANNEL, User.external_id == user_id))).first()
            row = await session.get(ZaloOAFollower, user_id)
        if row is None or row.tag == hamlet:
            return
        try:
            if row.tag:
                with contextlib.suppress(ZaloOAError):
                    await self.client.untag_follower(user_id, row.tag)
            if hamlet:
                await self.client.tag_follower(user_id, hamlet)
        except ZaloOAError as exc:
            log.warning("zalo_oa: could not tag a follower (%s)", exc.code)
            return
        async with self.db.unit_of_work() as session:
            stored = await session.get(ZaloOAFollower, user_id)
            if stored is not None:
                stored.tag = hamlet
                session.add(stored)
                await session.commit()
