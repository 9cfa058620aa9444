"""The Open311 GeoReport v2 edge at /open311/v2/: routes, JSON and XML, and the spec's error
format (`[{"code":400,"description":"…"}]`) for every refusal, so existing clients work."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from aiohttp import web

from bot.handlers import webhook_body
from bot.services import api_keys, open311
from bot.services.open311 import Open311Error
from storage.db import Database
from storage.repositories import Communes

log = logging.getLogger(__name__)
PREFIX = "/open311/v2"
FORMATS = "{fmt:json|xml}"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-02T00:00:00Z"  # when this API last changed, for the discovery file
MAX_BODY = 64 * 1024  # a petition is at most 4,000 characters; no media is uploaded here
# The XML element of each list and of its items, as the spec names them.
XML_NAMES = {"services": ("services", "service"), "requests": ("service_requests", "request"),
             "errors": ("errors", "error"), "attributes": ("attributes", "attribute"),
             "values": ("values", "value")}


def _element(parent: ET.Element, name: str, value: Any) -> None:
    node = ET.SubElement(parent, name)
    if isinstance(value, list):
        item = XML_NAMES.get(name, (name, name[:-1]))[1]
        for entry in value:
            _element(node, item, entry)
    elif isinstance(value, dict):
        for key, inner in value.items():
            _element(node, key, inner)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        node.text = str(value)


def to_xml(kind: str, body: Any) -> str:
    """The spec's XML: a root named for the list (or the object) and one element per item."""
    if isinstance(body, list):
        root_name, item = XML_NAMES[kind]
        root = ET.Element(root_name)
        for entry in body:
            _element(root, item, entry)
    else:
        root = ET.Element(kind)
        for key, value in body.items():
            _element(root, key, value)
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="unicode")


def respond(fmt: str, kind: str, body: Any, status: int = 200) -> web.Response:
    """JSON or XML as the path asked."""
    if fmt == "xml":
        return web.Response(text=to_xml(kind, body), status=status,
                            content_type="text/xml", charset="utf-8")
    return web.Response(text=json.dumps(body, ensure_ascii=False), status=status,
                        content_type="application/json", charset="utf-8")


def error(fmt: str, code: int, description: str) -> web.Response:
    """The spec's error list."""
    return respond(fmt, "errors", [{"code": code, "description": description}], code)


@web.middleware
async def errors(request: web.Request, handler: Callable) -> web.StreamResponse:
    """Every refusal in the spec's format, never a bare 500."""
    fmt = "xml" if request.path.endswith(".xml") else "json"
    try:
        _clean(request.query)
        _clean(request.match_info)
        return await handler(request)
    except Open311Error as exc:
        return error(fmt, exc.code, exc.description)
    except web.HTTPRequestEntityTooLarge:
        return error(fmt, 413, f"the request is larger than {MAX_BODY} bytes")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error(fmt, exc.status, exc.reason)
    except Exception:
        log.exception("open311: %s %s failed", request.method, request.path)
        return error(fmt, 500, "internal error")


def _clean(values: Mapping[str, str]) -> Mapping[str, str]:
    """Refuse text no database stores: NUL characters and unpaired surrogates."""
    for name, value in values.items():
        try:
            (name + value).encode("utf-8")
        except UnicodeEncodeError:
            raise Open311Error(400, "the request holds text that is not UTF-8") from None
        if "\x00" in name + value:
            raise Open311Error(400, "the request holds a NUL character")
    return values


