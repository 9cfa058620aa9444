"""Telegram: whole conversations through python-telegram-bot against a fake Bot API.

Polling mode (the fake serves getUpdates) and webhook mode (tests POST to the bot's route
on our aiohttp server, as Telegram does).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select

from bot.engine import Engine
from bot.flows import groups as group_flow
from bot.handlers.telegram import split_text
from bot.handlers.telegram_runtime import SECRET_HEADER, WEBHOOK_PATH, TelegramRuntime
from bot.handlers.telegram_updates import to_inbound
from bot.messages import Attachment, Button, Contact, Inbound, Reply
from bot.services import groups, outbox, roles
from bot.services.dispatcher import Dispatcher
from storage.db import Database
from storage.models import (
    GroupLink,
    Hamlet,
    InboundEvent,
    OutboxMessage,
    Petition,
    PetitionIdentity,
    User,
)
from storage.repositories import Communes
from tests.conftest import MAIN_MENU, PSEUDONYM_KEY, WEDNESDAY_MORNING, Clock
from tests.fake_telegram import (
    Call,
    FakeTelegram,
    callback_update,
    member_update,
    message_update,
)
from tests.loopback import ServedBot

TOKEN = "123:TEST"
SECRET = "s3cret-token"
STAFF_CHAT = -1001


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API."""
    server = await FakeTelegram(TOKEN).start()
    yield server
    await server.stop()


class Bot(ServedBot):
    """The bot under test: a TelegramRuntime on the fake, in polling or webhook mode."""

    channel, webhook_path, secret_header, secret = "telegram", WEBHOOK_PATH, SECRET_HEADER, SECRET

    def __init__(self, engine: Engine, db: Database, fake: FakeTelegram, webhook: bool) -> None:
        super().__init__(db, fake, TelegramRuntime(
            engine, db, token=TOKEN, api_url=fake.url, poll_timeout=1,
            webhook_url="https://bot.example.vn/webhook/telegram" if webhook else None,
            webhook_secret=SECRET if webhook else None,
        ), webhook)


@pytest.fixture(params=["polling", "webhook"])
async def bot(request, engine: Engine, demo_db: Database, fake: FakeTelegram):
    """The bot, in each mode."""
    running = await Bot(engine, demo_db, fake, request.param == "webhook").start()
    yield running
    await running.stop()


@pytest.fixture
async def hook(engine: Engine, demo_db: Database, fake: FakeTelegram):
    """The bot in webhook mode only."""
    running = await Bot(engine, demo_db, fake, webhook=True).start()
    yield running
    await running.stop()


OUT = ("sendMessage", "editMessageText")


class TgUser:
    """A Telegram user in a chat with the bot."""

    def __init__(self, bot: Bot, user_id: int, chat_id: int | None = None) -> None:
        self.bot, self.user_id, self.chat_id = bot, user_id, chat_id or user_id
        self.last: Call | None = None

    def _out(self) -> list[Call]:
        return [c for c in self.bot.fake.calls if c.method in OUT and c.chat_id == self.chat_id]

    async def _expect(self, before: int, replies: int) -> list[Call]:
        """Wait for `replies` new messages (with none expected: a short grace period)."""
        for _ in range(500 if replies else 10):
            if replies and len(self._out()) >= before + replies:
                break
            await asyncio.sleep(0.01)
        new = self._out()[before:]
        assert len(new) == replies, [c.params.get("text", "")[:60] for c in new]
        self.last = new[-1] if new else self.last
        return new

    async def send(self, text: str | None = None, replies: int = 1, **extra: Any) -> list[Call]:
        """Write to the bot and wait for its replies."""
        before = len(self._out())
        await self.bot.deliver(message_update(self.user_id, text, chat_id=self.chat_id, **extra))
        return await self._expect(before, replies)

    async def press(self, label: str, replies: int = 1, on: Call | None = None) -> list[Call]:
        """Press a button of the last message that had a keyboard."""
        message = on or self.keyboard
        before = len(self._out())
        await self.bot.deliver(callback_update(
            self.user_id, message.payload(label), message_id=message.result["message_id"],
            chat_id=self.chat_id))
        return await self._expect(before, replies)

    @property
    def keyboard(self) -> Call:
        """The newest message to this chat with buttons."""
        return next(c for c in reversed(self._out()) if c.labels)

    @property
    def text(self) -> str:
        return self.last.params["text"]


