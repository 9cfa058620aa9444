"""A webhook's body, read defensively: every malformed request is a 4xx, never a 500.

Oversize (413), a broken gzip/deflate encoding, bytes that are not UTF-8 JSON, JSON nested
too deeply or that is no object (400): each is refused with one line in the log, no
traceback. Callers check the platform's secret or signature BEFORE calling `parse`
(`raw` reads the bytes without parsing them). What is returned is cleaned
(bot.sanitize): no NUL, no lone surrogate reaches storage, rendering or the log.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from bot.sanitize import clean_json

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024  # the web app's client_max_size; real updates are a few kilobytes


class Malformed(Exception):
    """A body we refuse; `status` is the HTTP status to answer (400 or 413)."""

    def __init__(self, status: int, reason: str, close: bool = False) -> None:
        super().__init__(reason)
        self.status, self.reason, self.close = status, reason, close


async def raw(request: web.Request, limit: int = MAX_BODY) -> bytes:
    """The body's bytes (decompressed as its Content-Encoding says); Malformed when it is
    larger than `limit` or its encoding is broken."""
    if request.content_length is not None and request.content_length > limit:
        raise Malformed(413, "body too large")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Malformed(413, "body too large") from None
    except Exception as exc:  # aiohttp raises several kinds for a broken gzip/deflate body
        # The rest of a broken body cannot be read either: end it here and close the
        # connection after the answer, rather than let aiohttp try to read on (it would log
        # the same error again, with a traceback).
        request.content.feed_eof()
        raise Malformed(400, f"body unreadable ({type(exc).__name__})", close=True) from None
    if len(body) > limit:
        raise Malformed(413, "body too large")
    return body


def parse(body: bytes) -> dict[str, Any]:
    """The JSON object in `body`, cleaned; Malformed for anything else.

    Non-standard constants (NaN, Infinity) read as null: nothing of ours needs them.
    """
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=lambda _: None)
        value = clean_json(value)
    except (ValueError, RecursionError):  # UnicodeDecodeError and TooDeep are ValueErrors
        raise Malformed(400, "body is not valid JSON") from None
    if not isinstance(value, dict):
        raise Malformed(400, "body is not a JSON object")
    return value


def refuse(channel: str, problem: Malformed, body: dict[str, Any]) -> web.Response:
    """The answer to a refused body (the platform's JSON shape), logged in one line."""
    log.info("%s: webhook request refused: %s", channel, problem.reason)
    response = web.json_response(body, status=problem.status)
    if problem.close:
        response.force_close()
    return response