async def _form(request: web.Request) -> Mapping[str, str]:
    """A POST body: a form (as the spec says) or a JSON object of values."""
    if request.content_length and request.content_length > MAX_BODY:
        raise Open311Error(413, f"the request is larger than {MAX_BODY} bytes")
    if request.content_type == "application/json":
        try:
            body = json.loads(await webhook_body.raw(request, MAX_BODY))
        except webhook_body.Malformed as problem:
            raise Open311Error(problem.status, problem.reason) from None
        except (ValueError, RecursionError):  # not UTF-8 or not JSON, or nested absurdly
            raise Open311Error(400, "the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise Open311Error(400, "the body must be a JSON object")
        return _clean({str(k): "" if v is None else str(v) for k, v in body.items()})
    if request.content_type not in ("application/x-www-form-urlencoded",
                                    "multipart/form-data"):
        raise Open311Error(400, f"unsupported content type {request.content_type}")
    try:
        form = await request.post()
    except web.HTTPException:
        raise
    except Exception:  # aiohttp's parsers raise several kinds on a broken body
        raise Open311Error(400, "the form cannot be read") from None
    return _clean({k: v for k, v in form.items() if isinstance(v, str)})


async def _unknown(request: web.Request) -> web.Response:
    """Anything else under /open311/v2/."""
    raise Open311Error(404, f"no such resource {request.path}")


class Open311:
    """The routes over one database."""

    def __init__(self, db: Database, timezone: str, locale: str,
                 now: Callable[[], datetime]) -> None:
        self.db, self.timezone, self.locale, self.now = db, timezone, locale, now

    def _locale(self, request: web.Request) -> str:
        wanted = request.query.get("locale", "")[:2].lower()
        return wanted if wanted in ("vi", "en") else self.locale

    async def discovery(self, request: web.Request) -> web.Response:
        """GET discovery.json|xml: the spec's service discovery file."""
        async with self.db.session() as session:
            commune = await Communes(session).current()
        contact = ", ".join(c for c in (commune.office_email, commune.office_phone) if c) \
            if commune else ""
        body = {"changeset": CHANGESET, "contact": contact,
                "key_service": "API keys for posting are given by the commune's People's "
                               "Committee (UBND); reading needs none.",
                "endpoints": [{"specification": SPECIFICATION, "changeset": CHANGESET,
                               "url": str(request.url.origin()) + PREFIX,
                               "type": "production",
                               "formats": ["text/xml", "application/json"]}]}
        return respond(request.match_info["fmt"], "discovery", body)

    async def services(self, request: web.Request) -> web.Response:
        """GET services.json|xml."""
        async with self.db.session() as session:
            settings = await open311.settings_of(session)
        return respond(request.match_info["fmt"], "services",
                       open311.services(settings, self._locale(request)))

    async def definition(self, request: web.Request) -> web.Response:
        """GET services/{code}.json|xml."""
        async with self.db.session() as session:
            settings = await open311.settings_of(session)
        body = open311.definition(settings, request.match_info["code"], self._locale(request))
        return respond(request.match_info["fmt"], "service_definition", body)

    async def requests(self, request: web.Request) -> web.Response:
        """GET requests.json|xml with the spec's filters and page/page_size."""
        async with self.db.session() as session:
            settings = await open311.settings_of(session)
            query = open311.parse_query(request.query, settings, now=self.now(),
                                        timezone=self.timezone)
            body = await open311.requests(session, query, settings,
                                          locale=self._locale(request), timezone=self.timezone)
        return respond(request.match_info["fmt"], "requests", body)

    async def request(self, request: web.Request) -> web.Response:
        """GET requests/{id}.json|xml."""
        async with self.db.session() as session:
            settings = await open311.settings_of(session)
            body = await open311.one(session, request.match_info["id"], settings,
                                     locale=self._locale(request), timezone=self.timezone)
        return respond(request.match_info["fmt"], "requests", [body])

    async def post(self, request: web.Request) -> web.Response:
        """POST requests.json|xml with an api_key: feedback into the staff queue."""
        form = await _form(request)
        now = self.now()
        async with self.db.session() as session:
            secret = form.get("api_key") or request.query.get("api_key", "")
            try:
                key = await api_keys.use(session, secret.strip(), f"POST {request.path}",
                                         now=now)
            except api_keys.KeyLimitReached:
                await session.commit()
                raise Open311Error(429, f"this api_key has filed {api_keys.DAILY_LIMIT} "
                                        "requests in the last 24 hours; try later") from None
            await session.commit()  # the use (or the refused attempt) is logged either way
            if key is None:
                raise Open311Error(403, "api_key is missing, unknown or revoked")
            body = await open311.file(session, form, now=now, timezone=self.timezone,
                                      locale=self._locale(request))
            await session.commit()
        return respond(request.match_info["fmt"], "requests", [body])


def app(db: Database, timezone: str, locale: str, now: Callable[[], datetime]
        ) -> web.Application:
    """The Open311 sub-application, mounted at /open311/v2/."""
    routes = Open311(db, timezone, locale, now)
    sub = web.Application(middlewares=[errors])
    sub.router.add_get(f"/discovery.{FORMATS}", routes.discovery)
    sub.router.add_get(f"/services.{FORMATS}", routes.services)
    sub.router.add_get(f"/services/{{code}}.{FORMATS}", routes.definition)
    sub.router.add_get(f"/requests.{FORMATS}", routes.requests)
    sub.router.add_post(f"/requests.{FORMATS}", routes.post)
    sub.router.add_get(f"/requests/{{id}}.{FORMATS}", routes.request)
    sub.router.add_route("*", "/{tail:.*}", _unknown)
    return sub


def mount(web_app: web.Application, db: Database, timezone: str, locale: str,
          now: Callable[[], datetime]) -> None:
    """Serve the API under /open311/v2/ of the bot's HTTP server."""
    web_app.add_subapp(PREFIX + "/", app(db, timezone, locale, now))
