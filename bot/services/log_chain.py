"""The interaction log's tamper-evident chain: sealing, verifying, and erasing old texts.

Rows are written by many transactions at once, so a row does not get its hash when it is
inserted: the sealer (a scheduler job, and before every export or check) takes the rows not
yet sealed in id order, under one lock, and gives each a chain position, the SHA-256 digest
of its text, the previous row's hash and its own hash: an HMAC, keyed from the pseudonym key,
over the row's fields and the digest — not the text — so erasing a text (retention) keeps the
chain valid, while editing, inserting or deleting a sealed row breaks it. Without the key,
nobody can rebuild a valid chain after changing a row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import InteractionLog

GENESIS = "0" * 64
SEAL_BATCH = 5000
_ADVISORY_LOCK = 0x6C6F67  # "log": one sealer at a time on PostgreSQL


def chain_key(pseudonym_key: bytes) -> bytes:
    """The chain's own key, derived from the pseudonym key."""
    return hmac.new(pseudonym_key, b"interaction-log-chain", hashlib.sha256).digest()


def text_digest(text: str | None) -> str | None:
    """SHA-256 of a text (None for no text)."""
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


def row_hash(key: bytes, row: InteractionLog, seq: int, prev: str, digest: str | None) -> str:
    """The keyed hash of one row at one chain position."""
    fields = {
        "id": row.id, "seq": seq, "prev": prev, "at": row.at.isoformat(),
        "channel": row.channel, "direction": row.direction, "user_ref": row.user_ref,
        "hamlet": row.hamlet_code, "flow": row.flow, "step": row.step, "kind": row.kind,
        "latency": row.latency_ms, "actor": row.actor, "digest": digest,
    }
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


async def seal(session: AsyncSession, key: bytes, limit: int = SEAL_BATCH) -> int:
    """Seal up to `limit` rows in id order; returns how many. The caller commits."""
    if session.bind.dialect.name == "postgresql":
        await session.exec(sa.text(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK})"))
    head = (await session.exec(
        select(InteractionLog.chain_seq, InteractionLog.row_hash)
        .where(col(InteractionLog.chain_seq).is_not(None))
        .order_by(col(InteractionLog.chain_seq).desc()).limit(1)
    )).first()
    seq, prev = (head[0], head[1]) if head else (0, GENESIS)
    rows = (await session.exec(
        select(InteractionLog).where(col(InteractionLog.chain_seq).is_(None))
        .order_by(InteractionLog.id).limit(limit)
    )).all()
    updates = []
    for row in rows:
        seq += 1
        digest = text_digest(row.text)
        hashed = row_hash(key, row, seq, prev, digest)
        updates.append({"row_id": row.id, "chain_seq": seq, "text_digest": digest,
                        "prev_hash": prev, "row_hash": hashed})
        prev = hashed
    if updates:
        table = InteractionLog.__table__
        await session.exec(
            table.update().where(table.c.id == sa.bindparam("row_id")).values(
                chain_seq=sa.bindparam("chain_seq"), text_digest=sa.bindparam("text_digest"),
                prev_hash=sa.bindparam("prev_hash"), row_hash=sa.bindparam("row_hash")),
            params=updates,
        )
        session.expire_all()
    return len(updates)


async def seal_all(session: AsyncSession, key: bytes) -> int:
    """Seal every row waiting (in batches); returns how many."""
    total = 0
    while count := await seal(session, key):
        total += count
    return total


@dataclass
class Verdict:
    """What `verify` found: counts, and the first problem if any."""

    sealed: int = 0
    redacted: int = 0
    unsealed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the chain is intact."""
        return not self.problems


async def verify(session: AsyncSession, key: bytes, batch: int = 5000,
                 progress: Callable[[int], None] | None = None) -> Verdict:
    """Walk the chain and name the first edited, inserted or deleted row; `progress` is told
    how many rows were checked after each batch."""
    verdict = Verdict()
    expected_seq, prev, last_id = 1, GENESIS, None
    offset_seq = 0
    while True:
        rows = (await session.exec(
            select(InteractionLog).where(col(InteractionLog.chain_seq) > offset_seq)
            .order_by(InteractionLog.chain_seq).limit(batch)
        )).all()
        if not rows:
            break
        for row in rows:
            problem = _check(key, row, expected_seq, prev, last_id)
            if problem:
                verdict.problems.append(problem)
                return await _finish(session, verdict)
            verdict.sealed += 1
            verdict.redacted += row.text is None and row.text_digest is not None
            expected_seq, prev, last_id = row.chain_seq + 1, row.row_hash, row.id
        offset_seq = rows[-1].chain_seq
        if progress is not None:
            progress(verdict.sealed)
    return await _finish(session, verdict)


def _check(key: bytes, row: InteractionLog, seq: int, prev: str, last_id: int | None
           ) -> str | None:
    after = f"after row {last_id}" if last_id else "at the start"
    if row.chain_seq > seq:
        return f"deleted: {row.chain_seq - seq} row(s) missing {after} (before row {row.id})"
    if row.prev_hash != prev:
        if row.chain_seq < seq:
            return f"inserted: row {row.id} repeats chain position {row.chain_seq}"
        return f"inserted or deleted: row {row.id} does not follow the row before it ({after})"
    if row_hash(key, row, row.chain_seq, row.prev_hash, row.text_digest) != row.row_hash:
        return f"edited: row {row.id} (its fields changed after sealing)"
    if row.text is not None and text_digest(row.text) != row.text_digest:
        return f"edited: row {row.id} (its text changed after sealing)"
    return None


async def _finish(session: AsyncSession, verdict: Verdict) -> Verdict:
    verdict.unsealed = (await session.exec(
        select(sa.func.count()).select_from(InteractionLog)
        .where(col(InteractionLog.chain_seq).is_(None)))).one()
    return verdict


async def erase_old_texts(session: AsyncSession, now: datetime, keep_days: int) -> int:
    """Retention: erase texts of sealed rows older than `keep_days` (kinds and counts stay)."""
    result = await session.exec(
        sa.update(InteractionLog)
        .where(col(InteractionLog.at) < now - timedelta(days=keep_days),
               col(InteractionLog.text).is_not(None),
               col(InteractionLog.chain_seq).is_not(None))
        .values(text=None)
    )
    return result.rowcount
