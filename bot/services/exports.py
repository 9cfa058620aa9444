"""Exports for the accountability reports: the interaction log, petitions, comments.

CSV is UTF-8 with a BOM (Excel then reads Vietnamese correctly); XLSX is written in
constant memory and continues on a new sheet past Excel's row limit. Headers are
Vietnamese (English on request), times are local. People appear as stable pseudonymous
references unless an admin asks for personal data (that request is itself logged). A
denouncer's identity is never exported. The file is written beside the target and renamed
into place only when complete.

The large interaction-log CSV has its own columnar path (bot.services.log_csv).
"""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.i18n import N_, translations
from bot.pseudonym import user_ref
from bot.services import log_csv, petition_rules, petition_statuses
from bot.services import petitions as petition_service
from storage import clock
from storage.db import Database
from storage.models import (
    DialogueSession,
    Disclosure,
    DisclosureComment,
    Hamlet,
    InteractionLog,
    Petition,
    PetitionIdentity,
    SessionQuestion,
    SessionRegistration,
    User,
)
from storage.repositories import Communes

KINDS = ("log", "petitions", "sessions", "comments")
FORMATS = ("csv", "xlsx")
EXCEL_MAX_ROWS = 1_048_576  # per sheet, the header included
BATCH = 10_000


class ExportError(ValueError):
    """An export that cannot be made; the message says why."""


@dataclass(frozen=True)
class Request:
    """What to export, for which local dates (inclusive), in which form, and where."""

    kind: str
    start: date
    end: date
    fmt: str
    path: Path
    lang: str = "vi"
    with_personal_data: bool = False
    where: tuple[Any, ...] = ()  # more conditions on the log's rows (the web desk's filters)


def check_permission(roles: set[str], with_personal_data: bool) -> None:
    """Staff and admins export; only admins with personal data."""
    if not roles & {"staff", "admin"}:
        raise ExportError("only commune staff may export")
    if with_personal_data and "admin" not in roles:
        raise ExportError("only an admin may export personal data")


def check(request: Request) -> None:
    """Refuse an export that cannot be made before anything is written."""
    if request.kind not in KINDS:
        raise ExportError(f"unknown export {request.kind!r}; choose from {', '.join(KINDS)}")
    if request.fmt not in FORMATS:
        raise ExportError(f"unknown format {request.fmt!r}; choose csv or xlsx")
    if request.start > request.end:
        raise ExportError(f"the range is reversed: {request.start} is after {request.end}")
    folder = request.path.resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise ExportError(f"cannot write to {folder}")


def bounds(start: date, end: date, timezone: str) -> tuple[datetime, datetime]:
    """UTC-aware [start of `start`, start of the day after `end`) in local time."""
    zone = ZoneInfo(timezone)
    first = datetime.combine(start, datetime.min.time(), zone)
    after = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone)
    return first, after


# --- columns --------------------------------------------------------------------------------

LOG_COLUMNS = (N_("Row"), N_("Time"), N_("Channel"), N_("Direction"), N_("Person (pseudonym)"),
               N_("Hamlet"), N_("Flow"), N_("Step"), N_("Event"), N_("Text"),
               N_("Latency (ms)"), N_("Actor"))
PETITION_COLUMNS = (N_("Code"), N_("Type"), N_("Field"), N_("Hamlet"), N_("Status"),
                    N_("Received at"), N_("Acceptance due"), N_("Answer due"),
                    N_("Answered at"), N_("Answered in time"), N_("Rating"), N_("Anonymous"),
                    N_("Person (pseudonym)"))
PETITION_PERSONAL = (N_("Full name"), N_("Address"), N_("Phone"))
SESSION_COLUMNS = (N_("Session"), N_("Topic"), N_("Starts at"), N_("Place"), N_("Ticket"),
                   N_("Status"), N_("Hamlet"), N_("Registered at"), N_("Checked in at"),
                   N_("Questions"), N_("Person (pseudonym)"))
SESSION_PERSONAL = (N_("Full name"), N_("Phone"))
REGISTRATION_STATUS = {"registered": N_("Registered"), "waitlisted": N_("On the waiting list"),
                       "cancelled": N_("Cancelled")}
COMMENT_COLUMNS = (N_("Disclosure"), N_("Title"), N_("Received at"), N_("Hamlet"),
                   N_("Comment"), N_("Person (pseudonym)"))


