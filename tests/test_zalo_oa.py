"""Zalo OA: OAuth and token rotation, the signed webhook, buttons, follow/unfollow, the
messaging window and a whole first conversation, against a fake OA API + OAuth server."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlmodel import select

from bot.engine import Engine
from bot.handlers.zalo_oa import (
    OUTSIDE_WINDOW_REASON,
    PAYLOAD_PREFIX,
    ZaloOAChannel,
    button_payload,
    event_id,
    render,
    to_inbound,
)
from bot.handlers.zalo_oa_client import ZaloOAClient, ZaloOAError, ZaloOAuth
from bot.handlers.zalo_oa_runtime import (
    SIGNATURE_HEADER,
    WEBHOOK_PATH,
    ZaloOARuntime,
    signature,
)
from bot.handlers.zalo_oa_tokens import NoTokens, TokenStore
from bot.messages import Attachment, Button, Inbound, Reply
from storage import clock
from storage.db import Database
from storage.models import InboundEvent, OutboxMessage, User, ZaloOAFollower, ZaloOAToken
from tests.conftest import WEDNESDAY_MORNING, Clock
from tests.fake_zalo_oa import (
    APP_ID,
    APP_SECRET,
    SECRET_KEY,
    FakeZaloOA,
    file_event,
    follow_event,
    image_event,
    location_event,
    signed,
    sticker_event,
    text_event,
)
from tests.loopback import ServedBot


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloOA]:
    server = await FakeZaloOA().start()
    yield server
    await server.stop()


def _store(db: Database, fake: FakeZaloOA) -> TokenStore:
    return TokenStore(db, ZaloOAuth(APP_ID, APP_SECRET, fake.url))


class Bot(ServedBot):
    """The OA runtime on the fake, behind our aiohttp server on loopback."""

    channel = "zalo_oa"

    def __init__(self, engine: Engine, db: Database, fake: FakeZaloOA,
                 data_dir: Path | None = None) -> None:
        access, refresh = fake.issue()
        super().__init__(db, fake, ZaloOARuntime(
            engine, db, app_id=APP_ID, secret_key=SECRET_KEY, app_secret=APP_SECRET,
            access_token=access, refresh_token=refresh, api_url=fake.url, oauth_url=fake.url,
            data_dir=data_dir))

    async def post(self, raw: bytes, mac: str | None) -> int:
        headers = {SIGNATURE_HEADER: mac} if mac is not None else {}
        async with self.http.post(self.url + WEBHOOK_PATH, data=raw, headers=headers) as resp:
            return resp.status

    async def deliver(self, event: dict[str, Any], replies: int = 1) -> list:
        """Post a signed event and wait for `replies` new messages."""
        before = len(self.fake.messages())
        assert await self.post(*signed(event)) == 200
        for _ in range(500 if replies else 10):
            if replies and len(self.fake.messages()) >= before + replies:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.03)
        new = self.fake.messages()[before:]
        assert len(new) == replies, [c.text[:60] for c in new]
        return new


@pytest.fixture
async def bot(engine: Engine, demo_db: Database, fake: FakeZaloOA):
    running = await Bot(engine, demo_db, fake).start()
    yield running
    await running.stop()


def test_the_signature_is_plain_sha256_of_app_id_body_timestamp_and_key():
    body = b'{"app_id":"123","timestamp":"1700000000000"}'
    assert signature("123", body, "1700000000000", "key") == hashlib.sha256(
        b'123{"app_id":"123","timestamp":"1700000000000"}1700000000000key').hexdigest()
    assert signature("123", body, "1700000000000", "key") == (
        "610c09633380f6c0a99e3fe8a62fab70849829d97707ee35a8c78f8ddbecfbc1")


async def test_bad_or_missing_signatures_are_refused_and_nothing_is_processed(
    bot: Bot, demo_db: Database, fake: FakeZaloOA,
):
    event = text_event("u1", "Xin chào")
    raw, mac = signed(event)
    assert await bot.post(raw, None) == 401
    assert await bot.post(raw, "mac=" + "0" * 64) == 401
    assert await bot.post(raw, signed(event, "wrong-key")[1]) == 401
    assert await bot.post(raw.replace(b"Xin", b"Xim"), mac) == 401  # body changed
    assert await bot.post(b"{not json", mac) == 401
    other = dict(event, app_id="999")
    assert await bot.post(*signed(other)) == 401
    await asyncio.sleep(0.1)
    assert fake.messages() == []
    async with demo_db.session() as session:
        assert (await session.exec(select(InboundEvent))).all() == []
    [greeting] = await bot.deliver(event)  # the same event, signed right
    assert greeting.to == {"message_id": event["message"]["msg_id"]}  # quotes the user
    await bot.deliver(event, replies=0)  # redelivered: stored once, answered once
    assert await bot.post(raw, mac.upper().replace("MAC=", "mac=")) == 200  # hex in capitals


def test_choices_become_up_to_five_buttons_or_numbered_lines():
    five = tuple(Button(f"Mục {i}", f"go:{i}") for i in range(1, 6))
    [message] = render(Reply("Chọn một mục:", five))
    assert message["text"] == "Chọn một mục:"
    buttons = message["attachment"]["payload"]["buttons"]
    assert [b["type"] for b in buttons] == ["oa.query.hide"] * 5
    assert buttons[0] == {"title": "Mục 1", "type": "oa.query.hide",
                          "payload": button_payload("go:1")}
    six = (*five, Button("Mục 6", "go:6"))
    [message] = render(Reply("Chọn một mục:", six))
    assert "attachment" not in message
    assert message["text"] == "Chọn một mục:\n\n" + "\n".join(
        f"{i}. Mục {i}" for i in range(1, 7))
    long = render(Reply("Đoạn văn. " * 300, five[:2]))
    assert len(long) == 2 and all(len(m["text"]) <= 2000 for m in long)
    assert "attachment" not in long[0] and len(long[1]["attachment"]["payload"]["buttons"]) == 2
    [linked] = render(Reply("Biên bản", attachments=(
        Attachment("document", "https://x.vn/b.pdf", "b.pdf"), Attachment("photo", "f/a.png"))))
    assert linked["text"] == "Biên bản\n📎 b.pdf: https://x.vn/b.pdf\n📎 photo"
    # a tap comes back as text carrying the payload
    assert to_inbound(text_event("u1", button_payload("go:3"))) == Inbound(
        "zalo_oa", "u1", payload="go:3")
    # text a person types beginning with the prefix is text, not a button press
    typed = to_inbound(text_event("u1", PAYLOAD_PREFIX + "go:3"))
    assert (typed.payload, typed.text) == (None, PAYLOAD_PREFIX + "go:3")


def test_events_become_neutral_inbounds():
    assert to_inbound(text_event("u1", "/start s_1")) == Inbound(
        "zalo_oa", "u1", text="/start s_1", command="start", args="s_1")
    assert to_inbound(image_event("u1", "https://p.zdn.vn/a.jpg")).attachments == (
        Attachment("photo", "https://p.zdn.vn/a.jpg"),)
    assert to_inbound(file_event("u1", "https://f.zdn.vn/d.pdf", "don.pdf")).attachments == (
        Attachment("document", "https://f.zdn.vn/d.pdf", "don.pdf", size=2048),)
    assert to_inbound(location_event("u1", 21.03, 105.85)).location == (21.03, 105.85)
    assert to_inbound(sticker_event("u1")) == Inbound("zalo_oa", "u1", unread="sticker")
    assert to_inbound(follow_event("u1")) is None
    assert event_id(text_event("u1", "x", msg_id="abc")) == "text:abc"
    follow = follow_event("u1")
    assert event_id(follow) == f"follow:u1:{follow['timestamp']}"


async def test_a_follower_is_onboarded_to_the_menu_and_tagged_by_hamlet(
    bot: Bot, fake: FakeZaloOA, demo_db: Database,
):
    [greeting] = await bot.deliver(follow_event("u7"))
    assert greeting.to == {"user_id": "u7"}  # nothing to quote: a first message
    assert "trợ lý tự động của UBND xã Chi Lăng" in greeting.text
    assert [b["title"] for b in greeting.buttons] == ["Đồng ý", "Xem chi tiết", "Không đồng ý"]
    [notice] = await bot.deliver(text_event("u7", greeting.buttons[1]["payload"]))  # a tap
    assert "Ai chịu trách nhiệm: UBND xã Chi Lăng" in notice.text
    assert [b["title"] for b in notice.buttons] == ["Đồng ý", "Không đồng ý"]
    [hamlets] = await bot.deliver(text_event("u7", "dong y"))  # typed, no diacritics
    assert "Khu Hòa Bình" in hamlets.text or any(
        b["title"] == "Khu Hòa Bình" for b in hamlets.buttons)
    tap = text_event("u7", "Khu Hòa Bình")
    [menu] = await bot.deliver(tap)
    assert menu.to == {"message_id": tap["message"]["msg_id"]}
    assert "Đã ghi nhận Anh/Chị ở Khu Hòa Bình" in menu.text
    assert "1. Công khai thông tin\n2. Gửi phản ánh, kiến nghị" in menu.text  # 6 choices
    assert "attachment" not in menu.body["message"]
    [tagged] = await fake.wait_for("/tag/tagfollower")
    assert tagged.body == {"user_id": "u7", "tag_name": "Khu Hòa Bình"}
    await bot.deliver(text_event("u7", "6"))  # the menu's "Help" by number
    assert len(fake.of("/tag/tagfollower")) == 1  # tagged once
    async with demo_db.session() as session:
        user = (await session.exec(select(User).where(User.channel == "zalo_oa"))).one()
        follower = await session.get(ZaloOAFollower, "u7")
    assert user.onboarded_at is not None and follower.tag == "Khu Hòa Bình"
    assert follower.following
    # another hamlet: the old tag comes off, the new one goes on; a refused tag is retried
    from storage.models import Hamlet

    async with demo_db.session() as session:
        other = (await session.exec(select(Hamlet).where(Hamlet.code == "khu-2"))).one()
        user.hamlet_id = other.id
        session.add(user)
        await session.commit()
    fake.fail("/tag/tagfollower", -201, "Parameters are invalid")
    await bot.runtime.tag("u7")
    await bot.runtime.tag("u7")
    assert [c.body for c in fake.of("/tag/tagfollower")][-1] == {"user_id": "u7",
                                                                 "tag_name": other.name}
    assert fake.of("/tag/rmfollowerfromtag")[-1].body["tag_name"] == "Khu Hòa Bình"
    async with demo_db.session() as session:
        assert (await session.get(ZaloOAFollower, "u7")).tag == other.name


async def test_unfollow_blocks_and_follow_again_unblocks(bot: Bot, demo_db: Database):
    await bot.deliver(follow_event("u8"))
    await bot.deliver(follow_event("u8", "unfollow"), replies=0)
    async with demo_db.session() as session:
        user = (await session.exec(select(User).where(User.external_id == "u8"))).one()
        assert user.blocked_at is not None
        assert not (await session.get(ZaloOAFollower, "u8")).following
    await bot.deliver(follow_event("u8"))
    async with demo_db.session() as session:
        user = (await session.exec(select(User).where(User.external_id == "u8"))).one()
    assert user.blocked_at is None


async def test_notices_outside_the_window_are_recorded_not_dropped(
    demo_db: Database, fake: FakeZaloOA,
):
    Clock(WEDNESDAY_MORNING)  # pushes to private chats wait out the night
    from bot.services import outbox, yearly_report
    from bot.services.dispatcher import Dispatcher
    from tests.conftest import PSEUDONYM_KEY

    now = clock.now()
    access, refresh = fake.issue()
    tokens = _store(demo_db, fake)
    await tokens.seed(access, refresh)
    client = ZaloOAClient(tokens, fake.url)
    Clock(now)
    channel = ZaloOAChannel(client, demo_db)
    async with demo_db.session() as session:
        session.add(ZaloOAFollower(user_id="recent", last_interaction_at=now - timedelta(days=6)))
        session.add(ZaloOAFollower(user_id="old", last_interaction_at=now - timedelta(days=8)))
        session.add(ZaloOAFollower(user_id="refused", last_interaction_at=now))
        for chat in ("recent", "old", "never", "refused"):
            await outbox.enqueue(session, outbox.Recipient("zalo_oa", chat),
                                 Reply("Lịch tiêm chủng tháng 12", (Button("Xem", "go:help"),)),
                                 broadcast_id=1)
        await session.commit()
    fake.outside_window.add("refused")  # Zalo knows better than our record
    dispatcher = Dispatcher(demo_db, {"zalo_oa": channel}, pseudonym_key=PSEUDONYM_KEY)
    try:
        assert await dispatcher.dispatch_due() == 1
    finally:
        await client.close()
        await tokens.auth.close()
    [sent] = [c for c in fake.messages() if c.to == {"user_id": "recent"}]
    assert [b["payload"] for b in sent.buttons] == [button_payload("go:help")]
    async with demo_db.session() as session:
        rows = {r.chat_id: r for r in (await session.exec(select(OutboxMessage))).all()}
        figures = await yearly_report.compute(session, now.year, "UTC", now=now)
    assert rows["recent"].status == "sent"
    for chat in ("old", "never", "refused"):
        assert (rows[chat].status, rows[chat].last_error) == ("failed", OUTSIDE_WINDOW_REASON)
        assert rows[chat].attempts == 1  # not retried
    assert figures.deliveries["failed"] == 3 and figures.deliveries["sent"] == 1


async def test_authorize_link_uses_pkce_and_the_code_exchange_is_stored(
    db: Database, fake: FakeZaloOA,
):
    tokens = _store(db, fake)
    with pytest.raises(NoTokens):
        await tokens.access_token()
    link = await tokens.begin_authorization("https://bot.example.vn/zalo-oa/callback", fake.url)
    parts = urlsplit(link)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.path == "/v4/oa/permission"
    assert query["app_id"] == APP_ID
    assert query["redirect_uri"] == "https://bot.example.vn/zalo-oa/callback"
    assert len(query["code_challenge"]) == 43 and "=" not in query["code_challenge"]
    fake.codes["CODE1"] = query["code_challenge"]
    with pytest.raises(ZaloOAError, match="state does not match"):
        await tokens.finish_authorization("CODE1", state="forged")
    await tokens.finish_authorization("CODE1", state=query["state"])
    await tokens.auth.close()
    [exchange] = fake.of("/v4/oa/access_token")
    assert exchange.body["grant_type"] == "authorization_code"
    async with db.session() as session:
        row = await session.get(ZaloOAToken, APP_ID)
    assert (row.access_token, row.refresh_token) == ("AT1", "RT1")
    assert row.code_verifier is None and row.state is None
    assert row.expires_at - clock.now() > timedelta(hours=24)
    assert await tokens.access_token() == "AT1"


async def test_refreshes_are_serialised_and_stored_before_use(db: Database, fake: FakeZaloOA):
    moved = Clock(clock.now())
    access, refresh = fake.issue()
    first = _store(db, fake)
    assert await first.seed(access, refresh)
    assert not await first.seed("AT-env", "RT-env")  # the stored pair wins from now on
    client = ZaloOAClient(first, fake.url)
    fake.expire(access)  # Zalo refuses it: refreshed once, the call made again
    fake.refresh_delay = 0.05
    results = await asyncio.gather(client.get_oa(), client.get_oa(), first.refresh(access))
    assert results[0]["name"] == "UBND xã Chi Lăng" and results[2] == "AT2"
    assert len(fake.of("/v4/oa/access_token")) == 1
    async with db.session() as session:
        row = await session.get(ZaloOAToken, APP_ID)
    assert (row.access_token, row.refresh_token, row.refreshes) == ("AT2", "RT2", 1)
    # a restart uses the stored new pair, not the environment's spent one
    again = _store(db, fake)
    assert not await again.seed(access, refresh)
    assert await again.access_token() == "AT2"
    # near the expiry, the next call refreshes first
    moved.now += timedelta(hours=24, minutes=30)
    assert await again.access_token() == "AT3"
    assert fake.refresh_token == "RT3"
    await client.close()
    for store in (first, again):
        await store.auth.close()


async def test_two_processes_refreshing_at_once_spend_the_refresh_token_once(
    db: Database, fake: FakeZaloOA,
):
    if db.is_sqlite:
        pytest.skip("the row lock is PostgreSQL's; SQLite runs one process")
    access, refresh = fake.issue()
    Clock(clock.now())
    stores = [_store(db, fake), _store(db, fake)]
    await stores[0].seed(access, refresh)
    fake.refresh_delay = 0.1
    assert await asyncio.gather(*(s.refresh(access) for s in stores)) == ["AT2", "AT2"]
    assert len(fake.of("/v4/oa/access_token")) == 1
    for store in stores:
        await store.auth.close()


async def test_errors_never_show_tokens(db: Database, fake: FakeZaloOA, caplog):
    tokens = _store(db, fake)
    await tokens.seed("AT-dead", "RT-dead")
    client = ZaloOAClient(tokens, fake.url)
    with pytest.raises(ZaloOAError) as raised:
        await client.get_oa()  # refused, and the refresh token is no good either
    await client.close()
    await tokens.auth.close()
    assert raised.value.code == -14014
    text = caplog.text + str(raised.value)
    assert "AT-dead" not in text and "RT-dead" not in text and APP_SECRET not in text


async def test_run_serves_the_zalo_oa_channel(tmp_path, fake: FakeZaloOA):
    import contextlib
    import socket

    from bot import server
    from bot.app import build
    from bot.config import Settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    access, refresh = fake.issue()
    settings = Settings(
        _env_file=None, database_url=f"sqlite:///{tmp_path / 'run.db'}", data_dir=tmp_path,
        http_port=port, zalo_oa_app_id=APP_ID, zalo_oa_secret_key=SECRET_KEY,
        zalo_oa_app_secret=APP_SECRET, zalo_oa_access_token=access,
        zalo_oa_refresh_token=refresh, zalo_oa_api_url=fake.url, zalo_oa_oauth_url=fake.url,
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
                        if (await resp.json())["channels"] == {"zalo_oa": True}:
                            break
                await asyncio.sleep(0.02)
            else:
                raise AssertionError("not healthy in time")
            raw, mac = signed(text_event("u9", "Xin chào"))
            async with http.post(base + WEBHOOK_PATH, data=raw,
                                 headers={SIGNATURE_HEADER: mac}) as resp:
                assert resp.status == 200
        [greeting] = await fake.wait_for("/message/cs")
        assert "trợ lý tự động" in greeting.text
    finally:
        stop.set()
        await serving
        await app.close()


def test_cli_prints_the_authorize_link_and_checks_the_state(shell, capsys, monkeypatch):
    monkeypatch.setenv("ZALO_OA_APP_ID", APP_ID)
    monkeypatch.setenv("ZALO_OA_APP_SECRET", APP_SECRET)
    code, out, _ = shell(capsys, "zalo-oa", "authorize", "--redirect-uri",
                         "https://bot.example.vn/cb")
    assert code == 0
    [link] = [line for line in out.splitlines() if line.startswith("https://")]
    assert link.startswith("https://oauth.zaloapp.com/v4/oa/permission?app_id=" + APP_ID)
    assert "code_challenge=" in link and "state=" in link
    start = time.monotonic()
    with pytest.raises(SystemExit, match="state does not match"):
        shell(capsys, "zalo-oa", "callback", "--code", "C", "--state", "forged")
    assert time.monotonic() - start < 5
    code, out, _ = shell(capsys, "zalo-oa", "status")
    assert (code, out) == (1, "no Zalo OA token pair stored (an authorisation is pending)\n")


async def test_run_without_any_token_pair_says_how_to_authorize(tmp_path, fake: FakeZaloOA):
    from bot import server
    from bot.app import build
    from bot.config import Settings

    settings = Settings(
        _env_file=None, database_url=f"sqlite:///{tmp_path / 'run.db'}", data_dir=tmp_path,
        zalo_oa_app_id=APP_ID, zalo_oa_secret_key=SECRET_KEY, zalo_oa_api_url=fake.url,
        zalo_oa_oauth_url=fake.url,
    )
    app = build(settings)
    try:
        with pytest.raises(server.ChannelStartError, match="zalo-oa authorize"):
            await server.serve(app, asyncio.Event())
    finally:
        await app.close()


async def test_events_left_pending_by_a_crash_are_answered_at_start(
    engine: Engine, demo_db: Database, fake: FakeZaloOA,
):
    from bot.handlers.zalo_oa import CHANNEL
    from bot.services import inbound_events

    event = text_event("u10", "Xin chào", msg_id="p1")
    await inbound_events.store(demo_db, CHANNEL, event_id(event), event)
    running = await Bot(engine, demo_db, fake).start()
    try:
        [greeting] = await fake.wait_for("/message/cs")
        assert greeting.to == {"message_id": "p1"}
    finally:
        await running.stop()


async def test_stickers_get_the_choices_again_and_a_returning_follower_gets_the_menu(
    bot: Bot, fake: FakeZaloOA,
):
    [greeting] = await bot.deliver(follow_event("u11"))
    [nudge] = await bot.deliver(sticker_event("u11"))
    assert [b["title"] for b in nudge.buttons] == ["Đồng ý", "Xem chi tiết", "Không đồng ý"]
    await bot.deliver(text_event("u11", "1"))
    await bot.deliver(text_event("u11", "Bỏ qua"))
    await bot.deliver(follow_event("u11", "unfollow"), replies=0)
    [again] = await bot.deliver(follow_event("u11"))
    assert "1. Công khai thông tin" in again.text


async def test_sent_files_are_kept_in_the_data_folder(engine: Engine, demo_db: Database,
                                                     fake: FakeZaloOA, tmp_path: Path):
    """Zalo's links may not last: a file a person sends is downloaded on arrival."""
    fake.media["don.pdf"] = b"%PDF-1.4 don"
    seen: list[Inbound] = []
    original = engine.handle

    async def recording(msg: Inbound):
        seen.append(msg)
        return await original(msg)

    engine.handle = recording
    running = await Bot(engine, demo_db, fake, data_dir=tmp_path).start()
    try:
        await running.deliver(follow_event("u12"))
        await running.deliver(file_event("u12", f"{fake.url}/media/don.pdf", "don.pdf"))
    finally:
        await running.stop()
    [kept] = seen[-1].attachments
    assert kept.ref.startswith("received/zalo_oa/") and kept.name == "don.pdf"
    assert (tmp_path / kept.ref).read_bytes() == b"%PDF-1.4 don"
