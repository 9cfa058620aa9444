"""The engine: one inbound message in, the replies out, conversation state saved between.

Per (channel, user) lock; each inbound is committed before its replies are returned (on
SQLite, turns waiting for the one writer share a transaction: storage/batches.py); global
commands first, then the saved step. Typed text that matches an offered button (its number,
or its label with or without diacritics) counts as pressing it. Every event in and reply out
is logged. A turn touches nothing outside the database, so it may be run again.

Exactly once: a turn for a stored inbound event (`Inbound.event_ref`) records its replies
with the event in its own transaction; the same event handled again (redelivered after a
crash, or taken over from a dead process) is answered with those replies and not run
again. A second tap on the button a turn just handled (same message, same button: a
double tap, maybe handled by another process) gets the same answer and creates nothing.
Turns of one person are serialised by a row lock in the database (storage/turns.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import flows
from bot.flows import drafts, groups, menu, onboarding, words
from bot.flows.base import STAY, Ctx, Step
from bot.i18n import N_, translations
from bot.keyed_locks import KeyedLocks
from bot.messages import Button, Inbound, Reply
from bot.pseudonym import user_ref
from bot.services import outbox, petitions, turn_outcomes
from bot.services.roles import roles_of
from bot.textfold import fold, nfc
from storage import clock, turns
from storage.batches import Batches
from storage.db import Database
from storage.models import InteractionLog, User
from storage.repositories import Communes, Conversations, Hamlets, InteractionLogs, Users
from storage.turns import ConversationState

log = logging.getLogger(__name__)
MAX_LOGGED_TEXT = 200
REDACTED = "[đã ẩn]"  # what the log keeps of an answer given to a step asking personal data
APOLOGY = N_("Sorry, something went wrong on our side. Please try again, or type “menu”.")
HAMLET_CODES_TTL = 60.0
LOG_INSERT = sa.insert(InteractionLog.__table__)
MENU_WORDS = {"menu", "menu chinh", "main menu"}  # typed words that always open the menu


def match_button(text: str, offered: tuple[Button, ...]) -> Button | None:
    """The offered button the typed text stands for: its number or its (folded) label."""
    typed = text.strip()
    if typed.isascii() and typed.isdigit() and len(typed) < 4 and 1 <= int(typed) <= len(offered):
        return offered[int(typed) - 1]
    key = fold(typed)
    if not key:
        return None
    for button in offered:
        if fold(button.label) == key:
            return button
    return None


def _is_empty(msg: Inbound) -> bool:
    return not (msg.text.strip() or msg.command or msg.payload or msg.location
                or msg.contact or msg.attachments)


class Engine:
    """Answers inbound messages; the only code that loads and saves conversation state."""

    def __init__(
        self, db: Database, *, pseudonym_key: bytes, default_locale: str = "vi",
        timezone: str = "Asia/Ho_Chi_Minh",
        data_dir: Path | None = None, web_base_url: str | None = None,
    ) -> None:
        self.db = db
        self.web_base_url = web_base_url
        self.data_dir = data_dir
        self.pseudonym_key = pseudonym_key
        self.default_locale = default_locale
        self.timezone = timezone
        self._locks = KeyedLocks()
        self._codes: tuple[float, dict[int | None, str]] = (float("-inf"), {})
        # SQLite has one writer: turns waiting for it share a transaction (group commit).
        self._batches = Batches(db) if db.is_sqlite else None
        self._later: set[asyncio.Future] = set()

    async def handle(self, msg: Inbound) -> list[Reply]:
        """Answer one message from one user; never raises for bad input."""
        msg = dataclasses.replace(msg, text=nfc(msg.text))
        try:
            if msg.chat_id is not None:  # a group chat: one at a time per group
                async with self._locks.hold((msg.channel, "group", msg.chat_id)):
                    return await self._answer_group(msg)
            async with self._locks.hold((msg.channel, msg.user_id)):
                return await self._answer(msg, time.monotonic())
        except Exception:
            log.exception("failed to answer a %s message", msg.channel)
            return await self._apologise(msg)

    async def _answer(self, msg: Inbound, started: float) -> list[Reply]:
        """One turn, committed before it returns (on SQLite maybe with other turns)."""
        turn = functools.partial(self._turn, msg, started)
        if self._batches is not None:
            ctx = await self._batches.run(turn)
        else:
            async with self.db.unit_of_work() as session:
                ctx = await turn(session)
                await session.commit()
        for job in ctx.later:  # only the committed run's (a batch may run a turn again)
            self._start_later(msg, job)
        return ctx.replies

    async def _turn(self, msg: Inbound, started: float,
                    session: AsyncSession) -> Ctx | _Replayed:
        """Load the state, run the step, save the state and the log rows (not committed)."""
        # Newcomers start in the commune's language; the app's hint only offers another.
        state = await turns.load(session, msg.channel, msg.user_id, self.default_locale)
        if msg.event_ref is not None and (
            done := await turn_outcomes.recorded(session, msg.channel, msg.event_ref)
        ) is not None:
            return _Replayed(done)  # this event's turn was committed before
        user, conv = state.user, state.conversation
        offered = tuple(Button(label, payload) for label, payload in conv.buttons)
        if msg.payload is None and not msg.command and (
            typed := match_button(msg.text, offered) or words.typed_choice(msg.text, offered)
        ):
            msg = dataclasses.replace(msg, payload=typed.payload)
        pressed = next((b for b in offered if b.payload == msg.payload), None)
        if _same_press(msg, pressed, conv.last_press):
            replies = turn_outcomes.from_json(conv.last_press["replies"])
            if msg.event_ref is not None:
                await turn_outcomes.record(session, msg.channel, msg.event_ref, replies)
            return _Replayed(replies)
        handled_at = (conv.flow, conv.step)
        ctx = Ctx(
            msg=msg, user=user, session=session, commune=state.commune,
            now=clock.now(), timezone=self.timezone, data=conv.data,  # read afresh
            offered=offered, roles=state.roles, **self._tools(),
        )
        if ctx.is_staff:  # the desk's menu entry shows how many petitions are open
            ctx.open_petitions = await petitions.count_open(session)
        step, fresh = await words.reroute(ctx, conv, *self._route(ctx, conv), self._route)
        if fresh:
            ctx.data = {}
        next_step = await step(ctx)
        self._save_state(conv, ctx, next_step, fresh)
        drafts.remember(conv, ctx.replies, moved=next_step is not STAY)
        with_buttons = [r for r in ctx.replies if r.buttons]
        conv.last_press = ({"offer": msg.offer_ref, "payload": msg.payload,
                            "replies": turn_outcomes.to_json(ctx.replies),
                            "edited": bool(with_buttons and with_buttons[-1].edit)}
                           if pressed is not None and msg.offer_ref else None)
        await turns.save_conversation(session, msg.channel, msg.user_id, conv)
        if msg.event_ref is not None:
            await turn_outcomes.record(session, msg.channel, msg.event_ref, ctx.replies)
        privacy = _Privacy(personal=getattr(step, "asks_personal_data", False),
                           unlinked=bool({handled_at[0], conv.flow} & flows.UNLINKED_FLOWS))
        await self._log(session, msg, user, handled_at, conv, ctx.replies, pressed, started,
                        privacy)
        return ctx

    async def _answer_group(self, msg: Inbound) -> list[Reply]:
        """A group event: stateless, answered in the commune's language, no user row made."""
        async with self.db.unit_of_work() as session:
            if msg.event_ref is not None and (
                done := await turn_outcomes.recorded(session, msg.channel, msg.event_ref)
            ) is not None:
                return done
            member = User(channel=msg.channel, external_id=msg.user_id,
                          locale=self.default_locale)  # never added to the session
            ctx = Ctx(msg=msg, user=member, session=session,
                      commune=await Communes(session).current(), now=clock.now(),
                      timezone=self.timezone,
                      roles=frozenset(await roles_of(session, msg.channel, msg.user_id)),
                      **self._tools())
            await groups.handle(ctx)
            if msg.event_ref is not None:
                await turn_outcomes.record(session, msg.channel, msg.event_ref, ctx.replies)
            if msg.event or msg.command or msg.payload:
                kind, text = _describe(msg, None)
                InteractionLogs(session).append(InteractionLog(
                    channel=msg.channel, direction="in", kind=f"group_{msg.event or kind}",
                    text=text, user_ref=user_ref(self.pseudonym_key, msg.channel, msg.user_id),
                ))
            await session.commit()
        for job in ctx.later:
            self._start_later(msg, job)
        return ctx.replies

    def _start_later(self, msg: Inbound, job: Callable[[], Awaitable[list[Reply]]]) -> None:
        task = asyncio.ensure_future(self._run_later(msg, job))
        self._later.add(task)  # keep a reference until it is done
        task.add_done_callback(self._later.discard)

    async def _run_later(self, msg: Inbound, job: Callable[[], Awaitable[list[Reply]]]) -> None:
        """Run a turn's slow work; its replies (or an apology) go to the chat by the outbox."""
        try:
            replies = await job()
        except Exception:
            log.exception("work after a %s turn failed", msg.channel)
            replies = [Reply(translations(self.default_locale).gettext(APOLOGY))]
        recipient = outbox.Recipient(msg.channel, msg.chat_id or msg.user_id)
        async with self.db.unit_of_work() as session:
            for reply in replies:
                await outbox.enqueue(session, recipient, reply, kind="reply")
            await session.commit()

    async def drain(self) -> None:
        """Wait for work started after turns (exports) to finish."""
        while self._later:
            await asyncio.gather(*self._later, return_exceptions=True)

    def _tools(self) -> dict:
        return {"db": self.db, "data_dir": self.data_dir, "pseudonym_key": self.pseudonym_key,
                "web_base_url": self.web_base_url}

    def _route(self, ctx: Ctx, conv: ConversationState) -> tuple[Step, bool]:
        """Which step answers this message, and whether it starts afresh (new data)."""
        msg, user = ctx.msg, ctx.user
        if msg.command != "help" and conv.flow != onboarding.FLOW.name:
            if user.onboarded_at is None:
                return onboarding.greet, True
            if user.consent_version not in (None, onboarding.PRIVACY_NOTICE_VERSION):
                return onboarding.renew, True
        if msg.command:
            known = msg.command in flows.COMMANDS
            return flows.COMMANDS.get(msg.command, menu.unknown_command), known
        consented = user.consent_version is not None
        if msg.payload and (entry := flows.entry_for(msg.payload, consented)):
            return entry, True
        if msg.payload and msg.payload not in {b.payload for b in ctx.offered}:
            return menu.stale_button, False
        if _is_empty(msg):
            return menu.empty_message, False
        if fold(msg.text) in MENU_WORDS and user.onboarded_at is not None:
            return menu.open_menu, True
        if conv.flow is None:
            return menu.open_menu, True
        return flows.lookup(conv.flow, conv.step) or menu.lost_place, False

    @staticmethod
    def _save_state(conv: ConversationState, ctx: Ctx, next_step: object, fresh: bool) -> None:
        if next_step is STAY and not fresh:
            conv.data = ctx.data  # a step that stays may still have kept something
        if next_step is not STAY:
            place = flows.locate(next_step)
            if next_step is not None and place is None:
                raise LookupError(f"step {next_step!r} is not registered in any flow")
            conv.flow, conv.step = place or (None, None)
            conv.data = _flow_data(place, ctx.data)
        with_buttons = [r for r in ctx.replies if r.buttons]
        if with_buttons:
            conv.buttons = [[b.label, b.payload] for b in with_buttons[-1].buttons]
        elif next_step is not STAY:
            conv.buttons = []

    async def _log(
        self, session: AsyncSession, msg: Inbound, user: User, handled_at: tuple,
        conv: ConversationState, replies: list[Reply], pressed: Button | None, started: float,
        privacy: _Privacy,
    ) -> None:
        codes = await self._hamlet_codes(session)
        now = clock.now()
        common = dict(
            at=now, channel=msg.channel, actor=None, text=None, latency_ms=None,
            user_ref="" if privacy.unlinked else user_ref(self.pseudonym_key, msg.channel,
                                                          msg.user_id),
            hamlet_code=None if privacy.unlinked else codes.get(user.hamlet_id),
        )
        kind, text = _describe(msg, pressed, privacy.personal)
        if privacy.unlinked:
            text = None
        flow, step = handled_at
        rows = [common | dict(direction="in", kind=kind, text=text, flow=flow, step=step)]
        latency = int((time.monotonic() - started) * 1000)
        rows += [common | dict(direction="out", kind="reply", latency_ms=latency,
                               flow=conv.flow, step=conv.step) for _reply in replies]
        # One Core executemany with a cached statement: ORM objects (or a multi-row VALUES
        # compiled afresh each turn) for log rows cost more than the rest of the turn.
        connection = await session.connection()
        await connection.execute(LOG_INSERT, rows)

    async def _hamlet_codes(self, session: AsyncSession) -> dict[int | None, str]:
        """Hamlet id -> code for the log, cached for a minute (hamlets rarely change)."""
        loaded_at, codes = self._codes
        if time.monotonic() - loaded_at > HAMLET_CODES_TTL:
            codes = {h.id: h.code for h in await Hamlets(session).all()}
            self._codes = (time.monotonic(), codes)
        return codes

    async def _apologise(self, msg: Inbound) -> list[Reply]:
        """Something broke: record the event and say so politely, in the person's language
        (the one known for them, else the default) even when recording fails."""
        locale = self.default_locale
        try:
            async with self.db.unit_of_work() as session:
                user = await Users(session).get(msg.channel, msg.user_id)
                locale = user.locale if user and user.locale else locale
                kind, logged = _describe(msg, None)
                conv = await Conversations(session).get(msg.channel, msg.user_id)
                unlinked = conv is not None and conv.flow in flows.UNLINKED_FLOWS
                InteractionLogs(session).append(InteractionLog(
                    channel=msg.channel, direction="in", kind="error",
                    text=None if unlinked else logged,
                    user_ref="" if unlinked else user_ref(self.pseudonym_key, msg.channel,
                                                          msg.user_id),
                ))
                await session.commit()
        except Exception:
            log.exception("could not record a failed %s message", msg.channel)
        return [Reply(translations(locale).gettext(APOLOGY))]


