"""Open311 GeoReport v2 over petitions: the petition fields as services, feedback petitions
as service requests (only what the public may see), and feedback filed by a kiosk or a
partner app into the same queue as chat petitions. No aiohttp here: bot/open311_web.py is
the edge."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import format_date, translations
from bot.services import petition_intake
from bot.services import petition_statuses as st
from bot.services.petitions import PetitionError, Settings
from bot.services.public_record import is_public
from bot.services.public_text import masked
from bot.typed import ascii_int
from storage.models import Hamlet, Petition
from storage.repositories import Communes, Hamlets

DEFAULT_DAYS = 90  # the spec's window when no dates are given
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000  # the spec's "1000 requests"
MAX_IDS = 100
OPEN, CLOSED = "open", "closed"
ANONYMOUS = "anonymous"  # the one attribute of every service (its definition)


class Open311Error(Exception):
    """A request the API refuses: the spec's error code and description."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


@dataclass(frozen=True)
class Query:
    """The filters of GET requests."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE


def _listed(params: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in params.get(name, "").split(",") if v.strip())


def _moment(params: Mapping[str, str], name: str, timezone: str) -> datetime | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace(" ", "+"))  # "+07:00" unescaped as " "
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C date and time, e.g. "
                                "2026-11-01T00:00:00+07:00") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # "0001-01-01T00:00:00+07:00" lies before the first UTC moment
        raise Open311Error(400, f"{name} is out of range") from None


def _number(params: Mapping[str, str], name: str, default: int, top: int) -> int:
    text = params.get(name, "").strip()
    if not text:
        return default
    if ascii_int(text) is None or not 1 <= int(text) <= top:
        raise Open311Error(400, f"{name} must be a whole number from 1 to {top}")
    return int(text)


def parse_query(params: Mapping[str, str], settings: Settings, *, now: datetime,
                timezone: str) -> Query:
    """The filters of GET requests, checked; the spec's 90 days when no date is given."""
    codes = _listed(params, "service_code")
    if unknown := [c for c in codes if c not in dict(settings.fields)]:
        raise Open311Error(400, f"unknown service_code {unknown[0]}")
    statuses = tuple(s.lower() for s in _listed(params, "status"))
    if any(s not in (OPEN, CLOSED) for s in statuses):
        raise Open311Error(400, "status must be open or closed")
    start, end = _moment(params, "start_date", timezone), _moment(params, "end_date", timezone)
    if start and end and start > end:
        raise Open311Error(400, "start_date is after end_date")
    if start is None and end is None:
        start = now - timedelta(days=DEFAULT_DAYS)
    ids = _listed(params, "service_request_id")
    if len(ids) > MAX_IDS:
        raise Open311Error(400, f"at most {MAX_IDS} service_request_id at once")
    return Query(ids=tuple(st.normal_code(i) for i in ids), service_codes=codes,
                 statuses=statuses, start=start, end=end,
                 page=_number(params, "page", 1, 10**6),
                 page_size=_number(params, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE))


async def settings_of(session: AsyncSession) -> Settings:
    """The commune's petition settings."""
    return Settings.of(await Communes(session).current())


def services(settings: Settings, locale: str) -> list[dict[str, Any]]:
    """GET services: one service per petition field."""
    _ = translations(locale).gettext
    return [{
        "service_code": code, "service_name": settings.field_label(code, locale),
        "description": _("Feedback or recommendation about: {field}").format(
            field=settings.field_label(code, locale)),
        "metadata": True, "type": "realtime", "keywords": "",
        "group": _(st.KIND_LABELS[st.FEEDBACK]),
    } for code, _label in settings.fields]


def definition(settings: Settings, code: str, locale: str) -> dict[str, Any]:
    """GET services/{code}: the one attribute, whether the sender stays anonymous."""
    if code not in dict(settings.fields):
        raise Open311Error(404, f"unknown service_code {code}")
    _ = translations(locale).gettext
    return {"service_code": code, "attributes": [{
        "variable": True, "code": ANONYMOUS, "datatype": "singlevaluelist", "required": False,
        "datatype_description": "", "order": 1,
        "description": _("Keep it anonymous: the content is not published"),
        "values": [{"key": "false", "name": _("No")}, {"key": "true", "name": _("Yes")}],
    }]}


async def requests(session: AsyncSession, query: Query, settings: Settings, *,
                   locale: str, timezone: str) -> list[dict[str, Any]]:
    """GET requests: feedback petitions as the public may see them, newest first."""
    statement = select(Petition).where(Petition.kind == st.FEEDBACK,
                                       col(Petition.code).is_not(None))
    if query.ids:
        statement = statement.where(col(Petition.code).in_(query.ids))  # overrides the rest
    else:
        if query.service_codes:
            statement = statement.where(col(Petition.field).in_(query.service_codes))
        if query.statuses == (OPEN,):
            statement = statement.where(col(Petition.status).in_(st.OPEN))
        elif query.statuses == (CLOSED,):
            statement = statement.where(col(Petition.status).not_in(st.OPEN))
        if query.start:
            statement = statement.where(col(Petition.received_at) >= query.start)
        if query.end:
            statement = statement.where(col(Petition.received_at) <= query.end)
    statement = statement.order_by(col(Petition.received_at).desc(), col(Petition.id).desc())
    statement = statement.offset((query.page - 1) * query.page_size).limit(query.page_size)
    petitions = (await session.exec(statement)).all()
    hamlets = {h.id: h for h in await Hamlets(session).all()}
    agency = await _agency(session)
    return [record(p, hamlets.get(p.hamlet_id), settings, agency, locale=locale,
                   timezone=timezone) for p in petitions]


