"""Zalo OA: a notice that arrives while the person is in the middle of something carries the
code to type instead of buttons, and the step's choices stay theirs (fake OA API)."""

from __future__ import annotations

from sqlmodel import select

from bot.handlers.zalo_oa import ZaloOAChannel, button_payload
from bot.handlers.zalo_oa_client import ZaloOAClient
from bot.messages import Button, Reply
from bot.services import outbox
from bot.services.dispatcher import Dispatcher
from storage import clock
from storage.db import Database
from storage.models import Conversation, ZaloOAFollower
from tests import test_zalo_oa
from tests.conftest import PSEUDONYM_KEY, WEDNESDAY_MORNING, Clock

fake = test_zalo_oa.fake  # the fake OA API, as in tests/test_zalo_oa.py
FIELDS = [["Đường sá, giao thông", "pt:field:roads"], ["Menu chính", "menu:main"]]


async def test_a_notice_mid_flow_on_zalo_oa_keeps_the_step_s_choices(demo_db: Database, fake):
    Clock(WEDNESDAY_MORNING)
    access, refresh = fake.issue()
    tokens = test_zalo_oa._store(demo_db, fake)
    await tokens.seed(access, refresh)
    client = ZaloOAClient(tokens, fake.url)
    notice = Reply("Phản ánh PA-2026-000004 đã có trả lời.",
                   (Button("Xem", "go:petition:PA-2026-000004"),))
    async with demo_db.session() as session:
        for user_id, flow in (("busy", "petition"), ("idle", "menu")):
            session.add(ZaloOAFollower(user_id=user_id, last_interaction_at=clock.now()))
            session.add(Conversation(channel="zalo_oa", user_id=user_id, flow=flow,
                                     step="field" if flow == "petition" else "choice",
                                     buttons=FIELDS))
            await outbox.enqueue(session, outbox.Recipient("zalo_oa", user_id), notice)
        await session.commit()
    dispatcher = Dispatcher(demo_db, {"zalo_oa": ZaloOAChannel(client, demo_db)},
                            pseudonym_key=PSEUDONYM_KEY)
    try:
        assert await dispatcher.dispatch_due() == 2
    finally:
        await client.close()
        await tokens.auth.close()
    sent = {c.body["recipient"]["user_id"]: c for c in fake.messages()}
    assert sent["busy"].buttons == []
    assert sent["busy"].text.endswith("Khi sẵn sàng, Anh/Chị gõ:\n• PA-2026-000004 — Xem")
    assert [b["payload"] for b in sent["idle"].buttons] == [
        button_payload("go:petition:PA-2026-000004")]
    async with demo_db.session() as session:
        rows = {c.user_id: c.buttons for c in (await session.exec(select(Conversation))).all()}
    assert rows["busy"] == FIELDS
    assert rows["idle"] == [["Xem", "go:petition:PA-2026-000004"]]
