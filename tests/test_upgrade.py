"""An installation made by the first released schema (0001) upgrades to the newest with its
data: the resident is still known and consented, staff keep their role, the old log is sealed
into the tamper-evident chain and verifies."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from bot.engine import Engine
from bot.services import log_chain
from storage.db import Database, head_revision
from tests.conftest import PSEUDONYM_KEY, Chat, schema_changed

THEN = datetime(2026, 6, 1, 2, 0)  # naive UTC, as the 0001 schema stores times

ROWS_OF_0001 = [  # without ids, as the bot wrote them (PostgreSQL's sequences then agree)
    ("INSERT INTO communes (name, unit_type, province, office_address, office_phone, "
     "office_email, updated_at) VALUES ('Xã Chi Lăng', 'xã', 'Lạng Sơn', '', '', '', :t)"),
    ("INSERT INTO hamlets (commune_id, code, name, label, position, active) SELECT id, "
     "'khu-1', 'Khu Hòa Bình', 'khu', 1, :yes FROM communes"),
    ("INSERT INTO hamlets (commune_id, code, name, label, position, active) SELECT id, "
     "'khu-2', 'Khu Thống Nhất', 'khu', 2, :yes FROM communes"),
    ("INSERT INTO users (channel, external_id, locale, hamlet_id, consent_version, "
     "consent_at, onboarded_at, created_at) SELECT 'telegram', '501', 'vi', id, '2026-11', "
     ":t, :t, :t FROM hamlets WHERE code = 'khu-2'"),
    ("INSERT INTO consents (user_id, purpose, version, granted, channel, at) SELECT id, "
     "'privacy_notice', '2026-11', :yes, 'telegram', :t FROM users"),
    ("INSERT INTO role_grants (channel, user_id, role, granted_by, granted_at) VALUES "
     "('telegram', '900', 'staff', 'cli:root', :t)"),
    ("INSERT INTO interaction_log (at, channel, direction, user_ref, kind, text) VALUES "
     "(:t, 'telegram', 'in', 'abc', 'text', 'xin chào')"),
    ("INSERT INTO interaction_log (at, channel, direction, user_ref, kind, text) VALUES "
     "(:t, 'telegram', 'out', 'abc', 'text', 'Xin chào Anh/Chị')"),
]


async def test_the_oldest_schema_with_data_upgrades_to_head(db: Database):
    await db.drop_all()
    schema_changed()
    await db.upgrade("0001")
    async with db.engine.begin() as conn:
        for statement in ROWS_OF_0001:
            await conn.execute(sa.text(statement), {"t": THEN, "yes": True})

    await db.upgrade()

    async with db.engine.connect() as conn:
        version = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).scalar()
        grants = (await conn.exec_driver_sql("SELECT role FROM role_grants")).scalars().all()
    assert version == head_revision()
    assert grants == ["staff"]
    async with db.unit_of_work() as session:
        sealed = await log_chain.seal_all(session, log_chain.chain_key(PSEUDONYM_KEY))
        await session.commit()
    async with db.session() as session:
        verdict = await log_chain.verify(session, log_chain.chain_key(PSEUDONYM_KEY))
    assert sealed >= 2 and verdict.ok

    resident = Chat(Engine(db, pseudonym_key=PSEUDONYM_KEY), channel="telegram", user_id="501")
    await resident.send("menu")
    assert "Công khai thông tin" in resident.labels and "Đồng ý" not in resident.labels
