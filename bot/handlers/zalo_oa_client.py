"""A thin aiohttp client of the Zalo Official Account API (v2/v3) and of its OAuth v4.

API calls send the header `access_token`; a JSON body with a non-zero `error` is an error
whatever the HTTP status. Error -216 (token invalid or expired) asks the token source for
a fresh token and tries once more. No token ever goes into a URL, a log line or an
exception message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from bot.services.send_budget import SendBudget

log = logging.getLogger(__name__)
DEFAULT_API_URL = "https://openapi.zalo.me"
DEFAULT_OAUTH_URL = "https://oauth.zaloapp.com"
CALL_TIMEOUT = 20  # seconds
TOKEN_REFUSED = {-216}  # access token invalid or expired
OUTSIDE_WINDOW = {-230, -213}  # no interaction in the last 7 days / not allowed to send now
TOKEN_PATH = "/v4/oa/access_token"


class ZaloOAError(Exception):
    """The API or OAuth refused a call: its code and description (never a token)."""

    def __init__(self, what: str, code: int | None, description: str) -> None:
        super().__init__(f"{what} failed ({code}): {description}"[:300])
        self.what, self.code, self.description = what, code, description


@dataclass(frozen=True)
class TokenPair:
    """What OAuth answers: the access token, the new single-use refresh token, its lifetime."""

    access_token: str
    refresh_token: str
    expires_in: int  # seconds


class TokenSource(Protocol):
    """Where the client gets its access token (bot.handlers.zalo_oa_tokens.TokenStore)."""

    async def access_token(self) -> str: ...

    async def refused(self, token: str) -> str: ...


class _Http:
    """One aiohttp session, opened on first use."""

    def __init__(self, session: aiohttp.ClientSession | None) -> None:
        self._session, self._own_session = session, session is None

    def http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        """Close the HTTP session we opened."""
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None


class ZaloOAuth(_Http):
    """OAuth v4 of an OA app: exchange an authorisation code, refresh a token pair."""

    def __init__(self, app_id: str, app_secret: str, base_url: str = DEFAULT_OAUTH_URL, *,
                 session: aiohttp.ClientSession | None = None) -> None:
        super().__init__(session)
        self.app_id, self._secret = app_id, app_secret
        self.base_url = base_url.rstrip("/")

    async def exchange_code(self, code: str, code_verifier: str) -> TokenPair:
        """The token pair for the code the OA admin's consent gave us (PKCE)."""
        return await self._token("authorization code", {
            "code": code, "app_id": self.app_id, "grant_type": "authorization_code",
            "code_verifier": code_verifier})

    async def refresh(self, refresh_token: str) -> TokenPair:
        """A new pair; the refresh token given is used up, whatever the answer."""
        return await self._token("refresh", {
            "refresh_token": refresh_token, "app_id": self.app_id,
            "grant_type": "refresh_token"})

    async def _token(self, what: str, form: dict[str, str]) -> TokenPair:
        try:
            async with self.http().post(
                self.base_url + TOKEN_PATH, data=form, headers={"secret_key": self._secret},
                timeout=aiohttp.ClientTimeout(total=CALL_TIMEOUT),
            ) as response:
                status, body = response.status, await _json(response)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ZaloOAError(f"oauth {what}", None, f"network: {type(exc).__name__}") from None
        access, refresh = body.get("access_token"), body.get("refresh_token")
        if status != 200 or _code(body) or not access or not refresh:
            error = ZaloOAError(f"oauth {what}", _code(body) or status, _description(body, status))
            log.error("zalo_oa %s", error)
            raise error
        try:
            expires_in = int(body.get("expires_in") or 0)  # Zalo sends it as a string
        except (TypeError, ValueError):
            expires_in = 0
        return TokenPair(str(access), str(refresh), expires_in)


class ZaloOAClient(_Http):
    """Calls the OA API with the token source's access token."""

    def __init__(self, tokens: TokenSource, base_url: str = DEFAULT_API_URL, *,
                 session: aiohttp.ClientSession | None = None,
                 budget: SendBudget | None = None) -> None:
        super().__init__(session)
        self.tokens, self.budget = tokens, budget
        self.base_url = base_url.rstrip("/")

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One call; returns `data`. A refused token is refreshed and the call made once more."""
        token = await self.tokens.access_token()
        try:
            return await self._call(method, path, body, token)
        except ZaloOAError as exc:
            if exc.code not in TOKEN_REFUSED:
                raise
        log.warning("zalo_oa %s: access token refused; refreshing", path)
        return await self._call(method, path, body, await self.tokens.refused(token))

    async def _call(self, method: str, path: str, body: dict[str, Any] | None,
                    token: str) -> Any:
        try:
            async with self.http().request(
                method, self.base_url + path, json=body if method != "GET" else None,
                headers={"access_token": token}, timeout=aiohttp.ClientTimeout(total=CALL_TIMEOUT),
            ) as response:
                status, answer = response.status, await _json(response)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ZaloOAError(path, None, f"network: {type(exc).__name__}") from None
        code = _code(answer)
        if status == 200 and code == 0 and answer:
            return answer.get("data")
        error = ZaloOAError(path, code or status, _description(answer, status))
        if error.code not in TOKEN_REFUSED and error.code not in OUTSIDE_WINDOW:
            log.error("zalo_oa %s", error)
        raise error

    async def get_oa(self) -> dict[str, Any]:
        """The OA's own profile (checks the token at start)."""
        return await self.call("GET", "/v2.0/oa/getoa") or {}

    async def send_cs(self, recipient: dict[str, str], message: dict[str, Any]) -> dict[str, Any]:
        """A consultation message: recipient {"message_id": …} answers a message,
        {"user_id": …} writes first. Waits for the send budget's slot first."""
        if self.budget is not None:
            await self.budget.take()
        return await self.call("POST", "/v3.0/oa/message/cs",
                               {"recipient": recipient, "message": message}) or {}

    async def tag_follower(self, user_id: str, tag: str) -> None:
        """Put a tag on a follower (the tag is created when new)."""
        await self.call("POST", "/v2.0/oa/tag/tagfollower", {"user_id": user_id, "tag_name": tag})

    async def untag_follower(self, user_id: str, tag: str) -> None:
        """Take a tag off a follower."""
        await self.call("POST", "/v2.0/oa/tag/rmfollowerfromtag",
                        {"user_id": user_id, "tag_name": tag})


def _code(body: dict[str, Any]) -> int:
    """The body's error code (0 when none); Zalo sometimes sends it as a string."""
    try:
        return int(body.get("error") or 0)
    except (TypeError, ValueError):
        return -1


def _description(body: dict[str, Any], status: int) -> str:
    return str(body.get("message") or body.get("error_description") or body.get("error_name")
               or f"HTTP {status}")


async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """The JSON body as a dict; an empty dict when it is not JSON."""
    try:
        body = await response.json(content_type=None)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
