"""A bot killed (SIGKILL) after a petition commits and before its answer is delivered:
after a restart and the update's redelivery the resident gets the answer with the
tracking code, never "Nút này thuộc một tin nhắn cũ", and there is one petition (20.1)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlmodel import select

from storage.db import Database
from storage.models import Petition
from tests.bot_process import TOKEN, BotProcess, Driver, Resident, stamp_head, to_review, unstamp
from tests.fake_telegram import FakeTelegram

STALE = "Nút này thuộc một tin nhắn cũ"


async def _petitions(db: Database) -> list[Petition]:
    async with db.session() as session:
        return list((await session.exec(select(Petition))).all())


async def test_a_kill_between_commit_and_answer_still_shows_the_tracking_code(
    demo_db: Database, tmp_path: Path,
):
    await stamp_head(demo_db)
    fake = await FakeTelegram(TOKEN).start()
    first = await BotProcess(demo_db, fake, tmp_path).start()
    driver = Driver(fake, [first])
    try:
        lan = Resident(driver, 9301)
        await to_review(lan, "den duong hong, toi om")
        send = lan.tap("Gửi")
        fake.hold = lambda method, params: method in ("sendMessage", "editMessageText")
        assert await driver.post(send) == 200
        for _ in range(1000):  # the answer is on its way: the turn has committed
            if fake.held:
                break
            await asyncio.sleep(0.01)
        assert fake.held and len(await _petitions(demo_db)) == 1
        await first.kill()
        fake.hold = None
        assert STALE not in fake.held[0].params["text"]

        before = len(lan.out())
        second = await BotProcess(demo_db, fake, tmp_path).start()
        driver.bots = [second]
        assert await driver.post(send) == 200  # Telegram's own retry: dropped, not re-run
        [answer] = await lan.expect(before, 1)
        [petition] = await _petitions(demo_db)
        assert petition.code in answer.params["text"]
        assert STALE not in answer.params["text"]
        await asyncio.sleep(0.3)
        assert [c for c in lan.out() if petition.code in c.params.get("text", "")] == [answer]
        assert await second.stop() == 0
    finally:
        await driver.close()
        for bot in (first,) + tuple(b for b in driver.bots if b is not first):
            if bot.process and bot.process.returncode is None:
                await bot.kill()
        await fake.stop()
        await unstamp(demo_db)
