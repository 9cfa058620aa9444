"""Two `python -m bot run` processes on one PostgreSQL behind a round-robin webhook driver
and the fake Telegram (issue 21.2, 21.3). PostgreSQL only by nature: SQLite serves one
process, so the test is skipped without TEST_DATABASE_URL.

Residents write a petition with a 3-photo album (the photos posted at once, landing on
both processes), then double-tap "Gửi" (one tap on each process), while both processes are
restarted one after the other (taken out of the rotation, SIGTERM, a new one started).
Counted: duplicate petitions, lost photos, updates processed twice, replies out of order.
`TURNS_RESIDENTS` sets how many residents play (50 by default, as the issue asks: about half
a minute).
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from storage.db import Database
from storage.models import InteractionLog, Petition, PetitionIdentity
from tests.bot_process import TOKEN, BotProcess, Driver, Resident, stamp_head, to_review, unstamp
from tests.fake_telegram import FakeTelegram, message_update

RESIDENTS = int(os.environ.get("TURNS_RESIDENTS", "50"))
LEASE = 10.0  # seconds: nothing is taken over from a live process, even on a busy machine
ATTACHED = re.compile(r"(\d+) tệp đã đính kèm")


async def _petition_with_album(resident: Resident) -> list[str]:
    await to_review(resident, f"o so {resident.user_id} bi hu", until="Xong")
    before = len(resident.out())
    album = [message_update(resident.user_id, None, media_group_id=f"a{resident.user_id}",
                            photo=[{"file_id": f"p{resident.user_id}-{n}",
                                    "file_unique_id": f"u{resident.user_id}-{n}",
                                    "width": 90, "height": 90}]) for n in range(3)]
    assert await asyncio.gather(*(resident.driver.post(u) for u in album)) == [200] * 3
    answers = await resident.expect(before, 3)
    counts = [int(m.group(1)) for a in answers if (m := ATTACHED.search(a.params["text"]))]
    await resident.press("Xong")
    before = len(resident.out())
    taps = [resident.tap("Gửi"), resident.tap("Gửi")]
    assert await asyncio.gather(*(resident.driver.post(t) for t in taps)) == [200, 200]
    done = await resident.expect(before, 2)
    if "Vẫn gửi phản ánh mới" in resident.keyboard.labels:  # a similar one is open nearby
        await resident.press("Vẫn gửi phản ánh mới")
        assert "Mã theo dõi" in resident.out()[-1].params["text"]
    return [str(c) for c in counts] + [d.params["text"] for d in done]


async def _explained(resident: Resident) -> list[str]:
    """The resident's play; a failure shows what they were told."""
    try:
        return await _petition_with_album(resident)
    except AssertionError as exc:
        told = [c.params.get("text", "")[:60] for c in resident.out()]
        raise AssertionError(f"{resident.user_id}: {exc}; told {told}") from None


async def test_two_processes_answer_as_one(demo_db: Database, tmp_path: Path):
    if demo_db.is_sqlite:
        pytest.skip("several processes share a database only on PostgreSQL")
    await stamp_head(demo_db)
    fake = await FakeTelegram(TOKEN).start()
    bots = [await BotProcess(demo_db, fake, tmp_path / f"p{n}", lease=LEASE).start()
            for n in range(2)]
    driver = Driver(fake, list(bots))
    started: list[BotProcess] = list(bots)
    try:
        residents = [Resident(driver, 9500 + n) for n in range(RESIDENTS)]
        play = asyncio.gather(*(_explained(r) for r in residents))
        for old in list(bots):  # a rolling restart while the conversations go on
            await asyncio.sleep(1.0)
            driver.bots.remove(old)
            assert await old.stop() == 0
            new = await BotProcess(demo_db, fake, Path(old.env["DATA_DIR"]), lease=LEASE).start()
            started.append(new)
            driver.bots.append(new)
        results = await asyncio.wait_for(play, 90)
    finally:
        await driver.close()
        for bot in started:
            if bot.process and bot.process.returncode is None:
                await bot.stop()
        await fake.stop()
    try:
        async with demo_db.session() as session:
            petitions = (await session.exec(select(Petition))).all()
            ins = (await session.exec(select(sa.func.count()).select_from(InteractionLog)
                                      .where(InteractionLog.direction == "in"))).one()
            identities = (await session.exec(select(PetitionIdentity))).all()
        assert identities == []  # all anonymous
        assert len(petitions) == RESIDENTS  # no duplicate from a double tap
        assert all(len(p.attachments) == 3 for p in petitions)  # no lost photo
        for result in results:  # the album answered 1, 2, 3 in order; both taps alike
            assert result[:3] == ["1", "2", "3"]
            assert result[3] == result[4]
        # Each update processed once: every update posted is logged once, except the
        # second taps (answered from the first).
        assert ins == driver.posted - RESIDENTS
        taken = [line for bot in started for line in bot.log.read_text().splitlines()
                 if "inbound events" in line]
        assert taken == []  # no lease ran out, nothing was taken over
    finally:
        await unstamp(demo_db)