class _Context:
    """What row builders need: translations, zone, key, names of hamlets and people."""

    def __init__(self, request: Request, timezone: str, key: bytes) -> None:
        self.request, self.zone, self.key = request, ZoneInfo(timezone), key
        self._ = translations(request.lang).gettext
        self.hamlets: dict[int, Hamlet] = {}
        self.users: dict[int, User] = {}
        self.people_by_ref: dict[str, str] = {}

    def local(self, moment: datetime | None) -> datetime | None:
        return moment.astimezone(self.zone).replace(tzinfo=None) if moment else None

    def person(self, user: User | None) -> str:
        if user is None:
            return ""
        if self.request.with_personal_data:
            return f"{user.channel}:{user.external_id}"
        return user_ref(self.key, user.channel, user.external_id)

    def yes_no(self, value: bool | None) -> str:
        return "" if value is None else (self._("Yes") if value else self._("No"))


async def _load_names(session: Any, context: _Context) -> None:
    context.hamlets = {h.id: h for h in (await session.exec(select(Hamlet))).all()}
    if context.request.kind != "log" or context.request.with_personal_data:
        context.users = {u.id: u for u in (await session.exec(select(User))).all()}
    if context.request.kind == "log" and context.request.with_personal_data:
        context.people_by_ref = {
            user_ref(context.key, u.channel, u.external_id): f"{u.channel}:{u.external_id}"
            for u in context.users.values()
        }


async def _log_rows(session: Any, context: _Context, first: datetime, after: datetime
                    ) -> AsyncIterator[list[Any]]:
    query = (select(InteractionLog).where(col(InteractionLog.at) >= first,
                                          col(InteractionLog.at) < after,
                                          *context.request.where)
             .order_by(InteractionLog.id).execution_options(yield_per=BATCH))
    async for row in await session.stream_scalars(query):
        person = context.people_by_ref.get(row.user_ref, row.user_ref) \
            if context.request.with_personal_data else row.user_ref
        yield [row.id, context.local(row.at), row.channel, row.direction, person,
               row.hamlet_code or "", row.flow or "", row.step or "", row.kind,
               row.text or "", row.latency_ms if row.latency_ms is not None else "",
               row.actor or ""]


async def _petition_rows(session: Any, context: _Context, first: datetime, after: datetime
                         ) -> AsyncIterator[list[Any]]:
    _ = context._
    settings = petition_service.Settings.of(await Communes(session).current())
    identities = {}
    if context.request.with_personal_data:
        found = (await session.exec(select(PetitionIdentity))).all()
        identities = {identity.petition_id: identity for identity in found}
    query = (select(Petition).where(col(Petition.received_at) >= first,
                                    col(Petition.received_at) < after).order_by(Petition.id))
    for petition in (await session.exec(query)).all():
        # Nothing ties a denunciation to its sender (Law on Denunciations Art. 9(1)(b), 56):
        # no reference, and its days without the time, which could be matched to the log.
        denunciation = petition.kind == petition_rules.DENUNCIATION
        received, answered = (context.local(petition.received_at),
                              context.local(petition.answered_at))
        in_time = None if answered is None else answered.date() <= petition.answer_due
        if denunciation:
            received, answered = received.date(), answered.date() if answered else None
        hamlet = context.hamlets.get(petition.hamlet_id)
        row = [
            petition.code, _(petition_statuses.KIND_LABELS[petition.kind]),
            settings.field_label(petition.field, context.request.lang),
            hamlet.name if hamlet else "", _(petition_statuses.STATUS_LABELS[petition.status]),
            received, petition.accept_due, petition.answer_due,
            answered or "", context.yes_no(in_time), petition.rating or "",
            context.yes_no(petition.anonymous),
            "" if petition.anonymous or denunciation
            else context.person(context.users.get(petition.user_id)),
        ]
        if context.request.with_personal_data:
            identity = identities.get(petition.id)
            if identity is None or denunciation:
                row += ["", "", ""]  # a denouncer's identity never leaves the database
            else:
                row += [identity.full_name, identity.address, identity.phone or ""]
        yield row


async def _comment_rows(session: Any, context: _Context, first: datetime, after: datetime
                        ) -> AsyncIterator[list[Any]]:
    query = (select(DisclosureComment, Disclosure)
             .join(Disclosure, col(Disclosure.id) == col(DisclosureComment.disclosure_id))
             .where(col(DisclosureComment.created_at) >= first,
                    col(DisclosureComment.created_at) < after)
             .order_by(DisclosureComment.id))
    for comment, disclosure in (await session.exec(query)).all():
        hamlet = context.hamlets.get(comment.hamlet_id)
        yield [disclosure.id, disclosure.title, context.local(comment.created_at),
               hamlet.name if hamlet else "", comment.text,
               context.person(context.users.get(comment.user_id))]


