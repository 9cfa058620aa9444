"""The Zalo OA token pair, kept in the database (table zalo_oa_tokens) and rotated safely.

Zalo's refresh token is single-use: a refresh answers a new pair and the old refresh token
is dead. So a refresh is serialised (an asyncio lock here, plus `SELECT … FOR UPDATE` on
the row on PostgreSQL, so two processes never spend the same refresh token) and the new
pair is committed before the new access token is used. The one window left: a crash
between Zalo's answer and our commit loses the new pair; the admin then authorises again.

The environment pair (ZALO_OA_ACCESS_TOKEN / ZALO_OA_REFRESH_TOKEN) seeds an empty
store only; afterwards the stored pair wins.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.handlers.zalo_oa_client import TokenPair, ZaloOAError, ZaloOAuth
from storage import clock
from storage.db import Database
from storage.models import ZaloOAToken

log = logging.getLogger(__name__)
REFRESH_BEFORE = timedelta(hours=1)  # access tokens live 25 h; renew in their last hour
PERMISSION_PATH = "/v4/oa/permission"


class NoTokens(ZaloOAError):
    """No usable token pair: the OA admin must authorise the app."""

    def __init__(self) -> None:
        super().__init__("tokens", None, "no Zalo OA token pair; run `python -m bot zalo-oa "
                                         "authorize` (or set ZALO_OA_ACCESS_TOKEN and "
                                         "ZALO_OA_REFRESH_TOKEN)")


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (base64url, no padding)."""
    verifier = secrets.token_urlsafe(32)  # 43 characters
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


class TokenStore:
    """Hands out a valid access token; refreshes it before expiry, one refresh at a time."""

    def __init__(self, db: Database, auth: ZaloOAuth) -> None:
        self.db, self.auth = db, auth
        self.app_id = auth.app_id
        self._lock = asyncio.Lock()
        self._access: str | None = None
        self._expires_at: datetime | None = None

    async def seed(self, access_token: str | None, refresh_token: str | None) -> bool:
        """Store the environment's pair when no pair is stored; True when it was used."""
        if not (access_token and refresh_token):
            return False
        async with self.db.unit_of_work() as session:
            row = await session.get(ZaloOAToken, self.app_id)
            if row is not None and row.refresh_token:
                return False
            row = row or ZaloOAToken(app_id=self.app_id)
            # The expiry of an environment pair is unknown: used until Zalo refuses it.
            row.access_token, row.refresh_token, row.expires_at = (
                access_token, refresh_token, None)
            row.updated_at = clock.now()
            session.add(row)
            await session.commit()
        return True

    async def access_token(self) -> str:
        """A valid access token (refreshed first when it expires within REFRESH_BEFORE)."""
        if self._access is None:
            await self._load()
        if self._access is None:
            raise NoTokens()
        if self._expiring(self._expires_at):
            return await self.refresh(self._access)
        return self._access

    async def refused(self, token: str) -> str:
        """Zalo refused `token`: a fresh one (refreshed unless someone already did)."""
        return await self.refresh(token)

    async def refresh(self, stale: str | None) -> str:
        """Replace the pair unless `stale` was already replaced; returns the access token."""
        async with self._lock:
            if self._access and self._access != stale and not self._expiring(self._expires_at):
                return self._access  # refreshed while we waited
            if self.db.is_sqlite:  # one process: the asyncio lock serialises
                async with self.db.session() as session:
                    row = await session.get(ZaloOAToken, self.app_id)
                return await self._rotate(row, stale, None)
            async with self.db.session() as session:
                row = (await session.exec(
                    select(ZaloOAToken).where(ZaloOAToken.app_id == self.app_id)
                    .with_for_update())).one_or_none()  # other processes wait here
                return await self._rotate(row, stale, session)

    async def _rotate(self, row: ZaloOAToken | None, stale: str | None,
                      session: AsyncSession | None) -> str:
        """Refresh with the row's refresh token and commit the new pair before returning."""
        if row is None or not row.refresh_token:
            raise NoTokens()
        if row.access_token and row.access_token != stale and not self._expiring(row.expires_at):
            self._remember(row)  # another process refreshed it
            return row.access_token
        pair = await self.auth.refresh(row.refresh_token)
        if session is None:
            await self.store(pair, refreshed=True)
        else:
            self._apply(row, pair)
            row.refreshes += 1
            session.add(row)
            await session.commit()
            self._remember(row)
        log.info("zalo_oa: access token refreshed")
        return pair.access_token

    async def store(self, pair: TokenPair, *, refreshed: bool = False) -> None:
        """Keep a new pair (committed before anyone uses it); clears a pending authorisation."""
        async with self.db.unit_of_work() as session:
            row = await session.get(ZaloOAToken, self.app_id) or ZaloOAToken(app_id=self.app_id)
            self._apply(row, pair)
            row.refreshes += refreshed
            row.state = row.code_verifier = None
            session.add(row)
            await session.commit()
            self._remember(row)

    async def begin_authorization(self, redirect_uri: str, oauth_url: str) -> str:
        """The OAuth v4 link for the OA admin; its state and code verifier are stored."""
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(16)
        async with self.db.unit_of_work() as session:
            row = await session.get(ZaloOAToken, self.app_id) or ZaloOAToken(app_id=self.app_id)
            row.state, row.code_verifier, row.updated_at = state, verifier, clock.now()
            session.add(row)
            await session.commit()
        query = urlencode({"app_id": self.app_id, "redirect_uri": redirect_uri,
                           "code_challenge": challenge, "state": state})
        return f"{oauth_url.rstrip('/')}{PERMISSION_PATH}?{query}"

    async def finish_authorization(self, code: str, state: str | None = None) -> None:
        """Exchange the callback's code (with the stored verifier) and store the pair."""
        async with self.db.session() as session:
            row = await session.get(ZaloOAToken, self.app_id)
        if row is None or not row.code_verifier:
            raise ZaloOAError("authorize", None, "no pending authorisation; run "
                              "`python -m bot zalo-oa authorize` first")
        if state is not None and state != row.state:
            raise ZaloOAError("authorize", None, "the state does not match the pending "
                              "authorisation")
        await self.store(await self.auth.exchange_code(code, row.code_verifier))

    def _apply(self, row: ZaloOAToken, pair: TokenPair) -> None:
        now = clock.now()
        row.access_token, row.refresh_token = pair.access_token, pair.refresh_token
        row.expires_at = now + timedelta(seconds=pair.expires_in) if pair.expires_in else None
        row.updated_at = now

    def _remember(self, row: ZaloOAToken) -> None:
        self._access, self._expires_at = row.access_token, row.expires_at

    async def _load(self) -> None:
        async with self.db.session() as session:
            row = await session.get(ZaloOAToken, self.app_id)
        if row is not None and row.access_token:
            self._remember(row)

    def _expiring(self, expires_at: datetime | None) -> bool:
        return expires_at is not None and expires_at - clock.now() < REFRESH_BEFORE