async def test_onboarding_and_the_menu_by_buttons(bot: Bot, fake: FakeTelegram):
    commands = fake.of("setMyCommands")
    assert {c.params.get("language_code") for c in commands} == {None, "vi", "en"}
    english = next(c for c in commands if c.params.get("language_code") == "en")
    assert {"command": "menu", "description": "Main menu"} in english.params["commands"]
    assert fake.of("setWebhook" if bot.webhook else "deleteWebhook")

    lan = TgUser(bot, 501)
    [greeting] = await lan.send("/start")
    assert "trợ lý tự động của UBND xã Chi Lăng" in greeting.params["text"]
    assert greeting.labels == ["Đồng ý", "Xem chi tiết", "Không đồng ý"]
    await lan.press("Đồng ý")
    await lan.press("Khu Hòa Bình")
    assert "Đã ghi nhận Anh/Chị ở Khu Hòa Bình" in lan.text
    assert lan.last.labels == MAIN_MENU
    await lan.press("Cài đặt")
    assert "Ngôn ngữ" in lan.last.labels
    await lan.send("2")  # a typed number works too
    assert lan.last.labels[-1] == "Bỏ qua"
    answered = await fake.wait_for("answerCallbackQuery", 3)
    assert all(not c.params.get("show_alert") for c in answered)
    # With a webhook, a press in a private chat is answered in the webhook's own reply.
    assert all(c.in_webhook_reply == bot.webhook for c in answered)


def _reply_keyboard(call: Call) -> dict[str, Any]:
    return call.params["reply_markup"]


async def test_the_keyboard_shares_the_phone_and_the_location_where_they_are_asked(
    hook: Bot, demo_db: Database,
):
    an = TgUser(hook, 503)
    await an.send("/start")
    await an.press("Đồng ý")
    await an.send("na ca")  # typed: Thôn Nà Ca
    assert "Đã ghi nhận Anh/Chị ở Thôn Nà Ca" in an.text
    await an.press("Gửi phản ánh, kiến nghị")
    await an.press("Khiếu nại")
    await an.send("Nguyễn Văn An")
    await an.send("Số 12, Khu Hòa Bình")
    assert "bấm “📞 Gửi số điện thoại”, gõ số, hoặc bấm “Bỏ qua”" in an.text
    assert _reply_keyboard(an.last) == {
        "keyboard": [[{"text": "📞 Gửi số điện thoại", "request_contact": True}],
                     [{"text": "Bỏ qua"}], [{"text": "Menu chính"}]],
        "resize_keyboard": True, "one_time_keyboard": True}
    await an.send(contact={"phone_number": "+84 912 345 678", "first_name": "An",
                           "user_id": 503})
    await an.press("Đất đai, xây dựng")
    await an.press("Khu Hòa Bình")
    assert an.text.startswith("Nếu Anh/Chị đang ở đúng chỗ đó, bấm “📍 Gửi vị trí hiện tại”.")
    assert _reply_keyboard(an.last)["keyboard"][0] == [
        {"text": "📍 Gửi vị trí hiện tại", "request_location": True}]
    await an.send(location={"latitude": 21.712, "longitude": 106.526})
    assert "inline_keyboard" in _reply_keyboard(an.last)  # the next step: inline buttons again
    await an.send("Quyết định thu hồi đất số 45 tính sai diện tích đất của gia đình tôi.")
    assert "rồi bấm “Xong”. Nếu không, bấm “Bỏ qua”." in an.text
    await an.send("Bỏ qua")  # a key typed as text is that choice too
    await an.press("Gửi")
    async with demo_db.session() as session:
        [petition] = (await session.exec(select(Petition))).all()
        [identity] = (await session.exec(select(PetitionIdentity))).all()
    assert (petition.latitude, petition.longitude) == (21.712, 106.526)
    assert identity.phone == "0912345678"


