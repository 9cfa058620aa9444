"""Signing in to the staff web desk from the chat: one-time links, browser sessions, CSRF.

No passwords: a staff identity asks the chat for a link (or the operator prints one); the
link is good once, for LINK_MINUTES; opening it starts a session of SESSION_HOURS. Only
SHA-256 digests of links and cookies are stored, so a database copy opens nothing. The role
is read from the database on every request (`current`): when it is gone, every session of
that identity ends at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.roles import STAFF, identity, roles_of
from storage.models import InteractionLog, WebSession, WebSignIn
from storage.repositories import InteractionLogs

LINK_MINUTES = 10
SESSION_HOURS = 8
SIGN_IN_PATH = "/ban-lam-viec/dang-nhap"


class AccessError(ValueError):
    """A link or session that does not open the desk (the reason is for the log only)."""


def digest(token: str) -> str:
    """The stored form of a link or cookie token."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: derived from its secret cookie, so it needs no row and
    cannot be made without the cookie."""
    return hmac.new(session_token.encode(), b"web-desk-csrf", hashlib.sha256).hexdigest()[:32]


def csrf_ok(session_token: str, given: str | None) -> bool:
    """True when `given` is the session's CSRF token."""
    return bool(given) and hmac.compare_digest(csrf_token(session_token), given or "")


def link_url(base_url: str, token: str) -> str:
    """The sign-in address sent in the chat."""
    return f"{base_url.rstrip('/')}{SIGN_IN_PATH}?t={token}"


async def is_staff(session: AsyncSession, channel: str, user_id: str) -> bool:
    """True while the identity holds the staff or admin role."""
    return bool(await roles_of(session, channel, user_id) & set(STAFF))


async def issue_link(session: AsyncSession, channel: str, user_id: str, now: datetime) -> str:
    """A new one-time token for a staff identity (AccessError otherwise). The caller commits."""
    if not await is_staff(session, channel, user_id):
        raise AccessError("not staff")
    token = secrets.token_urlsafe(32)
    session.add(WebSignIn(token_hash=digest(token), channel=channel, user_id=user_id,
                          created_at=now, expires_at=now + timedelta(minutes=LINK_MINUTES)))
    _log(session, "web_link", channel, user_id, now)
    return token


async def redeem(session: AsyncSession, token: str, now: datetime) -> tuple[str, WebSession]:
    """Use a link once: (the new session's cookie token, its row). AccessError for an unknown,
    used or expired link, or an identity no longer staff. The caller commits."""
    link = (await session.exec(select(WebSignIn).where(
        WebSignIn.token_hash == digest(token or "")))).first()
    if link is None:
        raise AccessError("unknown link")
    if link.used_at is not None:
        raise AccessError("used link")
    link.used_at = now
    session.add(link)
    if link.expires_at <= now:
        raise AccessError("expired link")
    if not await is_staff(session, link.channel, link.user_id):
        raise AccessError("not staff")
    cookie = secrets.token_urlsafe(32)
    row = WebSession(token_hash=digest(cookie), channel=link.channel, user_id=link.user_id,
                     created_at=now, expires_at=now + timedelta(hours=SESSION_HOURS))
    session.add(row)
    _log(session, "web_sign_in", link.channel, link.user_id, now)
    return cookie, row


async def current(session: AsyncSession, cookie: str | None, now: datetime
                  ) -> WebSession | None:
    """The live session of a cookie whose identity is still staff, or None. A session whose
    role is gone ends, with every other session of its identity. The caller commits."""
    if not cookie:
        return None
    row = (await session.exec(select(WebSession).where(
        WebSession.token_hash == digest(cookie)))).first()
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    if not await is_staff(session, row.channel, row.user_id):
        await end_all(session, row.channel, row.user_id, now)
        return None
    return row


async def end(session: AsyncSession, row: WebSession, now: datetime) -> None:
    """Sign one browser out."""
    row.ended_at = now
    session.add(row)
    _log(session, "web_sign_out", row.channel, row.user_id, now)


async def end_all(session: AsyncSession, channel: str, user_id: str, now: datetime) -> int:
    """End every open session of an identity (its role was revoked); returns how many."""
    result = await session.exec(
        sa.update(WebSession).where(WebSession.channel == channel,
                                    WebSession.user_id == user_id,
                                    col(WebSession.ended_at).is_(None))
        .values(ended_at=now))
    if result.rowcount:
        _log(session, "web_sessions_ended", channel, user_id, now)
    return result.rowcount


def log_action(session: AsyncSession, row: WebSession, kind: str, text: str, now: datetime
               ) -> None:
    """A change made on the web desk, in the interaction log with its actor, as in the chat."""
    InteractionLogs(session).append(InteractionLog(
        at=now, channel=row.channel[:20], direction="admin", kind=f"web_{kind}"[:30],
        text=text[:500], actor=identity(row.channel, row.user_id)))


def _log(session: AsyncSession, kind: str, channel: str, user_id: str, now: datetime) -> None:
    InteractionLogs(session).append(InteractionLog(
        at=now, channel=channel[:20], direction="admin", kind=kind,
        actor=identity(channel, user_id)))
