"""The interaction log is tamper-evident: edits, deletions and insertions are named; erasing
texts for retention keeps the chain valid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot import scheduler
from bot.services import log_chain
from storage.db import Database
from tests.conftest import PSEUDONYM_KEY, Chat

KEY = log_chain.chain_key(PSEUDONYM_KEY)


async def _chatted(chat: Chat, db: Database) -> list[int]:
    await chat.onboard()
    await chat.send("/help")
    await chat.send("/menu")
    assert await scheduler.seal_log(db, PSEUDONYM_KEY) > 10
    async with db.session() as session:
        return list((await session.exec(sa.text("SELECT id FROM interaction_log ORDER BY id"))
                     ).scalars())


async def _verify(db: Database) -> log_chain.Verdict:
    async with db.session() as session:
        return await log_chain.verify(session, KEY, batch=4)  # small batches: cross them


async def _sql(db: Database, statement: str) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(sa.text(statement))


async def test_an_intact_chain_verifies_and_new_rows_join_it(chat: Chat, demo_db):
    ids = await _chatted(chat, demo_db)
    verdict = await _verify(demo_db)
    assert verdict.ok and verdict.sealed == len(ids) and verdict.unsealed == 0
    await chat.send("/help")
    assert (await _verify(demo_db)).unsealed == 2  # written, not sealed yet: still fine
    assert await scheduler.seal_log(demo_db, PSEUDONYM_KEY) == 2
    assert (await _verify(demo_db)).sealed == len(ids) + 2
    assert await scheduler.seal_log(demo_db, PSEUDONYM_KEY) == 0


async def test_an_edited_row_is_named(chat: Chat, demo_db):
    ids = await _chatted(chat, demo_db)
    await _sql(demo_db, f"UPDATE interaction_log SET kind = 'tampered' WHERE id = {ids[5]}")
    verdict = await _verify(demo_db)
    assert verdict.problems == [f"edited: row {ids[5]} (its fields changed after sealing)"]
    assert verdict.sealed == 5


async def test_an_edited_text_is_named(chat: Chat, demo_db):
    ids = await _chatted(chat, demo_db)
    await _sql(demo_db, f"UPDATE interaction_log SET text = '/start' WHERE id = {ids[-2]}")
    assert (await _verify(demo_db)).problems == [
        f"edited: row {ids[-2]} (its text changed after sealing)"]


async def test_a_deleted_row_is_named(chat: Chat, demo_db):
    ids = await _chatted(chat, demo_db)
    await _sql(demo_db, f"DELETE FROM interaction_log WHERE id = {ids[3]}")
    assert (await _verify(demo_db)).problems == [
        f"deleted: 1 row(s) missing after row {ids[2]} (before row {ids[4]})"]


async def test_a_deleted_last_row_and_an_inserted_row_are_named(chat: Chat, demo_db):
    ids = await _chatted(chat, demo_db)
    async with demo_db.session() as session:
        row = (await session.exec(sa.text(
            f"SELECT chain_seq, prev_hash, row_hash FROM interaction_log WHERE id = {ids[4]}"
        ))).one()
    # A forged row placed into the chain at position 5, after renumbering is impossible.
    await _sql(demo_db, f"UPDATE interaction_log SET chain_seq = chain_seq + 1000 "
                        f"WHERE id = {ids[4]}")
    await _sql(demo_db, "INSERT INTO interaction_log (at, channel, direction, user_ref, kind, "
                        "chain_seq, prev_hash, row_hash) VALUES ('2026-11-01 00:00:00', "
                        f"'console', 'in', 'x', 'text', {row[0]}, '{row[1]}', '{row[2]}')")
    verdict = await _verify(demo_db)
    assert len(verdict.problems) == 1 and verdict.problems[0].startswith("edited: row ")
    assert str(ids[4]) not in verdict.problems[0]  # the forged row, not the moved one


async def test_retention_erases_old_texts_and_the_chain_stays_valid(chat: Chat, demo_db):
    await _chatted(chat, demo_db)
    later = datetime.now(UTC) + timedelta(days=400)
    erased = await scheduler.erase_old_log_texts(demo_db, 365, later)
    assert erased >= 3  # /start, /help, /menu and button labels
    async with demo_db.session() as session:
        left = (await session.exec(sa.text(
            "SELECT count(*) FROM interaction_log WHERE text IS NOT NULL"))).one()[0]
    assert left == 0
    verdict = await _verify(demo_db)
    assert verdict.ok and verdict.redacted == erased
    assert await scheduler.erase_old_log_texts(demo_db, 365, datetime.now(UTC)) == 0
