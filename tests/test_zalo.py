"""Zalo: whole conversations through the Zalo edge against a fake Zalo Bot API.

Polling mode (the fake serves getUpdates) and webhook mode (tests POST to the bot's route
on our aiohttp server, as Zalo does), with both body shapes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import select

from bot.engine import Engine
from bot.handlers import zalo_client
from bot.handlers.zalo import ZaloChannel, event_id, render, split_text, to_inbound
from bot.handlers.zalo_client import ZaloClient, ZaloError
from bot.handlers.zalo_runtime import SECRET_HEADER, WEBHOOK_PATH, ZaloRuntime
from bot.messages import Attachment, Button, Inbound, Reply
from storage.db import Database
from storage.models import InboundEvent, Petition
from tests.conftest import WEDNESDAY_MORNING, Clock
from tests.fake_zalo import (
    Call,
    FakeZalo,
    image_event,
    sticker_event,
    text_event,
    unsupported_event,
    voice_event,
    wrapped,
)
from tests.loopback import ServedBot

TOKEN = "123:TEST"
SECRET = "s3cret-token"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    """Retries wait milliseconds, not seconds."""
    monkeypatch.setattr(zalo_client, "RETRIES", (0.01, 0.02))
    monkeypatch.setattr(zalo_client, "QUOTA_RETRIES", (0.01, 0.02))


@pytest.fixture
async def fake() -> AsyncIterator[FakeZalo]:
    """The fake Bot API."""
    server = await FakeZalo(TOKEN).start()
    yield server
    await server.stop()


class Bot(ServedBot):
    """The bot under test: a ZaloRuntime on the fake, in polling or webhook mode."""

    channel, webhook_path, secret_header, secret = "zalo", WEBHOOK_PATH, SECRET_HEADER, SECRET

    def __init__(self, engine: Engine, db: Database, fake: FakeZalo, webhook: bool,
                 **options: Any) -> None:
        super().__init__(db, fake, ZaloRuntime(
            engine, db, token=TOKEN, api_url=fake.url, poll_timeout=1,
            webhook_url="https://bot.example.vn/webhook/zalo" if webhook else None,
            webhook_secret=SECRET if webhook else None, **options,
        ), webhook)


@pytest.fixture(params=["polling", "webhook"])
async def bot(request, engine: Engine, demo_db: Database, fake: FakeZalo):
    """The bot, in each mode."""
    running = await Bot(engine, demo_db, fake, request.param == "webhook").start()
    yield running
    await running.stop()


@pytest.fixture
async def hook(engine: Engine, demo_db: Database, fake: FakeZalo):
    """The bot in webhook mode only."""
    running = await Bot(engine, demo_db, fake, webhook=True).start()
    yield running
    await running.stop()


class ZUser:
    """A Zalo user in a private chat with the bot."""

    def __init__(self, bot: Bot, user_id: str) -> None:
        self.bot, self.user_id = bot, user_id
        self.last: list[Call] = []

    def _out(self) -> list[Call]:
        return self.bot.fake.of("sendMessage", self.user_id)

    async def _expect(self, before: int, replies: int) -> list[Call]:
        """Wait for `replies` new messages (with none expected: a short grace period)."""
        for _ in range(500 if replies else 10):
            if replies and len(self._out()) >= before + replies:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.02)  # nothing more should come
        new = self._out()[before:]
        assert len(new) == replies, [c.text[:60] for c in new]
        self.last = new or self.last
        return new

    async def send(self, text: str, replies: int = 1) -> list[Call]:
        """Write to the bot and wait for its replies."""
        return await self.send_event(text_event(self.user_id, text), replies)

    async def send_event(self, event: dict[str, Any], replies: int = 1) -> list[Call]:
        """Send any event and wait for the replies."""
        before = len(self._out())
        await self.bot.deliver(event)
        return await self._expect(before, replies)

    @property
    def text(self) -> str:
        return "\n".join(c.text for c in self.last)


async def onboard(user: ZUser) -> None:
    """First contact by typing: the automated-assistant greeting, language, consent, hamlet."""
    [greeting] = await user.send("Xin chào")
    assert "trợ lý tự động của UBND xã Chi Lăng" in greeting.text
    assert greeting.text.endswith("1. Tiếng Việt\n2. English")
    await user.send("1")  # by number
    assert "1. Đồng ý\n2. Không đồng ý" in user.text
    await user.send("dong y")  # by label without diacritics
    await user.send("Khu Hòa Bình")  # by label
    assert "Đã ghi nhận Anh/Chị ở Khu Hòa Bình" in user.text


async def test_onboarding_menu_and_a_petition_with_a_photo(bot: Bot, fake: FakeZalo,
                                                          demo_db: Database):
    assert fake.of("getMe")
    assert fake.of("setWebhook" if bot.webhook else "deleteWebhook")
    if bot.webhook:
        assert fake.of("setWebhook")[0].params == {
            "url": "https://bot.example.vn/webhook/zalo", "secret_token": SECRET}
    lan = ZUser(bot, "u501")
    await onboard(lan)
    assert "1. Công khai thông tin\n2. Gửi phản ánh, kiến nghị" in lan.text
    await lan.send("2")  # menu by number
    await lan.send("Phản ánh, kiến nghị")  # by label
    await lan.send("gui an danh")  # by label without diacritics
    await lan.send("Đường sá, giao thông")
    await lan.send("Khu Hòa Bình")
    await lan.send("Bỏ qua")  # no location pin on Zalo
    await lan.send("Ổ gà lớn giữa đường vào khu, xe máy ngã nhiều lần.")
    url = "https://photo-stal.zadn.vn/abc.jpg"
    await lan.send_event(image_event("u501", url))
    assert lan.text.startswith("1 tệp đã đính kèm.")
    voice = "https://voice-stal.zadn.vn/v.aac"
    await lan.send_event(voice_event("u501", voice))
    assert lan.text.startswith("2 tệp đã đính kèm.")
    await lan.send("Xong")
    await lan.send("Gửi")
    assert "PA-" in lan.text
    async with demo_db.session() as session:
        [petition] = (await session.exec(select(Petition))).all()
    assert [(a["kind"], a["ref"], a["channel"]) for a in petition.attachments] == [
        ("photo", url, "zalo"), ("voice", voice, "zalo")]


async def test_sent_photos_are_kept_in_the_data_folder(engine: Engine, demo_db: Database,
                                                       fake: FakeZalo, tmp_path: Path):
    """Zalo's links may not last: a photo is downloaded on arrival; a failed one keeps its link."""
    fake.media["abc.jpg"] = b"JPEG-bytes"
    running = await Bot(engine, demo_db, fake, webhook=True, data_dir=tmp_path).start()
    try:
        lan = ZUser(running, "u520")
        await onboard(lan)
        for text in ("2", "Phản ánh, kiến nghị", "Gửi ẩn danh", "Đường sá, giao thông",
                     "Khu Hòa Bình", "Bỏ qua", "Ổ gà lớn giữa đường vào khu, xe máy ngã."):
            await lan.send(text)
        await lan.send_event(image_event("u520", f"{fake.url}/media/abc.jpg"))
        gone = f"{fake.url}/media/gone.jpg"
        await lan.send_event(image_event("u520", gone))
        assert lan.text.startswith("2 tệp đã đính kèm.")
        await lan.send("Xong")
        await lan.send("Gửi")
    finally:
        await running.stop()
    async with demo_db.session() as session:
        [petition] = (await session.exec(select(Petition))).all()
    kept, linked = (a["ref"] for a in petition.attachments)
    assert kept.startswith("received/zalo/") and kept.endswith(".jpg")
    assert (tmp_path / kept).read_bytes() == b"JPEG-bytes"
    assert linked == gone