@dataclasses.dataclass
class _Replayed:
    """The answer of a turn committed before, given again."""

    replies: list[Reply]
    later: tuple = ()


def _same_press(msg: Inbound, pressed: Button | None, last: dict | None) -> bool:
    """The button the last turn handled, pressed again on the same message: a double tap.

    When that turn's new buttons replaced the old ones on the same message (an edit), a
    press matching them is a new press; when they came in a new message, the old message's
    button is the same tap again even if a new button shares its payload ("Gửi" then
    "Send mine anyway")."""
    if last is None or msg.offer_ref is None or msg.payload is None:
        return False
    same = last.get("offer") == msg.offer_ref and last.get("payload") == msg.payload
    return same and (pressed is None or not last.get("edited"))


def _flow_data(place: tuple[str, str] | None, data: dict) -> dict:
    """What is kept of a flow's data: nothing once it ends or hands back to the menu (a
    finished, cancelled or abandoned draft leaves nothing behind), all of it otherwise."""
    if place is None or place[0] == menu.FLOW.name:
        return {}
    return data


@dataclasses.dataclass(frozen=True)
class _Privacy:
    """How a turn is logged: `personal`, the step asks personal data (its answer is hidden,
    a button is logged by its payload); `unlinked`, the turn is in a flow that may concern a
    denunciation (flows.UNLINKED_FLOWS: no person reference, hamlet or text on its rows)."""

    personal: bool = False
    unlinked: bool = False


def _describe(msg: Inbound, pressed: Button | None,
              personal: bool = False) -> tuple[str, str | None]:
    """The log's kind of an inbound event, and the text we may keep (commands, buttons)."""
    if msg.command:
        return "command", f"/{msg.command}"[:MAX_LOGGED_TEXT]
    if msg.payload:
        label = pressed.label if pressed and not personal else msg.payload
        return "button", label[:MAX_LOGGED_TEXT]
    if msg.location:
        return "location", None
    if msg.contact:
        return "contact", REDACTED if personal else None
    if personal and msg.text.strip():
        return "text", REDACTED
    if msg.attachments:
        return "attachment", None
    if msg.unread:
        return msg.unread[:20], None
    return ("text" if msg.text.strip() else "empty"), None
