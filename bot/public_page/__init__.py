"""The public page of the commune's record ("Dân giám sát"), served at `/` and `/cong-khai/…`
by the bot's HTTP server: an edge over bot.services.public_record, like the chat.

Pages are rendered once per language and address and kept for CACHE_SECONDS, and one
request at a time renders a missing page while the others wait for it, so a crowd costs
the database one query set per page every CACHE_SECONDS (bench/public_page.py measures it).
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.config import SUPPORTED_LOCALES
from bot.public_page import board_pages, petition_pages
from bot.public_page.layout import BOARD, DIALOGUES, FILES, LOOKUP, PETITIONS, Frame
from bot.sanitize import clean_text
from bot.services import disclosures, public_record, quarter_table
from bot.services.petitions import Settings
from storage import clock
from storage.db import Database
from storage.repositories import Communes

CACHE_SECONDS = 30.0
CACHE_ENTRIES = 512  # addresses kept (searches and codes vary; the oldest go first)
COOKIE = "lang"



@dataclass(frozen=True)
class Rendered:
    """A rendered page as it is sent."""

    body: bytes
    content_type: str = "text/html"
    status: int = 200


class PageCache:
    """Rendered pages by key for a short time; concurrent misses of one key render once."""

    def __init__(self, seconds: float = CACHE_SECONDS, entries: int = CACHE_ENTRIES) -> None:
        self.seconds, self.entries = seconds, entries
        self._pages: OrderedDict[tuple, tuple[float, Rendered]] = OrderedDict()
        self._pending: dict[tuple, asyncio.Future[Rendered]] = {}

    async def get(self, key: tuple, render: Callable[[], Awaitable[Rendered]]) -> Rendered:
        """The page for `key`, rendered by `render` when missing or stale."""
        hit = self._pages.get(key)
        if hit and time.monotonic() - hit[0] < self.seconds:
            return hit[1]
        if key in self._pending:
            return await asyncio.shield(self._pending[key])
        future: asyncio.Future[Rendered] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            value = await render()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody else must
            raise
        finally:
            self._pending.pop(key, None)
        future.set_result(value)
        self._pages[key] = (time.monotonic(), value)
        self._pages.move_to_end(key)
        while len(self._pages) > self.entries:
            self._pages.popitem(last=False)
        return value


def _locale(request: web.Request, default: str) -> str:
    """?lang= first, then the cookie it set, then the commune's default language."""
    for value in (request.query.get("lang"), request.cookies.get(COOKIE)):
        if value in SUPPORTED_LOCALES:
            return value
    return default


def _recent_quarters(now: datetime, timezone: str, count: int = 4) -> list[str]:
    """This quarter and the ones before it, newest first: "2026Q4", "2026Q3" …"""
    today = disclosures.local_day(now, timezone)
    year, quarter = today.year, (today.month - 1) // 3 + 1
    names = []
    for _ in range(count):
        names.append(f"{year}Q{quarter}")
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return names