async def test_webhook_refuses_wrong_secret_and_malformed_json(hook: Bot, demo_db: Database,
                                                              fake: FakeZalo):
    event = text_event("u504", "Xin chào")
    assert await hook.post(event, secret="wrong") == 401
    assert await hook.post(event, secret=None) == 401
    assert await hook.post(b"{not json") == 400
    assert await hook.post({"ok": True}) == 400  # no event
    assert await hook.post({"event_name": "message.text.received", "message": "oops"}) == 400
    await asyncio.sleep(0.1)
    assert fake.of("sendMessage") == []
    async with demo_db.session() as session:
        assert (await session.exec(select(InboundEvent))).all() == []


async def test_both_body_shapes_and_a_redelivered_event_processed_once(
    hook: Bot, demo_db: Database, fake: FakeZalo,
):
    flat = text_event("u505", "Xin chào", message_id="dup1")
    assert await hook.post(flat) == 200
    assert await hook.post(wrapped(flat)) == 200  # the same event in the documented shape
    assert await hook.post(flat) == 200
    await fake.wait_for("sendMessage", 1, chat_id="u505")
    other = text_event("u506", "Xin chào")
    assert await hook.post(wrapped(other)) == 200
    await fake.wait_for("sendMessage", 1, chat_id="u506")
    await asyncio.sleep(0.2)
    assert len(fake.of("sendMessage", "u505")) == 1
    await hook.runtime.events.flush()
    async with demo_db.session() as session:
        rows = (await session.exec(select(InboundEvent).order_by(InboundEvent.id))).all()
    assert [r.event_id for r in rows] == ["text:dup1", f"text:{other['message']['message_id']}"]
    assert all(r.status == "done" for r in rows)


