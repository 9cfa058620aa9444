"""The channels' edge under bad input: NUL and lone surrogates in what people write, malformed
webhook bodies (4xx, never 5xx, no traceback), and odd payloads that must be ignored or answered
"not found", on Telegram, Zalo and Zalo OA through their fake servers."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlmodel import select

from bot.engine import Engine
from bot.handlers import telegram_runtime, zalo_oa_runtime, zalo_runtime
from bot.sanitize import clean_id, clean_text
from storage.db import Database
from storage.models import InboundEvent, InteractionLog, Petition
from tests import fake_zalo, fake_zalo_oa
from tests.fake_telegram import FakeTelegram, callback_update, message_update
from tests.fake_zalo import FakeZalo
from tests.fake_zalo_oa import APP_ID, SECRET_KEY, FakeZaloOA
from tests.test_telegram import Bot as TgBot
from tests.test_telegram import TgUser
from tests.test_zalo import Bot as ZBot
from tests.test_zalo import ZUser, onboard
from tests.test_zalo_oa import Bot as OABot

APOLOGY = "trục trặc"


@pytest.fixture
async def tg(engine: Engine, demo_db: Database) -> AsyncIterator[TgBot]:
    fake = await FakeTelegram("123:TEST").start()
    running = await TgBot(engine, demo_db, fake, webhook=True).start()
    yield running
    await running.stop()
    await fake.stop()


@pytest.fixture
async def zl(engine: Engine, demo_db: Database) -> AsyncIterator[ZBot]:
    fake = await FakeZalo("123:TEST").start()
    running = await ZBot(engine, demo_db, fake, webhook=True).start()
    yield running
    await running.stop()
    await fake.stop()


@pytest.fixture
async def oa(engine: Engine, demo_db: Database) -> AsyncIterator[OABot]:
    fake = await FakeZaloOA().start()
    running = await OABot(engine, demo_db, fake).start()
    yield running
    await running.stop()
    await fake.stop()


def test_text_loses_nul_controls_and_noncharacters_keeps_emoji_and_vietnamese():
    assert clean_text("Ổ gà\x00 lớn\ud800 😀\ufdd0\U0010ffff\x07\n\tcuối") == (
        "Ổ gà lớn\ufffd 😀\n\tcuối")
    decomposed = "Vie\u0323\u0302t"  # "Việt" as some keyboards send it
    assert clean_text(decomposed) == "Việt"
    assert [clean_id(v) for v in ("ab-1", 12, 2**60, True, "a b", "x\ud800", "9" * 65)] == [
        "ab-1", "12", None, None, None, None, None]


async def _wait_for_pending_to_clear(db: Database) -> None:
    for _ in range(300):
        async with db.session() as session:
            rows = (await session.exec(select(InboundEvent.status))).all()
        if "pending" not in rows:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("events left pending")


DIRTY = "Ổ gà\x00 lớn \ud800giữa đường vào khu 😀, xe máy ngã nhiều lần."
CLEAN = "Ổ gà lớn \ufffdgiữa đường vào khu 😀, xe máy ngã nhiều lần."


async def _petition_description(db: Database) -> str:
    async with db.session() as session:
        [petition] = (await session.exec(select(Petition))).all()
    return petition.description


async def test_a_description_with_nul_and_a_lone_surrogate_files_on_zalo(zl: ZBot,
                                                                       demo_db: Database):
    lan = ZUser(zl, "u901")
    await onboard(lan)
    for typed in ("2", "Phản ánh, kiến nghị", "gui an danh", "Đường sá, giao thông",
                  "Khu Hòa Bình", "Bỏ qua", DIRTY, "Bỏ qua"):
        await lan.send(typed)
    assert CLEAN in lan.text  # the review card, sent
    await lan.send("Gửi")
    assert "PA-" in lan.text and APOLOGY not in lan.text
    assert await _petition_description(demo_db) == CLEAN


async def test_a_description_with_nul_and_a_lone_surrogate_files_on_telegram(
        tg: TgBot, demo_db: Database):
    lan = TgUser(tg, 902)
    await lan.send("/start")
    for label in ("Đồng ý", "Khu Hòa Bình", "Gửi phản ánh, kiến nghị", "Phản ánh, kiến nghị",
                  "Gửi ẩn danh", "Đường sá, giao thông", "Khu Hòa Bình", "Bỏ qua"):
        await lan.press(label)
    await lan.send(DIRTY)
    await lan.press("Bỏ qua")
    assert CLEAN in lan.text  # the review card, sent
    await lan.press("Gửi")
    assert "PA-" in lan.text and APOLOGY not in lan.text
    assert await _petition_description(demo_db) == CLEAN


# --- malformed requests: 4xx, never 5xx, no traceback ----------------------------------------

DEEP = b'{"timestamp": "1", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
MALFORMED = [  # (name, body, extra headers, statuses accepted)
    ("deeply nested", DEEP, {}, {400}),
    ("nested past the limit", b'{"timestamp": "1", "x": ' + b"[" * 40 + b"]" * 40 + b"}", {},
     {400}),
    ("broken gzip", b"this is not gzip", {"Content-Encoding": "gzip"}, {400}),
    ("broken deflate", b"this is not deflate", {"Content-Encoding": "deflate"}, {400}),
    ("not UTF-8", b'{"timestamp": "1", "x": "\xff\xfe"}', {}, {400}),
    ("a list", b'[{"timestamp": "1"}]', {}, {400}),
    ("a string", b'"timestamp"', {}, {400}),
    ("oversize", b'{"timestamp": "1", "x": "' + b"a" * (2 * 1024 * 1024) + b'"}', {}, {413}),
    ("empty", b"", {}, {400}),
]


def _oa_mac(raw: bytes) -> str:
    """A correct signature (as Zalo makes it) of a body with timestamp "1" or none."""
    stamp = b"1" if b'"timestamp": "1"' in raw[:100] else b""
    return "mac=" + hashlib.sha256(APP_ID.encode() + raw + stamp + SECRET_KEY.encode()
                                   ).hexdigest()


async def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    headers = {"Content-Type": "application/json", **headers}
    async with aiohttp.ClientSession() as http, http.post(
            url, data=io.BytesIO(body), headers=headers) as resp:
        await resp.read()
        return resp.status


@pytest.mark.parametrize(("name", "body", "headers", "statuses"), MALFORMED,
                         ids=[m[0] for m in MALFORMED])
async def test_malformed_bodies_get_4xx_on_every_webhook(tg: TgBot, zl: ZBot, oa: OABot,
                                                        caplog, name, body, headers, statuses):
    caplog.set_level(logging.INFO)
    hooks = [
        (tg.url + telegram_runtime.WEBHOOK_PATH, {telegram_runtime.SECRET_HEADER: tg.secret}),
        (zl.url + zalo_runtime.WEBHOOK_PATH, {zalo_runtime.SECRET_HEADER: zl.secret}),
        (oa.url + zalo_oa_runtime.WEBHOOK_PATH, {zalo_oa_runtime.SIGNATURE_HEADER: _oa_mac(body)}),
    ]
    for url, secret in hooks:
        assert await _post(url, body, {**secret, **headers}) in statuses, url
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_zalo_oa_checks_the_signature_before_reading_the_json(oa: OABot, caplog):
    """An unsigned malformed body is refused as unauthorized: nothing of it is parsed."""
    url = oa.url + zalo_oa_runtime.WEBHOOK_PATH
    assert await _post(url, DEEP, {zalo_oa_runtime.SIGNATURE_HEADER: "mac=00"}) == 401
    assert await _post(url, b"\xff{", {}) == 401
    assert not [r for r in caplog.records if r.exc_info]


# --- odd payloads: ignored, or answered "not found" -------------------------------------------

def _tg_photo_number(user: int) -> dict[str, Any]:
    return message_update(user, None, photo=5, caption="ảnh")


ODD_TELEGRAM = [  # (name, update of user 950+i) -> the bot answers, never with an apology
    ("relay id in unicode digits", lambda u: callback_update(u, "go:relay:²", message_id=1)),
    ("20-digit disclosure id",
     lambda u: callback_update(u, "go:disclosure:12345678901234567890", message_id=1)),
    ("20-digit session id", lambda u: callback_update(u, "go:session:99999999999999999999",
                                                      message_id=1)),
    ("photo that is a number", _tg_photo_number),
    ("typed text like a button", lambda u: message_update(u, "#civic:go:relay:1")),
]


@pytest.mark.parametrize(("name", "update"), ODD_TELEGRAM, ids=[o[0] for o in ODD_TELEGRAM])
async def test_odd_telegram_updates_are_answered_not_crashed(tg: TgBot, caplog, name, update):
    user = TgUser(tg, 950 + [o[0] for o in ODD_TELEGRAM].index(name))
    await user.send("/start")
    await user.press("Đồng ý")
    await user.press("Khu Hòa Bình")
    before = len(tg.fake.of("sendMessage", user.user_id))
    assert await tg.post(update(user.user_id)) == 200
    answers = await tg.fake.wait_for("sendMessage", before + 1, chat_id=user.user_id)
    assert APOLOGY not in answers[-1].params["text"]
    assert not [r for r in caplog.records if r.exc_info]


def _oa_raw(event: dict[str, Any], text: str | None = None) -> tuple[bytes, str]:
    raw = (text or json.dumps(event)).encode()
    mac = hashlib.sha256(APP_ID.encode() + raw + event["timestamp"].encode()
                         + SECRET_KEY.encode()).hexdigest()
    return raw, f"mac={mac}"


async def test_odd_zalo_oa_events_are_ignored_or_answered(oa: OABot, demo_db: Database, caplog):
    object_name = dict(fake_zalo_oa.text_event("o1", "Xin chào"),
                       event_name={"user_send_text": 1})
    assert await oa.post(*_oa_raw(object_name)) == 200
    infinite = fake_zalo_oa.file_event("o2", "https://f.zalo.me/a.pdf", "a.pdf")
    text = json.dumps(infinite).replace('"size": "2048"', '"size": Infinity')
    assert "Infinity" in text
    assert await oa.post(*_oa_raw(infinite, text)) == 200
    bad_url = fake_zalo_oa.image_event("o3", "http://[::1/broken.jpg")
    assert await oa.post(*_oa_raw(bad_url)) == 200
    typed = fake_zalo_oa.text_event("o4", "#civic:go:relay:²")
    assert await oa.post(*_oa_raw(typed)) == 200
    await _wait_for_pending_to_clear(demo_db)
    assert len(oa.fake.messages()) >= 3  # the file, the photo and the typed text got answers
    assert all(APOLOGY not in c.text for c in oa.fake.messages())
    assert not [r for r in caplog.records if r.exc_info]
    async with demo_db.session() as session:
        kinds = (await session.exec(select(InboundEvent.event_id))).all()
        logged = (await session.exec(select(InteractionLog.kind, InteractionLog.text).where(
            InteractionLog.direction == "in"))).all()
    assert any(k.startswith("other:") for k in kinds)  # the object event_name, stored once
    assert ("text", None) in logged  # what o4 typed: text (not kept), not a button
    assert not [t for _, t in logged if t and "relay" in t]


async def test_odd_zalo_events_are_ignored_or_answered(zl: ZBot, demo_db: Database, caplog):
    broken = fake_zalo.image_event("z1", "http://[::1/broken.jpg")
    assert await zl.post(broken) == 200
    nameless = fake_zalo.text_event("z2", "Xin chào")
    nameless["message"]["from"]["id"] = {"id": 1}
    assert await zl.post(nameless) == 200
    surrogate_id = fake_zalo.text_event("z3", "Xin chào", message_id="m\ud800")
    assert await zl.post(surrogate_id) == 200
    await zl.fake.wait_for("sendMessage", 1, chat_id="z3")
    await _wait_for_pending_to_clear(demo_db)
    assert all(APOLOGY not in c.text for c in zl.fake.of("sendMessage"))
    assert not [r for r in caplog.records if r.exc_info]


async def test_the_apology_is_in_the_person_s_language_even_when_recording_fails(
        engine: Engine, monkeypatch):
    from bot import engine as engine_module
    from bot.messages import Inbound
    from storage.models import User

    await engine.handle(Inbound("console", "en1", text="/start", command="start"))
    async with engine.db.unit_of_work() as session:
        [user] = (await session.exec(select(User).where(User.external_id == "en1"))).all()
        user.locale = "en"  # as chosen in the settings
        session.add(user)
        await session.commit()

    async def broken(*_args: Any) -> Any:
        raise RuntimeError("a turn that fails")

    def unrecordable(*_args: Any) -> None:
        raise RuntimeError("the log cannot be written either")

    monkeypatch.setattr(engine, "_answer", broken)
    monkeypatch.setattr(engine_module.InteractionLogs, "append", unrecordable)
    [english] = await engine.handle(Inbound("console", "en1", text="xin chào"))
    assert english.text.startswith("Sorry, something went wrong")
    [vietnamese] = await engine.handle(Inbound("console", "vi1", text="hello"))
    assert vietnamese.text.startswith("Xin lỗi, hệ thống vừa gặp trục trặc")


async def test_zalo_oa_long_signed_events_with_the_timestamp_last_are_accepted(oa: OABot):
    event = fake_zalo_oa.text_event("long1", "Đường " * 400)
    event["message"]["note"] = {"timestamp": "12"}  # a nested key of the same name, first
    event["timestamp"] = event.pop("timestamp")  # last in the body, after 4 KB of text
    raw, mac = _oa_raw(event)
    assert raw.rindex(b"\"timestamp\"") > 4096
    assert await oa.post(raw, mac) == 200
    await oa.fake.wait_for("/message/cs", 1)
