"""A turn's answer, once committed, is the answer (issues 20.1, 21.2): the same update
handled again is answered with the replies it produced, not run again; a double tap on
"Gửi" makes one petition and both taps get the same answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.engine import Engine
from bot.messages import Inbound
from bot.services import inbound_events
from storage.db import Database
from storage.models import Petition
from tests.bot_process import to_review as review_card
from tests.fake_telegram import FakeTelegram, callback_update
from tests.test_telegram import TOKEN, Bot, TgUser

DESCRIPTION = "den duong hong, toi om"


@pytest.fixture
async def hook(engine: Engine, demo_db: Database) -> AsyncIterator[Bot]:
    fake = await FakeTelegram(TOKEN).start()
    running = await Bot(engine, demo_db, fake, webhook=True).start()
    yield running
    await running.stop()
    await fake.stop()


async def to_review(user: TgUser) -> None:
    """Onboard, then write a petition up to the review card (no photo, no place)."""
    await review_card(user, DESCRIPTION)


async def _petitions(db: Database) -> list[Petition]:
    async with db.session() as session:
        return list((await session.exec(select(Petition))).all())


async def test_a_double_tap_on_send_makes_one_petition_and_answers_both_alike(
    hook: Bot, demo_db: Database,
):
    an = TgUser(hook, 811)
    await to_review(an)
    card = an.keyboard
    before = len(an._out())
    taps = [callback_update(an.user_id, card.payload("Gửi"),
                            message_id=card.result["message_id"]) for _ in range(2)]
    assert await asyncio.gather(*(hook.post(t) for t in taps)) == [200, 200]
    answers = await an._expect(before, 2)
    [petition] = await _petitions(demo_db)
    assert all(petition.code in c.params["text"] for c in answers)
    assert answers[0].params["text"] == answers[1].params["text"]
    # Pressed again later, after another turn, an old button is a stale button again.
    await an.send("menu")
    [stale] = await an.press("Gửi", on=card)
    assert "Nút này thuộc một tin nhắn cũ" in stale.params["text"]
    assert len(await _petitions(demo_db)) == 1


async def test_an_update_handled_again_gets_the_answer_it_had(engine: Engine,
                                                             demo_db: Database):
    events = inbound_events.EventLog(demo_db, "console")
    for number, text in enumerate(("/start", "hello")):
        await events.store(str(number), {"text": text})
    first = await engine.handle(Inbound("console", "55", text="/start", command="start",
                                        event_ref="0"))
    again = await engine.handle(Inbound("console", "55", text="/start", command="start",
                                        event_ref="0"))
    assert again == first  # not run again: no second greeting turn, same buttons
    other = await engine.handle(Inbound("console", "55", text="hello", event_ref="1"))
    assert other != first
