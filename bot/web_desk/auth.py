"""Who may open a desk page: the session cookie, the role read afresh on every request, the
CSRF token on every change; signing in with a one-time link and signing out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path

from aiohttp import BodyPartReader, web
from multidict import MultiDict

from bot.config import SUPPORTED_LOCALES
from bot.i18n import N_, translations
from bot.services import web_access
from bot.services.roles import identity, roles_of, staff_names
from bot.web_desk.layout import LOG, ROOT, SIGN_OUT, Visit, bare
from storage import clock
from storage.db import Database
from storage.models import WebSession

COOKIE = "desk_session"
Handler = Callable[[web.Request, Visit], Awaitable[web.StreamResponse]]


@dataclass
class Config:
    """What every desk page needs to know."""

    db: Database
    timezone: str
    default_locale: str
    secure: bool  # the base URL is https: the cookie is sent over HTTPS only
    key: bytes  # the pseudonym key (the chain's key derives from it)
    data_dir: Path


def locale_of(request: web.Request, default: str) -> str:
    """?lang= or the public page's language cookie, else the commune's language."""
    for value in (request.query.get("lang"), request.cookies.get("lang")):
        if value in SUPPORTED_LOCALES:
            return value
    return default


def refuse(request: web.Request, config: Config, status: int = 403) -> web.Response:
    """The page shown when the desk is not open to this browser (no reason is given away)."""
    locale = locale_of(request, config.default_locale)
    _ = translations(locale).gettext
    text = _("Not signed in, or the session has ended. Ask the assistant in the chat for a "
             "new link (type /web).")
    body = f"<p>{escape(text)}</p>"
    return html(bare(locale, _("Office desk"), body), status)


def html(text: str, status: int = 200) -> web.Response:
    """A desk page: never cached, never referred on."""
    response = web.Response(text=text, status=status, content_type="text/html")
    response.headers.update({"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                             "X-Frame-Options": "DENY"})
    return response


UPLOAD_BYTES = 20 * 1024 * 1024  # per file, as for residents' files
UPLOAD_FILES = 5


@dataclass(frozen=True)
class Upload:
    """A file sent with a form."""

    filename: str
    content_type: str
    data: bytes


async def read_form(request: web.Request) -> MultiDict:
    """A POST's fields. Multipart forms (an answer with files) are read part by part, so
    files may pass the server's small body limit, each up to UPLOAD_BYTES (a bigger one is
    dropped)."""
    if request.content_type != "multipart/form-data":
        return MultiDict(await request.post())
    form: MultiDict = MultiDict()
    reader = await request.multipart()
    files = 0
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or not part.name:
            continue
        if part.filename is None:
            form.add(part.name, (await part.read(decode=True))[:20_000].decode(errors="replace"))
            continue
        data = bytearray()
        while chunk := await part.read_chunk():
            data += chunk
            if len(data) > UPLOAD_BYTES:
                break
        files += 1
        if data and len(data) <= UPLOAD_BYTES and files <= UPLOAD_FILES:
            form.add(part.name, Upload(part.filename, part.headers.get(
                "Content-Type", "application/octet-stream"), bytes(data)))
    return form


def see_other(location: str) -> web.Response:
    """A redirect that may carry cookies."""
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


def guard(config: Config, handler: Handler) -> Callable[[web.Request], Awaitable[
        web.StreamResponse]]:
    """The handler, run only for a live session of a staff identity; a POST also needs the
    session's CSRF token."""

    async def run(request: web.Request) -> web.StreamResponse:
        cookie = request.cookies.get(COOKIE)
        async with config.db.session() as session:
            row = await web_access.current(session, cookie, clock.now())
            await session.commit()  # a revoked role ends the identity's sessions
            if row is None:
                return refuse(request, config)
            roles = frozenset(await roles_of(session, row.channel, row.user_id))
            who = identity(row.channel, row.user_id)
            name = (await staff_names(session)).get(who) or who
        form = None
        if request.method == "POST":
            form = await read_form(request)
            if not web_access.csrf_ok(cookie or "", str(form.get("csrf", ""))):
                return refuse(request, config)
        visit = Visit(name, who, roles, locale_of(request, config.default_locale),
                      config.timezone, web_access.csrf_token(cookie or ""), row.id, form)
        return await handler(request, visit)

    return run


def routes(config: Config) -> list[web.RouteDef]:
    """Sign in (a page with one button, so link previews cannot use the link) and out."""

    async def sign_in_page(request: web.Request) -> web.Response:
        locale = locale_of(request, config.default_locale)
        _ = translations(locale).gettext
        token = request.query.get("t", "")[:100]
        body = (f"<p>{escape(_('Open the office desk in this browser?'))}</p>"
                f'<form method="post"><input type="hidden" name="t" value="{escape(token)}">'
                f'<button>{escape(_("Sign in"))}</button></form>')
        return html(bare(locale, _("Office desk"), body))

    async def sign_in(request: web.Request) -> web.StreamResponse:
        form = await request.post()
        async with config.db.session() as session:
            try:
                cookie, row = await web_access.redeem(session, str(form.get("t", ""))[:100],
                                                      clock.now())
            except web_access.AccessError:
                await session.commit()  # a used or expired link stays used
                return refuse(request, config)
            await session.commit()
        response = see_other(LOG)
        response.set_cookie(COOKIE, cookie, max_age=web_access.SESSION_HOURS * 3600,
                            path=ROOT, httponly=True, secure=config.secure, samesite="Lax")
        return response

    async def sign_out(request: web.Request, visit: Visit) -> web.StreamResponse:
        async with config.db.session() as session:
            row = await session.get(WebSession, visit.session_id)
            await web_access.end(session, row, clock.now())
            await session.commit()
        response = see_other(f"{ROOT}/da-dang-xuat")
        response.del_cookie(COOKIE, path=ROOT)
        return response

    async def signed_out(request: web.Request) -> web.Response:
        locale = locale_of(request, config.default_locale)
        _ = translations(locale).gettext
        return html(bare(locale, _("Signed out"),
                         f"<p>{escape(_('You are signed out of the office desk.'))}</p>"))

    return [web.get(web_access.SIGN_IN_PATH, sign_in_page),
            web.post(web_access.SIGN_IN_PATH, sign_in),
            web.post(SIGN_OUT, guard(config, sign_out)),
            web.get(f"{ROOT}/da-dang-xuat", signed_out)]


def _catalog() -> None:
    """Marks the words used inside f-strings above for the catalog (its extractor
    cannot read into f-strings); never called."""
    N_('Open the office desk in this browser?')
    N_('Sign in')
    N_('You are signed out of the office desk.')