async def test_events_left_pending_by_a_crash_are_processed_at_start(
    engine: Engine, demo_db: Database, fake: FakeZalo,
):
    from bot.services import inbound_events

    event = text_event("u507", "Xin chào", message_id="p1")
    await inbound_events.store(demo_db, "zalo", "text:p1", event)
    running = await Bot(engine, demo_db, fake, webhook=True).start()
    try:
        await fake.wait_for("sendMessage", 1, chat_id="u507")
    finally:
        await running.stop()


async def test_stickers_voice_and_unsupported_messages_each_get_an_answer(
        hook: Bot, engine: Engine, fake: FakeZalo, monkeypatch, caplog):
    user = ZUser(hook, "u508")
    await onboard(user)
    [thanks] = await user.send_event(sticker_event("u508"))
    assert thanks.text.startswith("Cảm ơn Anh/Chị! 😊")
    assert "\n\n1. Công khai thông tin" in thanks.text  # the menu stays on screen
    seen: list[Inbound] = []
    original = engine.handle

    async def recording(msg: Inbound) -> list[Reply]:
        seen.append(msg)
        return await original(msg)

    monkeypatch.setattr(engine, "handle", recording)
    [voice] = await user.send_event(voice_event("u508", "https://voice.zadn.vn/v.aac"))
    assert seen[-1].attachments == (Attachment("voice", "https://voice.zadn.vn/v.aac"),)
    assert voice.text.startswith("Trợ lý đã nhận tin nhắn thoại của Anh/Chị. Anh/Chị có muốn "
                                 "gửi thành phản ánh")
    assert voice.text.endswith("1. Gửi thành phản ánh\n2. Menu chính")
    with caplog.at_level(logging.INFO, logger="bot.handlers.zalo_runtime"):
        [withheld] = await user.send_event(unsupported_event("u508"))
    assert seen[-1].unread == "unsupported"
    assert "trợ lý chưa mở được loại tin này nên chưa lưu lại" in withheld.text
    assert "unsupported message received" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_ok_false_with_http_200_raises_and_is_logged(fake: FakeZalo, caplog):
    client = ZaloClient(TOKEN, fake.url)
    fake.fail("sendMessage", 200, 400, "Bad request: The chat_id must not be empty")
    try:
        with pytest.raises(ZaloError) as raised:
            await client.send_message("", "Xin chào")
    finally:
        await client.close()
    assert raised.value.code == 400
    assert "chat_id must not be empty" in str(raised.value)
    assert "chat_id must not be empty" in caplog.text
    assert TOKEN not in caplog.text and TOKEN not in str(raised.value)
    assert "127.0.0.1" not in caplog.text


