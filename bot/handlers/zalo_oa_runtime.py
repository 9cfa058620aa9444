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
import hashlib
import hmac
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlmodel import select

from bot.engine import Engine, KeyedLocks
from bot.handlers import received_files
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
from bot.messages import Inbound, RecipientBlocked, Undeliverable
from bot.services import inbound_events, reachability, send_budget
from bot.services.send_budget import SendBudget
from storage import clock
from storage.db import Database
from storage.models import Hamlet, User, ZaloOAFollower

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhook/zalo-oa"
SIGNATURE_HEADER = "X-ZEvent-Signature"


def signature(app_id: str, raw_body: bytes, timestamp: str, secret_key: str) -> str:
    """The mac Zalo puts in X-ZEvent-Signature for this body."""
    return hashlib.sha256(app_id.encode() + raw_body + timestamp.encode()
                          + secret_key.encode()).hexdigest()


class ZaloOARuntime:
    """The Zalo OA channel of a running bot: receive, store, process, answer."""

    def __init__(self, engine: Engine, db: Database, *, app_id: str, secret_key: str,
                 app_secret: str = "", access_token: str | None = None,
                 refresh_token: str | None = None, api_url: str, oauth_url: str,
                 data_dir: Path | None = None) -> None:
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
        self.channel = ZaloOAChannel(self.client, db)
        self.events = inbound_events.EventLog(db, CHANNEL)
        self.files = received_files.ReceivedFiles(data_dir)  # links may expire
        self.up = False
        self._users = KeyedLocks()
        self._tasks: set[asyncio.Task] = set()

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
        self.up = True
        log.info("zalo_oa: %s up (webhook %s)", oa.get("name", "OA"), WEBHOOK_PATH)

    async def stop(self) -> None:
        """Finish the events in hand, close the HTTP sessions."""
        self.up = False
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10)
        await self.events.flush()
        await self.client.close()
        await self.auth.close()
        await self.files.close()

    def routes(self) -> list[web.RouteDef]:
        """The webhook route."""
        return [web.post(WEBHOOK_PATH, self.webhook)]

    def verified(self, raw: bytes, header: str) -> dict[str, Any] | None:
        """The event when the body is JSON of our app and its signature matches; else None."""
        try:
            event = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(event, dict) or str(event.get("app_id", "")) != self.app_id:
            return None
        given = header.strip().removeprefix("mac=").strip().lower()
        expected = signature(self.app_id, raw, str(event.get("timestamp", "")),
                             self._secret_key)
        return event if hmac.compare_digest(given.encode(), expected.encode()) else None

    async def webhook(self, request: web.Request) -> web.Response:
        """Zalo posts an event: verify the signature, store it, answer 200 at once."""
        raw = await request.read()
        event = self.verified(raw, request.headers.get(SIGNATURE_HEADER, ""))
        if event is None:
            return web.json_response({"error": "unauthorized"}, status=401)
        if not await self.events.store(event_id(event), event):
            log.info("zalo_oa: duplicate %s dropped", event.get("event_name"))
        else:
            self._schedule(event)
        return web.json_response({"error": 0})

    def _schedule(self, event: dict[str, Any]) -> None:
        task = asyncio.create_task(self._run(event), name="zalo-oa-event")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, event: dict[str, Any]) -> None:
        """Process under the user's lock (arrival order), then mark the event done."""
        try:
            async with self._users.hold(user_of(event)):
                await self.process(event)
        except Exception:
            log.exception("zalo_oa: %s failed", event.get("event_name"))
        finally:
            self.events.done(event_id(event))

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
            inbound = to_inbound(event)
            if inbound is None:
                log.debug("zalo_oa: %s ignored", name)
                return
            inbound = await self.files.keep(inbound)
            await self._follower(user_id, at=event_time(event))
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
