"""A thin client of the Zalo Bot Platform API on aiohttp: `{base}/bot{token}/METHOD`, JSON.

A reply with `"ok": false` is an error even with HTTP 200 (Zalo answers most errors that
way). HTTP 429 ("quota exceeded", no retry-after published) waits and retries; network
errors retry with backoff. With a send budget (bot.services.send_budget, shared by every
process on PostgreSQL), each send* call waits for its slot first. The token is in the URL
path, so no URL is ever logged or put into an exception message.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from bot.services.send_budget import SendBudget

log = logging.getLogger(__name__)
DEFAULT_API_URL = "https://bot-api.zaloplatforms.com"
RETRIES = (0.5, 2.0, 5.0)  # seconds to wait before each retry of a failed call
QUOTA_RETRIES = (1.0, 3.0, 10.0)  # seconds to wait after each HTTP 429
NOTHING_NEW = 408  # getUpdates long poll ended without an event
CALL_TIMEOUT = 30  # seconds for an ordinary call


class ZaloError(Exception):
    """The API refused a call: its error code and description (never the URL or token)."""

    def __init__(self, method: str, code: int | None, description: str) -> None:
        super().__init__(f"{method} failed ({code}): {description}"[:300])
        self.method, self.code, self.description = method, code, description


class ZaloClient:
    """Calls the Bot API; one aiohttp session, created on first use."""

    def __init__(self, token: str, base_url: str = DEFAULT_API_URL, *,
                 session: aiohttp.ClientSession | None = None,
                 budget: SendBudget | None = None) -> None:
        self._token = token
        self.budget = budget
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._own_session = session is None

    async def close(self) -> None:
        """Close the HTTP session we opened."""
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, params: dict[str, Any] | None = None,
                   wait: float = CALL_TIMEOUT, *, retry: bool = True) -> Any:
        """POST one method; returns `result`, raises ZaloError for `ok: false`.

        Without `retry`, a network error fails at once (no backoff).
        """
        if self._session is None:
            self._session = aiohttp.ClientSession()
        if self.budget is not None and method.startswith("send") and method != "sendChatAction":
            await self.budget.take()
        url = f"{self.base_url}/bot{self._token}/{method}"
        quota, network = iter(QUOTA_RETRIES), iter(RETRIES if retry else ())
        while True:
            try:
                async with self._session.post(
                    url, json=params or {}, timeout=aiohttp.ClientTimeout(total=wait)
                ) as response:
                    status = response.status
                    body = await _json(response)
            except (aiohttp.ClientError, TimeoutError) as exc:
                pause = next(network, None)
                if pause is None:
                    raise ZaloError(method, None, f"network: {type(exc).__name__}") from None
                log.warning("zalo %s failed (%s), retrying in %.1f s", method,
                            type(exc).__name__, pause)
                await asyncio.sleep(pause)
                continue
            code = body.get("error_code") if isinstance(body.get("error_code"), int) else None
            if status == 429 or code == 429:
                pause = next(quota, None)
                if pause is not None:
                    log.warning("zalo %s: quota exceeded, retrying in %.1f s", method, pause)
                    await asyncio.sleep(pause)
                    continue
            if status == 200 and body.get("ok") is True:
                return body.get("result")
            error = ZaloError(method, code or status, str(body.get("description") or
                                                           f"HTTP {status}"))
            if (code or status) != NOTHING_NEW:
                log.error("zalo %s", error)
            raise error

    async def get_me(self) -> dict[str, Any]:
        """The bot's own account (checks the token; fails fast when unreachable)."""
        return await self.call("getMe", retry=False)

    async def get_updates(self, seconds: int = 30) -> dict[str, Any] | None:
        """Wait up to `seconds` for one event; None when nothing came."""
        try:
            result = await self.call("getUpdates", {"timeout": seconds}, wait=seconds + 10)
        except ZaloError as exc:
            if exc.code == NOTHING_NEW:
                return None
            raise
        return result if isinstance(result, dict) and result else None

    async def set_webhook(self, url: str, secret_token: str) -> dict[str, Any]:
        """Have Zalo post events to `url` with the secret in X-Bot-Api-Secret-Token."""
        return await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> dict[str, Any]:
        """Stop webhook delivery (needed before getUpdates works)."""
        return await self.call("deleteWebhook")

    async def get_webhook_info(self) -> dict[str, Any]:
        """The webhook URL Zalo has (never the secret)."""
        return await self.call("getWebhookInfo")

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        """Send a text of 1 to 2,000 characters."""
        return await self.call("sendMessage", {"chat_id": chat_id, "text": text})

    async def send_photo(self, chat_id: str, photo_url: str,
                         caption: str | None = None) -> dict[str, Any]:
        """Send a photo by URL (Zalo downloads it), with an optional caption."""
        params = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            params["caption"] = caption
        return await self.call("sendPhoto", params)

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        """Show "typing…" in the chat."""
        await self.call("sendChatAction", {"chat_id": chat_id, "action": action})


async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """The JSON body as a dict; an empty dict when it is not JSON."""
    try:
        body = await response.json(content_type=None)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