def routes(db: Database, *, timezone: str, data_dir: Path, default_locale: str = "vi",
           cache: PageCache | None = None) -> list[web.RouteDef]:
    """The public page's routes."""
    cache = cache or PageCache()

    async def frame_of(session: Any, request: web.Request, locale: str,
                       params: dict[str, str]) -> Frame:
        return Frame(locale, timezone, await Communes(session).current(), clock.now(),
                     request.path, params)

    def respond(request: web.Request, rendered: Rendered) -> web.Response:
        response = web.Response(body=rendered.body, status=rendered.status,
                                content_type=rendered.content_type, charset="utf-8")
        response.headers["Cache-Control"] = f"public, max-age={int(cache.seconds)}"
        response.headers["Vary"] = "Cookie"  # the language may come from the cookie
        lang = request.query.get("lang")
        if lang in SUPPORTED_LOCALES and request.cookies.get(COOKIE) != lang:
            response.set_cookie(COOKIE, lang, max_age=365 * 86400, samesite="Lax")
        return response

    def html(text: str, status: int = 200) -> Rendered:
        return Rendered(text.encode(), "text/html", status)

    async def home(request: web.Request) -> web.Response:
        """Feedback and petitions: the figures, the charts, the open public feedback."""
        locale = _locale(request, default_locale)

        async def render() -> Rendered:
            async with db.session() as session:
                frame = await frame_of(session, request, locale, {})
                record = await public_record.petition_record(session, frame.now, timezone)
                return html(petition_pages.record(frame, record, Settings.of(frame.commune)))
        return respond(request, await cache.get(("home", locale), render))

    async def one_petition(request: web.Request) -> web.Response:
        """One petition's public page by its tracking code."""
        locale = _locale(request, default_locale)
        code = clean_text(request.match_info["code"])[:30]

        async def render() -> Rendered:
            async with db.session() as session:
                frame = await frame_of(session, request, locale, {})
                found = await public_record.public_petition(session, code)
                if found is None:
                    return html(petition_pages.not_public(frame, code), 404)
                return html(petition_pages.petition(frame, found, Settings.of(frame.commune)))
        return respond(request, await cache.get(("petition", code.upper(), locale), render))

    async def lookup(request: web.Request) -> web.Response:
        """The look-up form's target: on to the petition's page."""
        code = "".join(clean_text(request.query.get("ma", "")).split()).upper()[:30]
        lang = request.query.get("lang")
        suffix = f"?lang={lang}" if lang in SUPPORTED_LOCALES else ""
        raise web.HTTPSeeOther(f"{PETITIONS}/{quote(code, safe='-')}{suffix}" if code else "/")

    async def board(request: web.Request) -> web.Response:
        """Public information: the board, the search, consultations, the quarterly list."""
        locale = _locale(request, default_locale)
        query = clean_text(request.query.get("q", ""))[:100]  # no NUL reaches the database
        quarter = clean_text(request.query.get("quy", "")).upper()[:6]

        async def render() -> Rendered:
            async with db.session() as session:
                params = {k: v for k, v in (("q", query), ("quy", quarter)) if v}
                frame = await frame_of(session, request, locale, params)
                quarters = _recent_quarters(frame.now, timezone)
                chosen = quarter if quarter in quarters else quarters[0]
                data = await public_record.board(session, frame.now, query)
                rows = await disclosures.quarter_list(session, chosen, timezone)
                table = quarter_table.table(rows, locale, timezone)
                return html(board_pages.board(frame, data, query, chosen, quarters, table))
        return respond(request, await cache.get(("board", query, quarter, locale), render))

    async def quarter_csv(request: web.Request) -> web.Response:
        """The quarterly list (Art. 13) as a CSV file."""
        locale, quarter = _locale(request, default_locale), request.match_info["quarter"]
        if quarter not in _recent_quarters(clock.now(), timezone, count=4 * 10):
            raise web.HTTPNotFound()

        async def render() -> Rendered:
            async with db.session() as session:
                rows = await disclosures.quarter_list(session, quarter, timezone)
            header, lines = quarter_table.table(rows, locale, timezone)
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(header)
            writer.writerows(lines)
            return Rendered(("\ufeff" + out.getvalue()).encode(), "text/csv")  # BOM: Excel
        response = respond(request, await cache.get(("csv", quarter, locale), render))
        response.headers["Content-Disposition"] = (
            f'attachment; filename="cong-khai-{quarter}.csv"')
        return response

    async def file(request: web.Request) -> web.StreamResponse:
        """A disclosure's file, once it was posted."""
        async with db.session() as session:
            attachment = await public_record.posted_attachment(
                session, int(request.match_info["id"]), clock.now())
        root = (data_dir / "files").resolve()
        path = (data_dir / attachment["ref"]).resolve() if attachment else None
        if path is None or not path.is_relative_to(root) or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Cache-Control": "public, max-age=300"})

    async def dialogues(request: web.Request) -> web.Response:
        """Dialogue sessions: upcoming ones, held ones, the yearly minimum."""
        locale = _locale(request, default_locale)

        async def render() -> Rendered:
            async with db.session() as session:
                frame = await frame_of(session, request, locale, {})
                data = await public_record.dialogues(session, frame.now, timezone)
                return html(board_pages.dialogues(frame, data))
        return respond(request, await cache.get(("dialogues", locale), render))

    return [
        web.get("/", home), web.get(PETITIONS, home), web.get(LOOKUP, lookup),
        web.get(PETITIONS + "/{code}", one_petition),
        web.get(BOARD, board), web.get(BOARD + r"/{quarter:\d{4}Q[1-4]}.csv", quarter_csv),
        web.get(FILES + r"/{id:[0-9]{1,9}}/{name}", file), web.get(DIALOGUES, dialogues),
    ]
