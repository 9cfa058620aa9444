"""Open311 API keys: an admin creates, lists and revokes them; only a SHA-256 of each key is
stored (a key is 32 random bytes, so a plain hash suffices), and every use is logged."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.roles import roles_of
from storage.models import ApiKey, InteractionLog
from storage.repositories import InteractionLogs

PREFIX_LENGTH = 8
DAILY_LIMIT = 300  # requests filed per key in 24 hours: a leaked key cannot flood the desk


class ApiKeyError(Exception):
    """A key cannot be created or revoked; the message says why."""


class KeyLimitReached(Exception):
    """A live key has been used DAILY_LIMIT times in the last 24 hours."""


def digest(secret: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(secret.encode()).hexdigest()


async def create(session: AsyncSession, name: str, admin: str, *, actor: str,
                 now: datetime) -> tuple[ApiKey, str]:
    """A new key for `name`, made by `admin` ("CHANNEL:USER_ID", who must hold the admin
    role). Returns the row and the key itself, which is shown once and never stored."""
    channel, _, user_id = admin.partition(":")
    if "admin" not in await roles_of(session, channel, user_id):
        raise ApiKeyError(f"{admin} does not hold the admin role")
    name = " ".join(name.split())
    if not name:
        raise ApiKeyError("the key needs a name")
    secret = secrets.token_urlsafe(32)
    row = ApiKey(name=name[:120], key_hash=digest(secret), prefix=secret[:PREFIX_LENGTH],
                 created_by=f"{actor} as {admin}"[:120], created_at=now)
    session.add(row)
    await session.flush()
    InteractionLogs(session).admin("api_key_created", f"{row.id} {row.name}"[:500],
                                   f"{actor} as {admin}"[:120], now=now)
    return row, secret


async def listing(session: AsyncSession) -> Sequence[ApiKey]:
    """Every key, oldest first, revoked ones included."""
    return (await session.exec(select(ApiKey).order_by(col(ApiKey.id)))).all()


async def revoke(session: AsyncSession, key_id: int, *, actor: str, now: datetime) -> ApiKey:
    """Revoke a key: it is refused from now on."""
    row = await session.get(ApiKey, key_id)
    if row is None:
        raise ApiKeyError(f"no API key {key_id}")
    if row.revoked_at is None:
        row.revoked_at = now
        session.add(row)
        InteractionLogs(session).admin("api_key_revoked", f"{row.id} {row.name}"[:500],
                                       actor, now=now)
    return row


async def use(session: AsyncSession, secret: str, what: str, *, now: datetime
              ) -> ApiKey | None:
    """The live key for `secret`, its use counted and logged; None for an unknown or
    revoked key (a revoked key's attempt is logged too). Raises KeyLimitReached past the
    daily limit (logged)."""
    if not secret:
        return None
    row = (await session.exec(select(ApiKey).where(ApiKey.key_hash == digest(secret)))).first()
    if row is None:
        return None
    actor = f"api-key:{row.id}"
    kind = "api_key_used"
    if row.revoked_at is not None:
        kind = "api_key_refused"
    elif await _uses_since(session, actor, now - timedelta(hours=24)) >= DAILY_LIMIT:
        kind = "api_key_limited"
    InteractionLogs(session).append(InteractionLog(
        at=now, channel="open311", direction="in", kind=kind, text=what[:500], actor=actor))
    if kind == "api_key_refused":
        return None
    if kind == "api_key_limited":
        raise KeyLimitReached(row.id)
    row.uses += 1
    row.last_used_at = now
    session.add(row)
    return row


async def _uses_since(session: AsyncSession, actor: str, since: datetime) -> int:
    query = select(sa.func.count()).select_from(InteractionLog).where(
        InteractionLog.actor == actor, InteractionLog.kind == "api_key_used",
        col(InteractionLog.at) >= since)
    return (await session.exec(query)).one()
