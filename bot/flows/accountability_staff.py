"""`/export` and `/report` in the staff chat: the file comes back in the chat.

The chat hears "preparing the file" at once; the file is made after the turn, on a worker
thread (a big export must not hold the bot), and posted through the outbox.

`/export log|petitions|sessions|comments FROM TO [csv|xlsx]` (dates as people write them:
dd/mm/yyyy, dd/mm for this year, or YYYY-MM-DD) and `/report [YEAR]` (this year by default).
Personal data is never exported from a chat (admins use the command line). The file is
written under DATA_DIR/exports and sent as a document; the export is logged.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import typed
from bot.flows.base import Ctx
from bot.messages import Attachment, Reply
from bot.services import exports, offload, yearly_report, yearly_workbook
from bot.typed import ascii_int
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


def _today(ctx: Ctx) -> date:
    """Today where the commune is, by the program's clock."""
    return ctx.now.astimezone(ZoneInfo(ctx.timezone)).date()


def _export_usage(ctx: Ctx) -> str:
    year = _today(ctx).year
    return ctx._("Write: /export log|petitions|sessions|comments FROM TO [csv|xlsx] (the log, "
                 "petitions, dialogue sessions or comments), dates as dd/mm/yyyy or dd/mm (this "
                 "year), e.g. /export petitions 01/12/{year} 31/12/{year} xlsx").format(year=year)


def _export_request(ctx: Ctx, parts: list[str]) -> tuple[str, date, date, str] | str:
    """What, from, to and the format typed after /export, or what was not understood."""
    if len(parts) not in (3, 4):
        return ctx._("I need what to export and two dates.")
    kind, fmt = parts[0].lower(), parts[3].lower() if len(parts) == 4 else "csv"
    if kind not in exports.KINDS:
        return ctx._("I cannot export “{word}”.").format(word=parts[0][:40])
    days = [typed.day(text, _today(ctx)) for text in parts[1:3]]
    for text, day in zip(parts[1:3], days, strict=True):
        if day is None:
            return ctx._("I did not understand the date “{text}”.").format(text=text[:40])
    if fmt not in exports.FORMATS:
        return ctx._("“{word}” is not a file format I make.").format(word=parts[3][:40])
    start, end = days
    if start > end:
        return ctx._("The first date ({start}) is after the second ({end}).").format(
            start=ctx.day(start), end=ctx.day(end))
    return kind, start, end, fmt


async def export_command(ctx: Ctx) -> None:
    """/export KIND FROM TO [FORMAT]"""
    found = _export_request(ctx, ctx.msg.args.split())
    if isinstance(found, str):
        ctx.say(f"{found}\n{_export_usage(ctx)}")
        return
    kind, start, end, fmt = found
    stamp = f"{ctx.now:%Y%m%d-%H%M%S}"
    path = _folder(ctx) / f"{kind}-{start}-{end}-{stamp}.{fmt}"
    request = exports.Request(kind=kind, start=start, end=end, fmt=fmt, path=path)
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
    typed = ctx.msg.args.strip()
    this_year = _today(ctx).year
    year_text = typed or str(this_year)
    if ascii_int(year_text, 4) is None:
        ctx.say(ctx._("I did not understand the year “{text}”. Write /report followed by the "
                      "year, e.g. /report {year}, or /report alone for this year.").format(
            text=typed[:40], year=this_year))
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
