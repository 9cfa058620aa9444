"""`/export` and `/report` in the staff chat: the file comes back in the chat.

The chat hears "preparing the file" at once; the file is made after the turn, on a worker
thread (a big export must not hold the bot), and posted through the outbox.

`/export log|petitions|sessions|comments FROM TO [csv|xlsx]` (dates YYYY-MM-DD) and `/report YEAR`.
Personal data is never exported from a chat (admins use the command line). The file is
written under DATA_DIR/exports and sent as a document; the export is logged.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.flows.base import Ctx
from bot.messages import Attachment, Reply
from bot.services import exports, offload, yearly_report, yearly_workbook
from storage.db import Database
from storage.models import InteractionLog


def _folder(ctx: Ctx) -> Path:
    folder = ((ctx.data_dir or Path("./data")) / "exports").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _document(path: Path) -> Attachment:
    return Attachment("document", str(path), name=path.name, size=path.stat().st_size)


def _log(ctx: Ctx, text: str) -> None:
    ctx.session.add(InteractionLog(
        channel=ctx.msg.channel, direction="admin", kind="export", text=text[:500],
        actor=f"{ctx.msg.channel}:{ctx.msg.user_id}"))


async def export_command(ctx: Ctx) -> None:
    """/export KIND FROM TO [FORMAT]"""
    parts = ctx.msg.args.split()
    usage = ctx._("Write: /export log|petitions|sessions|comments FROM TO [csv|xlsx], dates as "
                  "YYYY-MM-DD, e.g. /export log {year}-01-01 {year}-12-31 xlsx").format(
        year=ctx.now.astimezone(ZoneInfo(ctx.timezone)).year)
    if len(parts) not in (3, 4):
        ctx.say(usage)
        return
    try:
        start, end = date.fromisoformat(parts[1]), date.fromisoformat(parts[2])
    except ValueError:
        ctx.say(usage)
        return
    fmt = parts[3].lower() if len(parts) == 4 else "csv"
    stamp = f"{ctx.now:%Y%m%d-%H%M%S}"
    path = _folder(ctx) / f"{parts[0]}-{start}-{end}-{stamp}.{fmt}"
    request = exports.Request(kind=parts[0].lower(), start=start, end=end, fmt=fmt, path=path)
    try:
        exports.check_permission(set(ctx.roles), False)
        exports.check(request)
    except exports.ExportError as exc:
        ctx.say(ctx._("The export could not be made: {reason}.").format(reason=str(exc)))
        return
    timezone, key = ctx.timezone, ctx.pseudonym_key

    async def make() -> list[Reply]:
        try:
            count = await offload.in_thread(ctx.db, lambda db: exports.export(
                db, request, timezone=timezone, key=key))
        except exports.ExportError as exc:
            return [Reply(ctx._("The export could not be made: {reason}.").format(
                reason=str(exc)))]
        text = (ctx._("{count} row(s), {start} to {end}.") if count
                else ctx._("Nothing between {start} and {end}: the file has the headers only."))
        return [Reply(text.format(count=count, start=ctx.day(start), end=ctx.day(end)),
                      attachments=(_document(path),))]

    _log(ctx, f"{request.kind} {start}..{end} {fmt}")
    ctx.after(make)
    ctx.say(ctx._("Preparing the file; it will be posted here when it is ready."))


async def report_command(ctx: Ctx) -> None:
    """/report YEAR"""
    year_text = ctx.msg.args.strip()
    this_year = ctx.now.astimezone(ZoneInfo(ctx.timezone)).year
    if not year_text.isdigit():
        ctx.say(ctx._("Write: /report followed by the year, e.g. /report {year}").format(
            year=this_year))
        return
    if not yearly_report.FIRST_YEAR <= int(year_text) <= this_year:
        ctx.say(ctx._("There is no report for {year}: choose a year from {first} to {last}.")
                .format(year=year_text, first=yearly_report.FIRST_YEAR, last=this_year))
        return
    path = _folder(ctx) / f"report-{year_text}-{ctx.now:%Y%m%d-%H%M%S}.xlsx"
    year, timezone, lang, now = int(year_text), ctx.timezone, ctx.user.locale, ctx.now

    async def write(db: Database) -> yearly_report.Figures:
        async with db.session() as session:
            figures = await yearly_report.compute(session, year, timezone, now=now)
        yearly_workbook.write_xlsx(figures, path, lang=lang)
        return figures

    async def make() -> list[Reply]:
        figures = await offload.in_thread(ctx.db, write)
        text = ctx._("The {year} report on grassroots democracy through the chatbot.").format(
            year=year_text)
        if as_of := yearly_workbook.as_of_line(figures, lang):
            text = f"{text}\n{as_of}"
        return [Reply(text, attachments=(_document(path),))]

    _log(ctx, f"report {year_text}")
    ctx.after(make)
    ctx.say(ctx._("Preparing the file; it will be posted here when it is ready."))


COMMANDS = {"export": export_command, "report": report_command}
