"""`python -m bot disclosure …` and `python -m bot report disclosures`: staff at the shell.

Dates are YYYY-MM-DD in the commune's time zone. Errors raise DisclosureError, which the
entry point prints as one line.
"""

from __future__ import annotations

import argparse
import csv
import secrets
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.i18n import translations
from bot.services import disclosures as service
from bot.services import quarter_table
from bot.services.disclosures import DisclosureError
from bot.workdays import Calendar
from storage import clock
from storage.repositories import Communes, DisclosureComments, Disclosures, Hamlets

if TYPE_CHECKING:
    from bot.app import App


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-12-31") from None


def _text_arg(text: str | None, file: str | None, what: str) -> str | None:
    if file:
        try:
            return Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DisclosureError(f"cannot read the {what} file {file}: {exc}") from None
    return text


def _store(app: App, file: str | None) -> dict | None:
    if not file:
        return None
    key = f"{clock.now():%Y%m%d}-{secrets.token_hex(4)}"
    return service.store_document(Path(file), app.settings.data_dir, key)


async def cmd_add(app: App, args: argparse.Namespace, actor: str) -> int:
    """Publish a new disclosure."""
    body = _text_arg(args.body, args.body_file, "body") or ""
    draft = service.Draft(
        category=args.category, title=args.title, body=body, decided_on=args.decided,
        posted_from=args.posted_from, posted_until=args.until,
        permanent=True if args.permanent else None, consult_until=args.consult_until,
    )
    service.check(draft)
    today = service.local_day(clock.now(), app.settings.timezone)
    await app.prepare()
    async with app.db.session() as session:
        calendar = Calendar.of_commune(await Communes(session).current())
    for warning in service.warnings(draft, today, calendar):
        print(f"warning: {warning}", file=sys.stderr)
    draft.attachment = _store(app, args.file)
    async with app.db.session() as session:
        item = await service.publish(session, draft, actor=actor, now=clock.now(),
                                     timezone=app.settings.timezone)
        await session.commit()
    print(f"published disclosure {item.id}: {item.title}")
    return 0


async def cmd_edit(app: App, args: argparse.Namespace, actor: str) -> int:
    """Change a disclosure (the earlier version is kept; subscribers are told)."""
    await app.prepare()
    async with app.db.session() as session:
        item = await Disclosures(session).get(args.id)
        if item is None:
            raise DisclosureError(f"no disclosure {args.id}")
        await service.change(
            session, item, actor=actor, timezone=app.settings.timezone, title=args.title,
            body=_text_arg(args.body, args.body_file, "body"), attachment=_store(app, args.file),
            posted_until=args.until, permanent=args.permanent or None,
            consult_until=args.consult_until,
        )
        await session.commit()
        print(f"disclosure {item.id} is now version {item.version}")
    return 0


async def cmd_respond(app: App, args: argparse.Namespace, actor: str) -> int:
    """Publish the response to a consultation."""
    text = _text_arg(args.text, args.text_file, "response") or ""
    await app.prepare()
    async with app.db.session() as session:
        item = await Disclosures(session).get(args.id)
        if item is None:
            raise DisclosureError(f"no disclosure {args.id}")
        notified = await service.respond(session, item, text, actor=actor, now=clock.now())
        await session.commit()
    print(f"response published; {notified} commenter(s) will be told")
    return 0


async def cmd_list(app: App, args: argparse.Namespace, actor: str) -> int:
    """The newest disclosures, one line each."""
    await app.prepare()
    tz = app.settings.timezone
    async with app.db.session() as session:
        for item in await Disclosures(session).listing(args.limit):
            until = (service.local_day(item.posted_until, tz).isoformat()
                     if item.posted_until else "permanent")
            print(f"{item.id:>6}  cat {item.category:>2}  "
                  f"{service.local_day(item.posted_from, tz)} → {until:<10}  {item.title}")
    return 0


async def cmd_comments(app: App, args: argparse.Namespace, actor: str) -> int:
    """Export the comments on one disclosure as CSV (UTF-8 with BOM, for Excel)."""
    await app.prepare()
    _ = translations(args.lang).gettext
    async with app.db.session() as session:
        item = await Disclosures(session).get(args.id)
        if item is None:
            raise DisclosureError(f"no disclosure {args.id}")
        comments = await DisclosureComments(session).of(item.id)
        hamlets = {h.id: h.name for h in await Hamlets(session).all()}
    with _output(args.output) as handle:
        writer = csv.writer(handle)
        writer.writerow([_("No."), _("Received at"), _("Hamlet"), _("Comment")])
        for number, comment in enumerate(comments, 1):
            local = comment.created_at.astimezone(ZoneInfo(app.settings.timezone))
            writer.writerow([number, f"{local:%Y-%m-%d %H:%M}",
                             hamlets.get(comment.hamlet_id, ""), comment.text])
    print(f"{len(comments)} comment(s) on disclosure {item.id}", file=sys.stderr)
    return 0


