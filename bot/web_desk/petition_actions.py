"""The actions on a petition from the web desk: the same verbs, rules and services as the
chat desk (bot.services.petition_cards.actions, bot.services.petitions), each logged with
its actor; an answer may carry files, kept in the data folder like the residents' files."""

from __future__ import annotations

import secrets
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import N_
from bot.services import petition_cards as cards
from bot.services import petitions as service
from bot.services import roles, web_access
from bot.services.petition_statuses import ACCEPTED, CLOSED, FORWARDED, IN_PROGRESS, REFUSED
from bot.web_desk.auth import Config, Upload, guard, see_other
from bot.web_desk.layout import PETITIONS, Visit
from storage import clock
from storage.models import Petition, WebSession
from storage.repositories import Communes

MOVES = {"accept": ACCEPTED, "progress": IN_PROGRESS, "close": CLOSED}
IMAGES = (".jpg", ".jpeg", ".png", ".webp", ".gif")


async def forms(session: AsyncSession, visit: Visit, petition: Petition) -> str:
    """A form per action allowed now."""
    _ = visit._
    action = f"{PETITIONS}/{petition.id}/"
    parts = []
    for verb in cards.actions(petition):
        label = escape(_(cards.ACTION_LABELS[verb]))
        if verb in ("take", *MOVES):
            body = f"<button>{label}</button>"
        elif verb == "refuse":
            body = (f'<input type="text" name="reason" required '
                    f'placeholder="{escape(_("Reason the resident will read"))}">'
                    f"<button>{label}</button>")
        elif verb == "forward":
            body = (f'<input type="text" name="body" required '
                    f'placeholder="{escape(_("To which body"))}">'
                    f'<input type="text" name="reason" required '
                    f'placeholder="{escape(_("Reason the resident will read"))}">'
                    f"<button>{label}</button>")
        elif verb == "assign":
            names = await roles.staff_names(session)
            options = "".join(f'<option value="{escape(k)}">{escape(v or k)}</option>'
                              for k, v in names.items())
            body = f'<select name="who">{options}</select><button>{label}</button>'
        elif verb == "extend":
            body = (f'<label><input type="checkbox" name="complex"> {escape(_("Complex case"))}'
                    f'</label><label><input type="checkbox" name="remote"> '
                    f'{escape(_("Remote area"))}</label><button>{label}</button>')
        else:  # answer
            body = (f'<textarea name="text" required aria-label="{label}"></textarea>'
                    f'<input type="file" name="files" multiple>'
                    f'<button>{escape(_("Send the answer"))}</button>')
            parts.append(f"<h2>{label}</h2>" + _multipart(visit, action + verb, body))
            continue
        parts.append(visit.form(action + verb, body, css="actions"))
    return f'<section data-actions>{"".join(parts)}</section>' if parts else ""


def _multipart(visit: Visit, action: str, body: str) -> str:
    return (f'<form method="post" action="{escape(action)}" enctype="multipart/form-data">'
            f'<input type="hidden" name="csrf" value="{visit.csrf}">{body}</form>')


def _keep(config: Config, upload: Upload, now: datetime) -> dict[str, Any] | None:
    """An uploaded file kept under received/web/, as a stored attachment."""
    name, data = Path(upload.filename).name[:120], upload.data
    if not name:
        return None
    suffix = Path(name).suffix.lower()[:10]
    relative = Path("received") / "web" / f"{now:%Y-%m}" / f"{secrets.token_hex(8)}{suffix}"
    (config.data_dir / relative).parent.mkdir(parents=True, exist_ok=True)
    (config.data_dir / relative).write_bytes(data)
    return {"kind": "photo" if suffix in IMAGES else "document", "ref": str(relative),
            "name": name, "mime_type": upload.content_type, "size": len(data),
            "channel": "web"}


def routes(config: Config) -> list[web.RouteDef]:
    """POST /phan-anh/{id}/{verb}."""

    async def act(request: web.Request, visit: Visit) -> web.StreamResponse:
        verb, form, now = request.match_info["verb"], visit.posted, clock.now()
        async with config.db.session() as session:
            petition = await session.get(Petition, int(request.match_info["id"]))
            if petition is None or verb not in cards.actions(petition):
                raise web.HTTPConflict(text=visit._("That action is not possible now."))
            settings = service.Settings.of(await Communes(session).current())
            common = {"actor": visit.identity, "now": now}
            try:
                if verb == "take":
                    await service.assign(session, petition, visit.identity, **common)
                elif verb == "assign":
                    await service.assign(session, petition, str(form.get("who", "")), **common)
                elif verb in MOVES:
                    await service.change_status(session, petition, MOVES[verb], **common,
                                                timezone=config.timezone, settings=settings)
                elif verb in ("refuse", "forward"):
                    reason = " ".join(str(form.get("reason", "")).split())
                    if verb == "forward":
                        reason = visit._("to {body}: {reason}").format(
                            body=" ".join(str(form.get("body", "")).split())[:300],
                            reason=reason) if reason else ""
                    await service.change_status(
                        session, petition, REFUSED if verb == "refuse" else FORWARDED,
                        **common, timezone=config.timezone, settings=settings, reason=reason)
                elif verb == "extend":
                    await service.set_flags(session, petition, **common,
                                            timezone=config.timezone, settings=settings,
                                            complex_case=bool(form.get("complex")) or None,
                                            remote=bool(form.get("remote")) or None)
                else:  # answer
                    uploads = [f for f in form.getall("files", []) if isinstance(f, Upload)]
                    files = [kept for f in uploads
                             if (kept := _keep(config, f, now)) is not None]
                    await service.answer(session, petition, str(form.get("text", "")),
                                         **common, timezone=config.timezone, files=files)
            except service.PetitionError:
                raise web.HTTPConflict(text=visit._("That action is not possible now.")
                                       ) from None
            row = await session.get(WebSession, visit.session_id)
            web_access.log_action(session, row, f"petition_{verb}", petition.code or "", now)
            await session.commit()
        return see_other(f"{PETITIONS}/{petition.id}?ok=1")

    return [web.post(PETITIONS + r"/{id:\d+}/{verb:[a-z]+}", guard(config, act))]


def _catalog() -> None:
    """Marks the words used inside f-strings above for the catalog (its extractor
    cannot read into f-strings); never called."""
    N_('Reason the resident will read')
    N_('To which body')
    N_('Complex case')
    N_('Remote area')
    N_('Send the answer')