async def _session_rows(session: Any, context: _Context, first: datetime, after: datetime
                        ) -> AsyncIterator[list[Any]]:
    """Registrations to the sessions held in the range, one row each."""
    _ = context._
    query = (select(SessionRegistration, DialogueSession)
             .join(DialogueSession,
                   col(DialogueSession.id) == col(SessionRegistration.session_id))
             .where(col(DialogueSession.starts_at) >= first,
                    col(DialogueSession.starts_at) < after)
             .order_by(DialogueSession.starts_at, SessionRegistration.id))
    asked = Counter((await session.exec(
        select(SessionQuestion.registration_id).where(SessionQuestion.status == "active")
    )).all())
    for registration, item in (await session.exec(query)).all():
        hamlet = context.hamlets.get(registration.hamlet_id)
        row = [item.id, item.topic, context.local(item.starts_at), item.place,
               registration.ticket,
               _(REGISTRATION_STATUS.get(registration.status, registration.status)),
               hamlet.name if hamlet else "", context.local(registration.created_at),
               context.local(registration.checked_in_at) or "", asked.get(registration.id, 0),
               context.person(context.users.get(registration.user_id))]
        if context.request.with_personal_data:
            row += [registration.name, registration.phone or ""]
        yield row


def _columns(request: Request) -> Sequence[str]:
    if request.kind == "log":
        return LOG_COLUMNS
    if request.kind == "petitions":
        return PETITION_COLUMNS + (PETITION_PERSONAL if request.with_personal_data else ())
    if request.kind == "sessions":
        return SESSION_COLUMNS + (SESSION_PERSONAL if request.with_personal_data else ())
    return COMMENT_COLUMNS


_ROWS: dict[str, Callable[..., AsyncIterator[list[Any]]]] = {
    "log": _log_rows, "petitions": _petition_rows, "sessions": _session_rows,
    "comments": _comment_rows,
}


# --- writing --------------------------------------------------------------------------------


@contextlib.contextmanager
def _atomic(path: Path):
    """A temporary file beside `path`, renamed onto it only if the block succeeds."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.resolve().parent)
    os.close(handle)
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(temporary, 0o666 & ~mask)  # an ordinary file, not mkstemp's private one
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


async def export(db: Database, request: Request, *, timezone: str, key: bytes) -> int:
    """Write the export; returns the number of data rows (0 gives a file with headers)."""
    check(request)
    context = _Context(request, timezone, key)
    headers = [context._(h) for h in _columns(request)]
    first, after = bounds(request.start, request.end, timezone)
    with _atomic(request.path) as temporary:
        if (request.kind == "log" and request.fmt == "csv" and not request.with_personal_data
                and not request.where):
            return await log_csv.write(db, temporary, headers, first, after, timezone)
        async with db.session() as session:
            await _load_names(session, context)
            rows = _ROWS[request.kind](session, context, first, after)
            if request.fmt == "csv":
                return await _write_csv(temporary, headers, rows)
            return await _write_xlsx(temporary, headers, rows, context._(request.kind.title()))


async def _write_csv(path: Path, headers: list[str], rows: AsyncIterator[list[Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        async for row in rows:
            writer.writerow([_csv_cell(v) for v in row])
            count += 1
    return count


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value


async def _write_xlsx(path: Path, headers: list[str], rows: AsyncIterator[list[Any]],
                      title: str) -> int:
    import xlsxwriter  # imported here: only exports need it

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7"})
    moment = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet, line, count, sheets = None, EXCEL_MAX_ROWS, 0, 0
    try:
        async for row in rows:
            if line >= EXCEL_MAX_ROWS:
                sheets += 1
                sheet = book.add_worksheet(f"{title[:25]} {sheets}" if sheets > 1 else title[:31])
                sheet.write_row(0, 0, headers, bold)
                sheet.freeze_panes(1, 0)
                line = 1
            for column, value in enumerate(row):
                if isinstance(value, datetime):
                    sheet.write_datetime(line, column, value, moment)
                elif isinstance(value, date):
                    sheet.write_datetime(line, column, datetime.combine(value,
                                                                        datetime.min.time()), day)
                else:
                    sheet.write(line, column, value)
            line += 1
            count += 1
        if sheet is None:
            sheet = book.add_worksheet(title[:31])
            sheet.write_row(0, 0, headers, bold)
    finally:
        book.close()
    return count


async def log_export(db: Database, request: Request, actor: str) -> None:
    """Record who exported what (and whether with personal data) in the interaction log."""
    async with db.unit_of_work() as session:
        session.add(InteractionLog(
            at=clock.now(), channel=actor.partition(":")[0][:20] or "cli", direction="admin",
            kind="export_personal" if request.with_personal_data else "export",
            text=f"{request.kind} {request.start}..{request.end} {request.fmt}", actor=actor))
        await session.commit()