async def cmd_report(app: App, args: argparse.Namespace, actor: str) -> int:
    """The quarterly list of what was disclosed (Art. 13), as CSV or a text table."""
    await app.prepare()
    tz, locale = app.settings.timezone, args.lang
    _ = translations(locale).gettext
    async with app.db.session() as session:
        rows = await service.quarter_list(session, args.quarter, tz)
    header, lines = quarter_table.table(rows, locale, tz)
    if args.output:
        with _output(args.output) as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(lines)
    else:
        print(_("Disclosures of {quarter}: {count}").format(quarter=args.quarter.upper(),
                                                           count=len(rows)))
        for line in lines:
            print(" | ".join(str(cell) for cell in line))
    print(f"{len(rows)} disclosure(s) in {args.quarter.upper()}", file=sys.stderr)
    return 0


class _output:  # noqa: N801  (used like open())
    """A CSV file with a BOM (Excel reads Vietnamese correctly), or stdout for "-"."""

    def __init__(self, path: str | None) -> None:
        self.path = path

    def __enter__(self):
        if not self.path or self.path == "-":
            return sys.stdout
        self.handle = open(self.path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
        return self.handle

    def __exit__(self, *exc: object) -> None:
        if self.path and self.path != "-":
            self.handle.close()


def register(sub: argparse._SubParsersAction, run: object) -> argparse._SubParsersAction:
    """Add the `disclosure` and `report` subcommands; `run` wraps each command.

    Returns the `report` kinds, so other modules add their reports to it.
    """
    disclosure = sub.add_parser("disclosure", help="publish and manage public disclosures")
    actions = disclosure.add_subparsers(dest="action", required=True)

    add = actions.add_parser("add", help="publish a new disclosure")
    add.add_argument("--category", type=int, required=True, choices=range(1, 15),
                     metavar="1-14", help="item of Art. 11 of the Law (1-14)")
    add.add_argument("--title", required=True)
    body = add.add_mutually_exclusive_group(required=True)
    body.add_argument("--body-file", help="UTF-8 text file with the summary residents read")
    body.add_argument("--body", help="the summary as text")
    add.add_argument("--file", help="document to attach (PDF, Word, Excel, OpenDocument)")
    add.add_argument("--decided", type=_day, help="date of the decision or document")
    add.add_argument("--from", dest="posted_from", type=_day, help="first day posted (today)")
    period = add.add_mutually_exclusive_group()
    period.add_argument("--until", type=_day, help="last day posted (default: +30 days)")
    period.add_argument("--permanent", action="store_true", help="posted permanently")
    add.add_argument("--consult-until", type=_day, help="last day for residents' comments")
    add.set_defaults(func=run(cmd_add))

    edit = actions.add_parser("edit", help="change a disclosure (keeps its history)")
    edit.add_argument("id", type=int)
    edit.add_argument("--title")
    edit_body = edit.add_mutually_exclusive_group()
    edit_body.add_argument("--body-file")
    edit_body.add_argument("--body")
    edit.add_argument("--file")
    edit_period = edit.add_mutually_exclusive_group()
    edit_period.add_argument("--until", type=_day)
    edit_period.add_argument("--permanent", action="store_true")
    edit.add_argument("--consult-until", type=_day)
    edit.set_defaults(func=run(cmd_edit))

    respond = actions.add_parser("respond", help="publish the response to a consultation")
    respond.add_argument("id", type=int)
    text = respond.add_mutually_exclusive_group(required=True)
    text.add_argument("--text-file")
    text.add_argument("--text")
    respond.set_defaults(func=run(cmd_respond))

    listing = actions.add_parser("list", help="the newest disclosures")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(func=run(cmd_list))

    comments = actions.add_parser("comments", help="export the comments on a disclosure (CSV)")
    comments.add_argument("id", type=int)
    comments.add_argument("-o", "--output", help="CSV file (default: standard output)")
    comments.add_argument("--lang", choices=("vi", "en"), default="vi")
    comments.set_defaults(func=run(cmd_comments))

    report = sub.add_parser("report", help="reports the law asks for")
    kinds = report.add_subparsers(dest="kind", required=True)
    quarterly = kinds.add_parser("disclosures", help="quarterly list of what was disclosed")
    quarterly.add_argument("--quarter", required=True, help="e.g. 2026Q3")
    quarterly.add_argument("-o", "--output", help="CSV file (default: a table on screen)")
    quarterly.add_argument("--lang", choices=("vi", "en"), default="vi")
    quarterly.set_defaults(func=run(cmd_report))
    return kinds