async def test_hamlet_pages_turn_by_editing_the_same_message(hook: Bot, demo_db: Database):
    async with demo_db.session() as session:
        commune = await Communes(session).current()
        for i in range(4):
            session.add(Hamlet(commune_id=commune.id, code=f"extra-{i}", name=f"Tổ {i + 1}",
                               position=20 + i))
        await session.commit()
    mai = TgUser(hook, 502)
    await mai.send("/start")
    await mai.press("Đồng ý")
    first = mai.last
    assert first.labels[-2:] == ["Trang sau", "Bỏ qua"] and len(first.labels) == 10
    [edit] = await mai.press("Trang sau")
    assert edit.method == "editMessageText"
    assert edit.params["message_id"] == first.result["message_id"]
    assert edit.labels[-2:] == ["Trang trước", "Bỏ qua"] and "Tổ 4" in edit.labels
    [menu] = await mai.press("Tổ 2", on=edit)
    assert menu.method == "sendMessage" and "Tổ 2" in menu.params["text"]


async def test_deep_link_photo_and_contact_reach_the_engine_as_neutral_events(
    hook: Bot, engine: Engine, fake: FakeTelegram, monkeypatch,
):
    seen: list[Inbound] = []
    original = engine.handle

    async def recording(msg: Inbound) -> list[Reply]:
        seen.append(msg)
        return await original(msg)

    monkeypatch.setattr(engine, "handle", recording)
    user = TgUser(hook, 503)
    await user.send("/start s_12")
    assert (seen[-1].command, seen[-1].start_parameter) == ("start", "s_12")
    photo = [{"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
             {"file_id": "big", "file_unique_id": "b", "width": 800, "height": 600,
              "file_size": 4}]
    await user.send(photo=photo, caption="Đèn đường hỏng")
    assert seen[-1].attachments == (Attachment("photo", "big", size=4),)
    assert seen[-1].text == "Đèn đường hỏng" and seen[-1].command is None
    await user.send(contact={"phone_number": "+84912345678", "first_name": "Lan",
                             "user_id": 503})
    assert seen[-1].contact == Contact("+84912345678", "Lan")
    await user.send(location={"latitude": 21.7, "longitude": 106.6})
    assert seen[-1].location == (21.7, 106.6)
    fake.files["big"] = b"JPEG"
    assert await hook.runtime.channel.fetch_file("big") == b"JPEG"


async def test_webhook_refuses_wrong_secret_and_malformed_json(hook: Bot, demo_db: Database,
                                                              fake: FakeTelegram):
    update = message_update(504, "/start")
    assert await hook.post(update, secret="wrong") == 401
    assert await hook.post(update, secret=None) == 401
    assert await hook.post(b"{not json") == 400
    assert await hook.post({"message": {}}) == 400  # no update_id
    assert await hook.post({"update_id": 5, "message": "oops"}) == 400
    await asyncio.sleep(0.1)
    assert fake.of("sendMessage") == []
    async with demo_db.session() as session:
        assert (await session.exec(select(InboundEvent))).all() == []


async def test_odd_updates_are_stored_and_button_presses_still_answered(hook: Bot,
                                                                        fake: FakeTelegram):
    """Updates Telegram would not send (fields missing or of the wrong type) crash nothing."""
    assert await hook.post({"update_id": 8, "callback_query": {"id": "cq8", "data": "x"}}) == 200
    assert await hook.post({"update_id": 9, "message": {"chat": {"id": "?"}, "text": 5}}) == 200
    assert await hook.post({"update_id": 10, "edited_message": {"text": "sửa"}}) == 200
    await fake.wait_for("answerCallbackQuery", 1)
    assert [c.params.get("callback_query_id") for c in fake.of("answerCallbackQuery")] == ["cq8"]
    await hook.deliver(message_update(511, "/start"))  # and the bot still answers people
    await fake.wait_for("sendMessage", 1, chat_id=511)


async def test_a_redelivered_update_is_processed_once(hook: Bot, demo_db: Database,
                                                     fake: FakeTelegram):
    update = message_update(505, "/start")
    assert await hook.post(update) == 200
    assert await hook.post(update) == 200
    await fake.wait_for("sendMessage", 1, chat_id=505)
    await asyncio.sleep(0.2)
    assert len(fake.of("sendMessage", 505)) == 1
    async with demo_db.session() as session:
        [row] = (await session.exec(select(InboundEvent))).all()
    assert (row.event_id, row.status) == (str(update["update_id"]), "done")


async def test_updates_left_pending_by_a_crash_are_processed_at_start(
    engine: Engine, demo_db: Database, fake: FakeTelegram,
):
    from bot.services import inbound_events

    await inbound_events.store(demo_db, "telegram", "77", message_update(506, "/start",
                                                                         update_id=77))
    running = await Bot(engine, demo_db, fake, webhook=True).start()
    try:
        await fake.wait_for("sendMessage", 1, chat_id=506)
    finally:
        await running.stop()


async def test_flood_control_waits_and_retries(hook: Bot, fake: FakeTelegram):
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    user = TgUser(hook, 507)
    await user.send("/start")
    assert "xã Chi Lăng" in user.text
    assert len(fake.of("sendMessage", 507)) == 1  # the refused call is not recorded as sent


async def test_a_user_who_blocked_the_bot_is_marked(hook: Bot, demo_db: Database,
                                                   fake: FakeTelegram):
    Clock(WEDNESDAY_MORNING)  # pushes to private chats wait out the night
    fake.blocked_chats.add(508)
    await hook.post(message_update(508, "/start"))
    for _ in range(200):
        async with demo_db.session() as session:
            user = (await session.exec(select(User).where(User.external_id == "508"))).first()
        if user is not None and user.blocked_at is not None:
            break
        await asyncio.sleep(0.02)
    assert user.blocked_at is not None
    assert await hook.post(member_update(508, 508, "kicked", "member")) == 200  # unblocked
    for _ in range(200):
        async with demo_db.session() as session:
            user = (await session.exec(select(User).where(User.external_id == "508"))).first()
        if user.blocked_at is None:
            break
        await asyncio.sleep(0.02)
    assert user.blocked_at is None

    async with demo_db.session() as session:
        await outbox.enqueue(session, outbox.Recipient("telegram", "508"), Reply("Thông báo"))
        await outbox.enqueue(session, outbox.Recipient("telegram", "509"), Reply("Thông báo"))
        await session.commit()
    dispatcher = Dispatcher(demo_db, {"telegram": hook.runtime.channel},
                            pseudonym_key=PSEUDONYM_KEY)
    assert await dispatcher.dispatch_due() == 1
    async with demo_db.session() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert [r.status for r in rows] == ["blocked", "sent"]


async def test_bot_added_to_groups_linked_and_removed(hook: Bot, demo_db: Database,
                                                     fake: FakeTelegram):
    async with demo_db.session() as session:
        await roles.grant(session, "telegram", "900", "admin", actor="test")
        await session.commit()
    stranger = TgUser(hook, 510, chat_id=-2001)
    assert await hook.post(member_update(510, -2001, "left", "member")) == 200
    [said] = await fake.wait_for("sendMessage", 1, chat_id=-2001)
    assert "Quản trị viên" in said.params["text"]
    await stranger.send("Chào mọi người", replies=0)  # ordinary chatter: ignored
    await stranger.send("/start")
    assert "nhắn riêng" in stranger.text
    await stranger.send("/link staff")
    assert "Chỉ quản trị viên" in stranger.text

    admin = TgUser(hook, 900, chat_id=-2002)
    assert await hook.post(member_update(900, -2002, "left", "administrator")) == 200
    [hint] = await fake.wait_for("sendMessage", 1, chat_id=-2002)
    assert "/link staff" in hint.params["text"] and "khu-1" in hint.params["text"]
    await admin.send("/link khu-2")
    assert "Khu Thống Nhất" in admin.text
    async with demo_db.session() as session:
        [link] = (await session.exec(select(GroupLink))).all()
    assert (link.chat_id, link.kind) == ("-2002", "hamlet")
    assert await hook.post(member_update(900, -2002, "administrator", "kicked")) == 200
    for _ in range(100):
        async with demo_db.session() as session:
            if not (await session.exec(select(GroupLink))).all():
                break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the link was not removed")


async def test_a_group_upgraded_to_a_supergroup_keeps_its_link(hook: Bot, demo_db: Database):
    async with demo_db.session() as session:
        await groups.link(session, "telegram", "-3003", staff=True, actor="test")
        await session.commit()
    moved = message_update(515, None, chat_id=-3003, migrate_to_chat_id=-1003003)
    assert await hook.post(moved) == 200
    for _ in range(100):
        async with demo_db.session() as session:
            if await groups.staff_chats(session) == [outbox.Recipient("telegram", "-1003003")]:
                break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the staff chat did not follow the migration")


async def test_staff_chat_buttons_only_work_for_staff(hook: Bot, demo_db: Database,
                                                     fake: FakeTelegram, monkeypatch):
    async with demo_db.session() as session:
        await groups.link(session, "telegram", str(STAFF_CHAT), staff=True, actor="test")
        await roles.grant(session, "telegram", "901", "staff", actor="test")
        assert await groups.staff_chats(session) == [outbox.Recipient("telegram",
                                                                      str(STAFF_CHAT))]
        await session.commit()
    pressed: list[str] = []

    async def take(ctx) -> None:
        pressed.append(ctx.msg.payload)
        ctx.say("Đã nhận xử lý.")

    monkeypatch.setitem(group_flow.STAFF_ACTIONS, "petition", take)
    await hook.runtime.channel.send(str(STAFF_CHAT), Reply(
        "Phản ánh mới PA-2026-000001", (Button("Nhận xử lý", "petition:take:1"),)))
    [notice] = await fake.wait_for("sendMessage", 1, chat_id=STAFF_CHAT)

    outsider = TgUser(hook, 511, chat_id=STAFF_CHAT)
    await outsider.press("Nhận xử lý", replies=0, on=notice)
    [answer] = await fake.wait_for("answerCallbackQuery", 1)
    assert answer.params["show_alert"] is True
    assert "Không được phép" in answer.params["text"]
    assert pressed == []

    staff = TgUser(hook, 901, chat_id=STAFF_CHAT)
    await staff.press("Nhận xử lý", replies=1, on=notice)
    assert pressed == ["petition:take:1"]
    answers = await fake.wait_for("answerCallbackQuery", 2)
    assert not answers[-1].params.get("show_alert")


async def test_one_chat_in_order_different_chats_at_once(hook: Bot, engine: Engine,
                                                        monkeypatch):
    order: dict[str, list[str]] = {}
    active = {"now": 0, "max": 0}

    async def slow_echo(msg: Inbound) -> list[Reply]:
        active["now"] += 1
        active["max"] = max(active["max"], active["now"])
        await asyncio.sleep(random.uniform(0, 0.02))
        order.setdefault(msg.user_id, []).append(msg.text)
        active["now"] -= 1
        return [Reply(msg.text)]

    monkeypatch.setattr(engine, "handle", slow_echo)
    chats = [601, 602, 603]
    sent = {str(c): [f"m{i}" for i in range(12)] for c in chats}
    for i in range(12):
        await asyncio.gather(*(hook.post(message_update(c, f"m{i}")) for c in chats))
    await hook.fake.wait_for("sendMessage", 36)
    assert order == sent
    assert active["max"] > 1
    for chat in chats:
        assert [c.params["text"] for c in hook.fake.of("sendMessage", chat)] == sent[str(chat)]


async def test_polling_survives_network_errors(engine: Engine, demo_db: Database,
                                              fake: FakeTelegram, monkeypatch):
    monkeypatch.setattr("bot.handlers.telegram_runtime.POLL_RETRY", (0.05, 0.2))
    fake.fail("getUpdates", 502, "Bad Gateway", times=3)
    running = await Bot(engine, demo_db, fake, webhook=False).start()
    try:
        fake.push(message_update(514, "/start"))
        await fake.wait_for("sendMessage", 1, chat_id=514)
        assert fake.faults["getUpdates"] == []
    finally:
        await running.stop()


def test_long_texts_are_split_on_paragraphs():
    paragraph = "Đoạn văn. " * 300  # about 3,000 characters
    parts = split_text(f"{paragraph}\n\n{paragraph}\n\n{paragraph}")
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    assert parts[0] == paragraph.strip()
    assert split_text("x" * 5000) == ["x" * 4096, "x" * 904]
    assert split_text("ngắn") == ["ngắn"]


def test_group_chatter_and_unknown_updates_become_nothing():
    assert to_inbound(message_update(10, "hello", chat_id=-5)) is None
    command = message_update(10, "/link@civic_test_bot staff", chat_id=-5)
    assert to_inbound(command) == Inbound("telegram", "10", text="/link@civic_test_bot staff",
                                          command="link", args="staff", language="vi",
                                          chat_id="-5")
    assert to_inbound({"update_id": 1}) is None
    # Fields of the wrong type (never sent by Telegram) are nothing, not a crash.
    assert to_inbound({"update_id": 2, "message": {"from": {"id": "x"}, "chat": []}}) is None
    assert to_inbound({"update_id": 3, "callback_query": {"from": 5}}) is None


async def test_a_slow_answer_shows_typing_first(hook: Bot, engine: Engine, fake: FakeTelegram,
                                               monkeypatch):
    monkeypatch.setattr("bot.handlers.telegram_runtime.TYPING_AFTER", 0.05)
    original = engine.handle

    async def slow(msg: Inbound) -> list[Reply]:
        await asyncio.sleep(0.2)
        return await original(msg)

    monkeypatch.setattr(engine, "handle", slow)
    await TgUser(hook, 512).send("/start")
    methods = [c.method for c in fake.calls if c.chat_id == 512]
    assert methods == ["sendChatAction", "sendMessage"]
    assert fake.of("sendChatAction")[0].params["action"] == "typing"


async def test_photos_and_documents_go_out_by_file_id_url_or_upload(
    engine: Engine, demo_db: Database, fake: FakeTelegram, tmp_path,
):
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "bien-ban.pdf").write_bytes(b"%PDF-1.4 test")
    runtime = TelegramRuntime(engine, demo_db, token=TOKEN, api_url=fake.url,
                              data_dir=tmp_path, poll_timeout=1)
    await runtime.start()
    try:
        await runtime.channel.send("513", Reply("Biên bản họp", attachments=(
            Attachment("photo", "AgACAgIAAxk"),
            Attachment("document", "files/bien-ban.pdf", "bien-ban.pdf"),
        )))
    finally:
        await runtime.stop()
    [text] = fake.of("sendMessage", 513)
    [photo] = fake.of("sendPhoto", 513)
    [document] = fake.of("sendDocument", 513)
    assert text.params["text"] == "Biên bản họp"
    assert photo.params["photo"] == "AgACAgIAAxk"
    assert document.params["document"] == {"filename": "bien-ban.pdf", "size": 13}
    assert document.params["caption"] == "bien-ban.pdf"
