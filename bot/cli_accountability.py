"""`python -m bot export …`, `log verify` and `report year`: the accountability tools.

Exports with personal data need `--admin CHANNEL:USER_ID`, an identity holding the admin
role; the export is logged either way.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bot.services import exports, log_chain, refusals, yearly_report, yearly_workbook
from bot.services.exports import ExportError
from bot.services.roles import roles_of
from storage import clock

if TYPE_CHECKING:
    from bot.app import App


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-12-31") from None


async def cmd_export(app: App, args: argparse.Namespace, actor: str) -> int:
    """Export one kind of record for a date range."""
    request = exports.Request(kind=args.kind, start=args.start, end=args.end, fmt=args.format,
                              path=Path(args.output), lang=args.lang,
                              with_personal_data=args.with_personal_data)
    exports.check(request)
    await app.prepare()
    if args.with_personal_data:
        if not args.admin:
            raise ExportError("--with-personal-data needs --admin CHANNEL:USER_ID")
        channel, _, user_id = args.admin.partition(":")
        async with app.db.session() as session:
            try:
                exports.check_permission(await roles_of(session, channel, user_id), True)
            except ExportError:
                refusals.record(session, f"export_personal {args.kind} {args.start}..{args.end}",
                                actor=f"{actor} as {args.admin}")
                await session.commit()
                raise
        actor = f"{actor} as {args.admin}"
    count = await exports.export(app.db, request, timezone=app.settings.timezone,
                                 key=app.engine.pseudonym_key)
    await exports.log_export(app.db, request, actor)
    if count == 0:
        print(f"no {args.kind} between {args.start} and {args.end}: {args.output} has the "
              "headers only", file=sys.stderr)
    print(f"{count} row(s) written to {args.output}")
    return 0


async def _seal(app: App) -> int:
    async with app.db.unit_of_work() as session:
        count = await log_chain.seal_all(session, log_chain.chain_key(app.engine.pseudonym_key))
        await session.commit()
    return count


async def cmd_verify(app: App, args: argparse.Namespace, actor: str) -> int:
    """Check the interaction log's chain; exit 1 and name the first problem if broken."""
    await app.prepare()
    await _seal(app)
    async with app.db.session() as session:
        verdict = await log_chain.verify(session, log_chain.chain_key(app.engine.pseudonym_key))
    print(f"{verdict.sealed} row(s) checked, {verdict.redacted} redacted (text erased), "
          f"{verdict.unsealed} not sealed yet")
    if verdict.ok:
        print("the interaction log is intact")
        return 0
    for problem in verdict.problems:
        print(f"BROKEN: {problem}", file=sys.stderr)
    return 1


async def cmd_year(app: App, args: argparse.Namespace, actor: str) -> int:
    """The yearly review of grassroots democracy, as an Excel workbook with charts."""
    output, now = Path(args.output), clock.now()
    yearly_report.check_year(args.year, clock.today(app.settings.timezone))
    exports.check(exports.Request("log", date(args.year, 1, 1), date(args.year, 12, 31),
                                  "xlsx", output))
    await app.prepare()
    async with app.db.session() as session:
        figures = await yearly_report.compute(session, args.year, app.settings.timezone,
                                              now=now)
    yearly_workbook.write_xlsx(figures, output, lang=args.lang)
    as_of = f" as of {figures.as_of} (the year is not over)" if figures.as_of else ""
    print(f"report for {args.year}{as_of} written to {output}")
    return 0


def register(sub: argparse._SubParsersAction, run: object,
             report_kinds: argparse._SubParsersAction) -> None:
    """Add `export`, `log verify` and `report year`."""
    export = sub.add_parser("export", help="export records for the accountability reports")
    export.add_argument("kind", choices=exports.KINDS)
    export.add_argument("--from", dest="start", type=_day, required=True, help="YYYY-MM-DD")
    export.add_argument("--to", dest="end", type=_day, required=True, help="YYYY-MM-DD")
    export.add_argument("--format", default="csv", help="csv (default) or xlsx")
    export.add_argument("-o", "--output", required=True, help="file to write")
    export.add_argument("--lang", choices=("vi", "en"), default="vi", help="column headers")
    export.add_argument("--with-personal-data", action="store_true",
                        help="names and ids instead of pseudonyms (admins only; logged)")
    export.add_argument("--admin", metavar="CHANNEL:USER_ID",
                        help="the admin identity asking for personal data")
    export.set_defaults(func=run(cmd_export))

    log = sub.add_parser("log", help="the interaction log")
    actions = log.add_subparsers(dest="action", required=True)
    actions.add_parser("verify", help="check the tamper-evident chain").set_defaults(
        func=run(cmd_verify))

    year = report_kinds.add_parser("year", help="yearly review workbook (xlsx, with charts)")
    year.add_argument("year", type=int)
    year.add_argument("-o", "--output", required=True)
    year.add_argument("--lang", choices=("vi", "en"), default="vi")
    year.set_defaults(func=run(cmd_year))