async def test_quota_exceeded_then_success_and_network_errors_retry(fake: FakeZalo, caplog):
    client = ZaloClient(TOKEN, fake.url)
    fake.fail("sendMessage", 429, 429, "Quota exceeded", times=2)
    try:
        assert (await client.send_message("u1", "Xin chào"))["message_id"]
    finally:
        await client.close()
    assert len(fake.of("sendMessage")) == 1
    fake.fail("sendMessage", 429, 429, "Quota exceeded", times=5)
    client = ZaloClient(TOKEN, fake.url)
    try:
        with pytest.raises(ZaloError):
            await client.send_message("u1", "Xin chào")
    finally:
        await client.close()
    down = ZaloClient(TOKEN, "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(ZaloError) as raised:
        await down.get_me()
    await down.close()
    assert "network" in str(raised.value)
    assert TOKEN not in caplog.text + str(raised.value)


async def test_polling_survives_errors_and_waits_out_empty_polls(
    engine: Engine, demo_db: Database, fake: FakeZalo, monkeypatch,
):
    monkeypatch.setattr("bot.handlers.zalo_runtime.POLL_RETRY", (0.05, 0.2))
    fake.fail("getUpdates", 502, 502, "Bad Gateway", times=2)
    fake.fail("getUpdates", 200, 408, "Request timeout")
    fake.fail("getUpdates", 408, 408, "Request timeout")  # the same as an HTTP status
    running = await Bot(engine, demo_db, fake, webhook=False).start()
    try:
        fake.push(text_event("u509", "Xin chào"))
        await fake.wait_for("sendMessage", 1, chat_id="u509")
        assert fake.faults["getUpdates"] == []
        assert running.runtime.up
    finally:
        await running.stop()


async def test_long_replies_are_split_at_2000_characters(hook: Bot, fake: FakeZalo):
    paragraph = "Đoạn văn dài. " * 100  # 1,400 characters
    text = f"{paragraph}\n\n{paragraph}\n\n{paragraph}"
    await hook.runtime.channel.send("u510", Reply(text, (Button("Đồng ý", "yes"),)))
    parts = [c.text for c in fake.of("sendMessage", "u510")]
    assert len(parts) == 3 and all(len(p) <= 2000 for p in parts)
    assert parts[0] == paragraph.strip()
    assert parts[-1].endswith("1. Đồng ý")
    assert split_text("x" * 4500) == ["x" * 2000, "x" * 2000, "x" * 500]


async def test_photos_by_url_signed_link_or_text(engine: Engine, demo_db: Database,
                                                fake: FakeZalo, tmp_path):
    sent_at = Clock(WEDNESDAY_MORNING)
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "ve.png").write_bytes(b"PNG")
    (tmp_path / "files" / "bien-ban.pdf").write_bytes(b"%PDF")
    reply = Reply("Vé của Anh/Chị", attachments=(
        Attachment("photo", "https://example.vn/a.jpg", "Ảnh"),
        Attachment("photo", "files/ve.png", "Vé QR"),
        Attachment("document", "files/bien-ban.pdf", "bien-ban.pdf"),
    ))
    running = await Bot(engine, demo_db, fake, webhook=True, data_dir=tmp_path,
                        public_base_url="https://bot.example.vn").start()
    try:
        await running.runtime.channel.send("u511", reply)
        [text] = fake.of("sendMessage", "u511")
        photos = fake.of("sendPhoto", "u511")
        assert [p.params["photo"] for p in photos][0] == "https://example.vn/a.jpg"
        signed = photos[1].params["photo"]
        assert signed.startswith("https://bot.example.vn/media/zalo/")
        assert photos[1].params["caption"] == "Vé QR"
        assert "bien-ban.pdf: https://bot.example.vn/media/zalo/" in text.text
        # The link names no server path, not even the file's place in the data folder.
        assert signed.endswith(".png") and signed.count("/") == 5
        assert str(tmp_path) not in text.text + signed and "files" not in signed + text.text
        local = signed.replace("https://bot.example.vn", running.url)
        sent_at.now = WEDNESDAY_MORNING + timedelta(days=7, seconds=-1)
        async with running.http.get(local) as resp:
            assert (resp.status, await resp.read()) == (200, b"PNG")
        sent_at.now = WEDNESDAY_MORNING + timedelta(days=7)  # links last 7 days
        async with running.http.get(local) as resp:
            assert resp.status == 404
        sent_at.now = WEDNESDAY_MORNING
        async with running.http.get(local.replace("/media/zalo/", "/media/zalo/0")) as resp:
            assert resp.status == 404
        async with running.http.get(f"{running.url}/media/zalo/abc/..%2F..%2Fetc") as resp:
            assert resp.status == 404
    finally:
        await running.stop()
    bare = ZaloChannel(ZaloClient(TOKEN, fake.url))  # no PUBLIC_BASE_URL: names only
    await bare.send("u512", reply)
    await bare.client.close()
    [text] = fake.of("sendMessage", "u512")
    assert [p.params["photo"] for p in fake.of("sendPhoto", "u512")] == [
        "https://example.vn/a.jpg"]
    assert text.text == "Vé của Anh/Chị\n📎 Vé QR\n📎 bien-ban.pdf"