async def one(session: AsyncSession, code: str, settings: Settings, *, locale: str,
              timezone: str) -> dict[str, Any]:
    """GET requests/{id}: one feedback petition by its tracking code."""
    found = await requests(session, Query(ids=(st.normal_code(code),)), settings,
                           locale=locale, timezone=timezone)
    if not found:
        raise Open311Error(404, f"no service request {code}")
    return found[0]


async def _agency(session: AsyncSession) -> str:
    commune = await Communes(session).current()
    if commune is None:
        return ""
    return f"UBND {commune.name[:1].lower()}{commune.name[1:]}"


def _local(moment: datetime | None, timezone: str) -> str | None:
    return moment.astimezone(ZoneInfo(timezone)).isoformat(timespec="seconds") if moment else None


def record(petition: Petition, hamlet: Hamlet | None, settings: Settings, agency: str, *,
           locale: str, timezone: str) -> dict[str, Any]:
    """One service request: never a name, phone, address, channel id, photo or exact place;
    the description and the answer only when the petition is public."""
    _ = translations(locale).gettext
    public = is_public(petition)
    notes = _(st.STATUS_LABELS[petition.status])
    if public and petition.answer:
        notes = f"{notes}: {masked(petition.answer)}"
    due = datetime.combine(petition.answer_due, time(23, 59, 59), ZoneInfo(timezone))
    return {
        "service_request_id": petition.code, "status": OPEN if petition.status in st.OPEN
        else CLOSED, "status_notes": notes,
        "service_name": settings.field_label(petition.field, locale),
        "service_code": petition.field,
        "description": masked(petition.description) if public else None,
        "agency_responsible": agency, "service_notice": None,
        "requested_datetime": _local(petition.received_at, timezone),
        "updated_datetime": _local(petition.updated_at, timezone),
        "expected_datetime": _local(due, timezone),
        "address": hamlet.name if hamlet else None,
        "address_id": hamlet.code if hamlet else None,
        "zipcode": None, "lat": None, "long": None, "media_url": None,
    }


def _coordinate(form: Mapping[str, str], name: str, limit: float) -> float:
    try:
        value = float(form[name])
    except ValueError:
        raise Open311Error(400, f"{name} must be a number") from None
    if not math.isfinite(value) or abs(value) > limit:
        raise Open311Error(400, f"{name} is out of range")
    return value


async def intake_of(session: AsyncSession, form: Mapping[str, str], settings: Settings
                    ) -> petition_intake.Intake:
    """POST requests: the form as an intake. Names, phones and e-mail addresses the form may
    carry (first_name, last_name, phone, email, device_id, account_id) are not kept."""
    code = form.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code is required")
    if code not in dict(settings.fields):
        raise Open311Error(400, f"unknown service_code {code}")
    hamlet = None
    if address_id := form.get("address_id", "").strip():
        hamlet = await Hamlets(session).by_code(address_id)
        if hamlet is None or not hamlet.active:
            raise Open311Error(400, f"unknown address_id {address_id}")
    lat = lon = None
    if "lat" in form or "long" in form:
        if not (form.get("lat") and form.get("long")):
            raise Open311Error(400, "lat and long go together")
        lat, lon = _coordinate(form, "lat", 90), _coordinate(form, "long", 180)
    address = " ".join(form.get("address_string", "").split())[:300] or None
    if hamlet is None and lat is None and address is None:
        raise Open311Error(400, "a location is required: lat and long, address_string or "
                                "address_id")
    anonymous = form.get(f"attribute[{ANONYMOUS}]", "false").strip().lower()
    if anonymous not in ("true", "false"):
        raise Open311Error(400, f"attribute[{ANONYMOUS}] must be true or false")
    return petition_intake.Intake(
        kind=st.FEEDBACK, field=code, description=form.get("description", ""),
        hamlet_id=hamlet.id if hamlet else None, latitude=lat, longitude=lon, address=address,
        anonymous=anonymous == "true")


async def file(session: AsyncSession, form: Mapping[str, str], *, now: datetime,
               timezone: str, locale: str) -> dict[str, Any]:
    """POST requests: a new feedback petition in the staff queue (staff are told at once);
    the spec's answer with its tracking code. Nothing is committed here."""
    settings = await settings_of(session)
    intake = await intake_of(session, form, settings)
    try:
        petition = await petition_intake.submit(session, intake, None, now=now,
                                                timezone=timezone, settings=settings,
                                                channel="open311")
    except PetitionError as exc:
        raise Open311Error(400, _refusal(exc)) from None
    _ = translations(locale).gettext
    notice = _("Received. The commune answers by {day}.").format(
        day=format_date(petition.answer_due, locale, timezone))
    return {"service_request_id": petition.code, "service_notice": notice, "account_id": None}


def _refusal(exc: PetitionError) -> str:
    return {
        "short": f"description must have at least {petition_intake.MIN_DESCRIPTION} characters",
        "long": f"description may have at most {petition_intake.MAX_DESCRIPTION} characters",
    }.get(exc.code, str(exc))
