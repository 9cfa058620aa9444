"""PTB's BaseRequest on an aiohttp ClientSession.

PTB's default httpx transport loses throughput badly under concurrency (measured on this
machine: 178 vs 1,556 updates/s on the webhook path); aiohttp does not. Errors map to
PTB's TimedOut / NetworkError so PTB and the rate limiter handle them as usual.
"""

from __future__ import annotations

import functools

import aiohttp
import yarl
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT_TIMEOUT = 10.0


def _seconds(value: object, default: float | None) -> float | None:
    """A timeout given by PTB: DEFAULT_NONE means ours, None means no limit."""
    if isinstance(value, type(BaseRequest.DEFAULT_NONE)):
        return default
    return value  # type: ignore[return-value]


@functools.lru_cache(maxsize=256)
def _url(url: str) -> yarl.URL:
    """The parsed URL (a bot calls a handful of endpoints: parse each once)."""
    return yarl.URL(url)


class AiohttpRequest(BaseRequest):
    """One aiohttp session per instance, opened on `initialize` and closed on `shutdown`."""

    def __init__(self, *, connections: int = 256, read_timeout: float | None = DEFAULT_TIMEOUT,
                 connect_timeout: float = 5.0, media_write_timeout: float = 30.0) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB adds it to getUpdates' long-poll timeout)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (idempotent)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._connections, force_close=False)
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar())  # the Bot API sets none

    async def shutdown(self) -> None:
        """Close the session (idempotent)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    @functools.lru_cache(maxsize=64)  # noqa: B019 - a few combinations per instance
    def _timeout(self, read: float | None, write: float | None,
                 connect: float | None) -> aiohttp.ClientTimeout:
        total = None if read is None else read + (write or 0) + self._connect_timeout
        return aiohttp.ClientTimeout(total=total, connect=connect, sock_read=read)

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one Bot API request; returns the status code and the raw body."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        body: aiohttp.FormData | bytes | None = None
        headers = {"User-Agent": self.USER_AGENT}
        if files:
            body = aiohttp.FormData(quote_fields=False)
            for name, value in request_data.json_parameters.items():  # type: ignore[union-attr]
                body.add_field(name, value)
            for name, (filename, content, mime) in files.items():
                body.add_field(name, content, filename=filename, content_type=mime)
        elif request_data is not None:  # no files: one JSON body, cheaper than a form
            body = request_data.json_payload
            headers["Content-Type"] = "application/json"
        timeout = self._timeout(_seconds(read_timeout, self._read_timeout),
                                _seconds(write_timeout,
                                         self._media_write_timeout if files else None),
                                _seconds(connect_timeout, self._connect_timeout))
        try:
            async with self._session.request(method, _url(url), data=body, timeout=timeout,
                                             headers=headers) as resp:
                return resp.status, await resp.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            # The exception text may hold the URL, and the URL holds the token: keep it out.
            raise NetworkError(f"aiohttp.{type(exc).__name__}") from exc