def test_events_become_neutral_inbounds():
    assert event_id(text_event("u1", "hi", message_id="82599fa32f56d00e8941")) == (
        "text:82599fa32f56d00e8941")
    odd = unsupported_event("u1", message_id="x" * 80)
    assert event_id(odd).startswith("unsupported:sha256-") and len(event_id(odd)) <= 64
    assert to_inbound(text_event("u1", "/start s_1")) == Inbound(
        "zalo", "u1", text="/start s_1", command="start", args="s_1")
    photo = image_event("u1", "https://p.zadn.vn/x.jpg", caption="Đèn hỏng")
    assert to_inbound(photo) == Inbound("zalo", "u1", text="Đèn hỏng", attachments=(
        Attachment("photo", "https://p.zadn.vn/x.jpg"),))
    assert to_inbound(sticker_event("u1")) == Inbound("zalo", "u1", unread="sticker")
    assert to_inbound(unsupported_event("u1")) == Inbound("zalo", "u1", unread="unsupported")
    in_group = text_event("u1", "@Bot Civic /link khu-1", chat_id="g1", group=True)
    assert to_inbound(in_group) is None  # groups off by default
    assert to_inbound(in_group, groups=True) == Inbound(
        "zalo", "u1", text="/link khu-1", command="link", args="khu-1", chat_id="g1")
    chatter = text_event("u1", "@Bot Civic chào", chat_id="g1", group=True)
    assert to_inbound(chatter, groups=True) is None
    assert render(Reply("Chọn:", (Button("Đồng ý", "y"), Button("Không", "n")))) == (
        "Chọn:\n\n1. Đồng ý\n2. Không")


async def test_run_serves_telegram_and_zalo_together(tmp_path):
    Clock(WEDNESDAY_MORNING)  # pushes to private chats wait out the night
    from bot import server
    from bot.app import build
    from bot.config import Settings
    from bot.services import outbox
    from tests.fake_telegram import FakeTelegram, message_update

    telegram, zalo = await FakeTelegram("42:RUN").start(), await FakeZalo(TOKEN).start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(
        _env_file=None, database_url=f"sqlite:///{tmp_path / 'run.db'}", data_dir=tmp_path,
        telegram_bot_token="42:RUN", telegram_api_url=telegram.url, http_port=port,
        zalo_bot_token=TOKEN, zalo_api_url=zalo.url,
        zalo_webhook_url="https://bot.example.vn/webhook/zalo", zalo_webhook_secret=SECRET,
    )
    app = build(settings)
    stop = asyncio.Event()
    serving = asyncio.create_task(server.serve(app, stop))
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(250):
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    async with http.get(base + "/healthz") as resp:
                        if (await resp.json())["channels"] == {"telegram": True, "zalo": True}:
                            break
                await asyncio.sleep(0.02)
            else:
                raise AssertionError("not healthy in time")
            async with http.post(base + WEBHOOK_PATH, json=wrapped(text_event("u700", "Chào")),
                                 headers={SECRET_HEADER: SECRET}) as resp:
                assert resp.status == 200
        telegram.push(message_update(700, "/start"))
        [greeting] = await zalo.wait_for("sendMessage", 1, chat_id="u700")
        assert "trợ lý tự động" in greeting.text
        await telegram.wait_for("sendMessage", 1, chat_id=700)
        async with app.db.session() as session:
            await outbox.enqueue(session, outbox.Recipient("zalo", "u701"), Reply("Thông báo"))
            await session.commit()
        [notice] = await zalo.wait_for("sendMessage", 1, chat_id="u701")
        assert notice.text == "Thông báo"
    finally:
        stop.set()
        await serving
        await app.close()
        await telegram.stop()
        await zalo.stop()


async def _dispatch(runtime: ZaloRuntime, db: Database) -> int:
    """Send what the outbox holds for Zalo now."""
    from bot.services.dispatcher import Dispatcher
    from tests.conftest import PSEUDONYM_KEY

    return await Dispatcher(db, {"zalo": runtime.channel},
                            pseudonym_key=PSEUDONYM_KEY).dispatch_due()


async def _enqueue(db: Database, chat_id: str, reply: Reply) -> None:
    from bot.services import outbox

    async with db.session() as session:
        await outbox.enqueue(session, outbox.Recipient("zalo", chat_id), reply)
        await session.commit()


async def test_a_notice_s_numbered_choice_can_be_typed(hook: Bot, demo_db: Database):
    Clock(WEDNESDAY_MORNING)  # pushes to private chats wait out the night
    user = ZUser(hook, "u520")
    await onboard(user)
    await _enqueue(demo_db, "u520", Reply("Có thông báo mới.", (Button("Trợ giúp", "go:help"),)))
    assert await _dispatch(hook.runtime, demo_db) == 1
    assert user._out()[-1].text == "Có thông báo mới.\n\n1. Trợ giúp"
    await user.send("1")
    assert "trợ lý tự động" in user.text


