"""Phản ánh: the queue with the chat desk's filters, and a petition's whole file: the card
of bot.services.petition_cards (the same text as in the chat), the resident's photos and
documents in the page, the place as a link to a map, the actions the law allows now."""

from __future__ import annotations

import mimetypes
from html import escape
from pathlib import Path

from aiohttp import web

from bot.flows import petition_desk
from bot.i18n import N_
from bot.public_page.layout import table
from bot.services import petition_cards as cards
from bot.services import petitions as service
from bot.services import web_access
from bot.services.petition_statuses import DENUNCIATION, OPEN
from bot.web_desk import petition_actions
from bot.web_desk.auth import Config, guard, html
from bot.web_desk.layout import PETITIONS, Visit, page
from storage import clock
from storage.models import Petition, WebSession
from storage.repositories import Communes

CHANNEL = "web"  # files are shown when kept in the data folder (a path, not a file id)
MAP = "https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon}"


def viewer(visit: Visit) -> cards.Viewer:
    """The signed-in person as the cards see them: a private view (the browser of one)."""
    return cards.Viewer(visit.locale, visit.roles, private=True, channel=CHANNEL)


def _queue(visit: Visit, found: list[Petition], name: str, today) -> str:
    _ = visit._
    links = " ".join(
        f'<a href="{PETITIONS}?loc={key}"{" aria-current=page" if key == name else ""}>'
        f"{escape(_(label))}</a>" for key, label in petition_desk.FILTERS.items())
    rows = [[f'<a href="{PETITIONS}/{p.id}">{escape(p.code or "")}</a>',
             escape(cards.queue_line(p, today, visit.locale, visit.timezone))] for p in found]
    none = _("No open petition here ({filter}).").format(filter=_(petition_desk.FILTERS[name]))
    listing = (table([escape(_("Code")), escape(_("Status"))], rows, "petitions") if rows
               else f"<p>{escape(none)}</p>")
    return f'<p class="filters">{links}</p>{listing}'


def _evidence(visit: Visit, petition: Petition, hidden: bool) -> str:
    _ = visit._
    parts = []
    for index, item in enumerate(cards.evidence(petition, CHANNEL, secret=hidden)):
        if item.kind == "location":
            lat, lon = item.ref.split(",")
            parts.append(f'<p><a href="{MAP.format(lat=lat, lon=lon)}" rel="noreferrer" '
                         f'target="_blank">{escape(_("View the location on a map"))}</a></p>')
            continue
        href = f"{PETITIONS}/{petition.id}/tep/{index}"
        if item.kind in ("photo", "image"):
            parts.append(f'<p><img src="{href}" alt="{escape(item.name or _("Photo"))}"></p>')
        else:
            parts.append(f'<p><a href="{href}">{escape(item.name or _("File"))}</a></p>')
    return f'<div class="evidence">{"".join(parts)}</div>' if parts else ""


def routes(config: Config) -> list[web.RouteDef]:
    """The queue, a petition's file, its files, and its actions."""

    async def queue(request: web.Request, visit: Visit) -> web.Response:
        name = request.query.get("loc", "all")
        name = name if name in petition_desk.FILTERS else "all"
        now = clock.now()
        today = service.local_day(now, config.timezone)
        async with config.db.session() as session:
            found = [p for p in cards.by_urgency(await service.listing(
                session, statuses=OPEN, limit=1000))
                if petition_desk._keeps(name, p, visit.identity, today)]
        return html(page(visit, visit._("Petitions"), _queue(visit, found, name, today),
                         PETITIONS))

    async def one(request: web.Request, visit: Visit) -> web.Response:
        async with config.db.session() as session:
            petition = await session.get(Petition, int(request.match_info["id"]))
            if petition is None:
                raise web.HTTPNotFound()
            commune = await Communes(session).current()
            see = viewer(visit)
            text = await cards.card(session, petition, service.Settings.of(commune),
                                    config.timezone, see)
            if petition.kind == DENUNCIATION and see.investigator:
                row = await session.get(WebSession, visit.session_id)
                web_access.log_action(session, row, "identity_view", petition.code or "",
                                      clock.now())
                await session.commit()
            forms = await petition_actions.forms(session, visit, petition)
        hidden = cards.secret(petition, see)
        note = request.query.get("ok", "")
        done = f'<p class="ok" role="status">{escape(visit._("Done."))}</p>' if note else ""
        body = (done + '<div class="card" data-file>' +
                "".join(f"<p>{escape(line)}</p>" if line else "" for line in text.split("\n"))
                + "</div>" + _evidence(visit, petition, hidden) + forms)
        return html(page(visit, petition.code or "", body, PETITIONS))

    async def evidence_file(request: web.Request, visit: Visit) -> web.StreamResponse:
        async with config.db.session() as session:
            petition = await session.get(Petition, int(request.match_info["id"]))
        if petition is None:
            raise web.HTTPNotFound()
        items = [a for a in cards.evidence(petition, CHANNEL,
                                           secret=cards.secret(petition, viewer(visit)))]
        index = int(request.match_info["n"])
        if index >= len(items) or items[index].kind == "location":
            raise web.HTTPNotFound()
        root = config.data_dir.resolve()
        path = (config.data_dir / items[index].ref).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise web.HTTPNotFound()
        kind = items[index].mime_type or mimetypes.guess_type(Path(path).name)[0]
        return web.FileResponse(path, headers={
            "Cache-Control": "no-store", "Content-Type": kind or "application/octet-stream",
            "X-Content-Type-Options": "nosniff"})

    return [web.get(PETITIONS, guard(config, queue)),
            web.get(PETITIONS + r"/{id:\d+}", guard(config, one)),
            web.get(PETITIONS + r"/{id:\d+}/tep/{n:\d+}", guard(config, evidence_file)),
            *petition_actions.routes(config)]


def _catalog() -> None:
    """Marks the words used inside f-strings above for the catalog (its extractor
    cannot read into f-strings); never called."""
    N_('View the location on a map')
    N_('Photo')
    N_('File')
    N_('Done.')
