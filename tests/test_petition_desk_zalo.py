"""The petition desk on Zalo, end to end against the fake Zalo servers: a resident on the
Official Account (the Zalo API that carries location pins) sends feedback with two photos
and a pin; a clerk on the Zalo Bot Platform (no buttons: numbered choices) sees the card with
both photos and a map link, takes it, moves it on and answers with text and a photo; the
resident receives the answer with the photo on their own channel and rates it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.engine import Engine
from bot.handlers import zalo_client
from bot.services import roles
from bot.services.dispatcher import Dispatcher
from storage.db import Database
from tests import fake_zalo, fake_zalo_oa
from tests.conftest import PSEUDONYM_KEY, Clock
from tests.fake_zalo import FakeZalo
from tests.fake_zalo_oa import FakeZaloOA
from tests.test_zalo import TOKEN, ZUser
from tests.test_zalo import Bot as ZaloBot
from tests.test_zalo_oa import Bot as OABot

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # Wednesday 09:00 in Hà Nội
RESIDENT, CLERK = "oa-555", "z901"
PHOTOS = ("https://zalo.example/res-1.jpg", "https://zalo.example/res-2.jpg")
ANSWER_PHOTO = "https://zalo.example/answer-1.jpg"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(zalo_client, "RETRIES", (0.01, 0.02))
    monkeypatch.setattr(zalo_client, "QUOTA_RETRIES", (0.01, 0.02))


@pytest.fixture
async def zalo(engine: Engine, demo_db: Database) -> AsyncIterator[ZaloBot]:
    server = await FakeZalo(TOKEN).start()
    running = await ZaloBot(engine, demo_db, server, webhook=True).start()
    yield running
    await running.stop()
    await server.stop()


@pytest.fixture
async def oa(engine: Engine, demo_db: Database) -> AsyncIterator[OABot]:
    server = await FakeZaloOA().start()
    running = await OABot(engine, demo_db, server).start()
    yield running
    await running.stop()
    await server.stop()


def number(label: str, text: str) -> str:
    """The number of a choice in a numbered list ("3. Trả lời" -> "3")."""
    found = re.search(rf"^(\d+)\. {re.escape(label)}$", text, re.MULTILINE)
    assert found, f"no choice {label!r} in {text!r}"
    return found[1]


class Resident:
    """A follower of the Official Account."""

    def __init__(self, oa: OABot) -> None:
        self.oa = oa
        self.last = ""

    async def send(self, text: str = "", replies: int = 1, event: dict | None = None) -> str:
        event = event or fake_zalo_oa.text_event(RESIDENT, text)
        sent = await self.oa.deliver(event, replies)
        self.last = "\n".join(c.text for c in sent)
        return self.last


async def test_on_zalo_the_clerk_handles_a_petition_by_numbered_choices(
    zalo: ZaloBot, oa: OABot, demo_db: Database,
):
    Clock(NOW)
    async with demo_db.session() as session:
        await roles.grant(session, "zalo", CLERK, "staff", actor="test", name="Chị Hoa")
        await session.commit()
    dispatcher = Dispatcher(demo_db, {"zalo": zalo.runtime.channel,
                                      "zalo_oa": oa.runtime.channel},
                            pseudonym_key=PSEUDONYM_KEY)
    clerk = ZUser(zalo, CLERK)
    for typed in ("/start", "1", "1", "Khu Hòa Bình"):
        await clerk.send(typed)

    resident = Resident(oa)
    await resident.send(event=fake_zalo_oa.follow_event(RESIDENT))
    for typed in ("Tiếng Việt", "Đồng ý", "Khu Hòa Bình", "Gửi phản ánh, kiến nghị",
                  "Phản ánh, kiến nghị", "Gửi kèm tên và số điện thoại", "Hoàng Văn Tư",
                  "0912 345 678", "Điện chiếu sáng", "Khu Hòa Bình"):
        await resident.send(typed)
    await resident.send(event=fake_zalo_oa.location_event(RESIDENT, 21.85, 106.77))
    await resident.send("Đèn đường trước chợ Chi Lăng hỏng ba hôm nay, tối rất nguy hiểm.")
    for url in PHOTOS:
        await resident.send(event=fake_zalo_oa.image_event(RESIDENT, url))
    assert "2 tệp đã đính kèm" in resident.last
    await resident.send("Xong")
    await resident.send("Gửi")
    assert "PA-2026-000001" in resident.last

    await dispatcher.dispatch_due()
    card = next(c.text for c in zalo.fake.of("sendMessage", CLERK) if "Phản ánh mới" in c.text)
    assert "Người xử lý: chưa giao" in card and "python -m bot" not in card
    assert "📍 https://maps.google.com/?q=21.85,106.77" in card  # the pin, as a map link
    assert [c.params["photo"] for c in zalo.fake.of("sendPhoto", CLERK)] == list(PHOTOS)
    assert "Thụ lý" not in card  # feedback has plain steps

    [taken] = await clerk.send(number("Nhận xử lý", card))  # typed numbers press the choices
    assert "PA-2026-000001 do Chị Hoa xử lý." in taken.text
    [moved] = await clerk.send(number("Đang xử lý", taken.text))
    assert "Đang xác minh, xử lý. Người dân đã được báo." in moved.text
    [asked] = await clerk.send(number("Trả lời", moved.text))
    assert "Anh/Chị viết câu trả lời PA-2026-000001" in asked.text
    await clerk.send("Đã thay bóng đèn mới sáng nay, đèn đã sáng trở lại.")
    [preview] = await clerk.send_event(fake_zalo.image_event(CLERK, ANSWER_PHOTO))
    assert "1 tệp đã đính kèm." in preview.text
    [sent] = await clerk.send(number("Gửi trả lời", preview.text))
    assert "Đã gửi trả lời PA-2026-000001 cho người dân." in sent.text

    await dispatcher.dispatch_due()
    answer = oa.fake.messages()[-1]
    assert answer.to == {"user_id": RESIDENT}  # on the resident's own channel
    assert "Phản ánh PA-2026-000001 của Anh/Chị đã có trả lời của UBND xã" in answer.text
    assert f"📎 photo: {ANSWER_PHOTO}" in answer.text
    await resident.send("Xem")
    await resident.send("Đánh giá câu trả lời")
    await resident.send("5", replies=2)
    assert "Anh/Chị đánh giá: 5/5" in resident.last