async def _hamlet_with_head(db: Database, group: str = "g-khu1") -> None:
    from bot.services import groups, roles

    async with db.session() as session:
        await groups.link(session, "zalo", group, hamlet="khu-1", title="Nhóm Khu Hòa Bình",
                          actor="test")
        await roles.grant(session, "zalo", "u600", "hamlet_head", ["khu-1"], actor="test")
        await session.commit()


async def test_hamlet_group_notices_go_to_the_hamlet_head_to_relay(hook: Bot, demo_db: Database,
                                                                  fake: FakeZalo):
    from storage.models import InteractionLog, OutboxMessage

    await _hamlet_with_head(demo_db)
    head = ZUser(hook, "u600")
    await onboard(head)
    await _enqueue(demo_db, "g-khu1", Reply("Họp khu dân cư lúc 19 giờ thứ Bảy.",
                                            (Button("Xem", "go:help"),)))
    assert await _dispatch(hook.runtime, demo_db) == 1  # handed to the head
    assert fake.of("sendMessage", "g-khu1") == []
    assert await _dispatch(hook.runtime, demo_db) == 2
    notice, hint = head._out()[-2:]
    assert notice.text == "Họp khu dân cư lúc 19 giờ thứ Bảy."  # ready to forward as is
    assert "“Nhóm Khu Hòa Bình”" in hint.text and hint.text.endswith("1. Đã chuyển tiếp")
    await head.send("1")
    assert "đã chuyển tiếp" in head.text.lower()
    async with demo_db.session() as session:
        relay = (await session.exec(select(OutboxMessage).where(
            OutboxMessage.kind == "relay", OutboxMessage.chat_id == "u600"))).one()
        logged = (await session.exec(select(InteractionLog).where(
            InteractionLog.kind == "relayed_by_hamlet_head"))).all()
    assert (relay.chat_id, relay.status) == ("u600", "relayed") and len(logged) == 1


async def test_with_zalo_groups_on_notices_go_to_the_group_and_fall_back(
    engine: Engine, demo_db: Database, fake: FakeZalo,
):
    await _hamlet_with_head(demo_db)
    running = await Bot(engine, demo_db, fake, webhook=True, groups=True).start()
    try:
        await _enqueue(demo_db, "g-khu1", Reply("Thông báo 1", (Button("Xem", "go:help"),)))
        assert await _dispatch(running.runtime, demo_db) == 1
        [posted] = fake.of("sendMessage", "g-khu1")
        assert posted.text == "Thông báo 1"  # no choices in a group
        fake.fail("sendMessage", 200, 400, "Bad request: the bot is not in this group")
        await _enqueue(demo_db, "g-khu1", Reply("Thông báo 2"))
        await _dispatch(running.runtime, demo_db)
        await _dispatch(running.runtime, demo_db)
        assert [c.text for c in fake.of("sendMessage", "u600")][0] == "Thông báo 2"
        admin = text_event("u900", "@Bot Civic /link khu-2", chat_id="g-khu2", group=True)
        async with demo_db.session() as session:
            from bot.services import groups, roles

            await roles.grant(session, "zalo", "u900", "admin", actor="test")
            await session.commit()
        assert await running.post(admin) == 200
        [linked] = await fake.wait_for("sendMessage", 1, chat_id="g-khu2")
        assert "Khu Thống Nhất" in linked.text
        async with demo_db.session() as session:
            assert (await groups.get(session, "zalo", "g-khu2")).kind == "hamlet"
    finally:
        await running.stop()


async def test_a_hamlet_without_a_head_leaves_the_notice_failing(hook: Bot, demo_db: Database):
    from bot.services import groups
    from storage.models import OutboxMessage

    async with demo_db.session() as session:
        await groups.link(session, "zalo", "g-khu3", hamlet="khu-2", actor="test")
        await session.commit()
    await _enqueue(demo_db, "g-khu3", Reply("Thông báo"))
    assert await _dispatch(hook.runtime, demo_db) == 0
    async with demo_db.session() as session:
        [row] = (await session.exec(select(OutboxMessage))).all()
    assert row.status == "pending" and "NoHamletHead" in row.last_error
