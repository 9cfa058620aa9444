"""Báo cáo: the yearly figures of `report year` (bot.services.yearly_report) with charts per
hamlet and per month, and downloads of the workbook and of each export for the year, made
in the background (bot.services.offload) and followed on a job page."""

from __future__ import annotations

from datetime import date
from html import escape

from aiohttp import web
from babel.numbers import format_percent

from bot.i18n import N_, format_date
from bot.public_page import charts
from bot.public_page.layout import table
from bot.services import exports, offload, web_access, yearly_report, yearly_workbook
from bot.web_desk.auth import Config, guard, html, see_other
from bot.web_desk.jobs import Job, Jobs
from bot.web_desk.layout import JOBS, REPORT, Visit, page
from storage import clock
from storage.db import Database
from storage.models import WebSession

EXPORT_LABELS = {"log": "Interaction log", "petitions": "Petitions",
                 "sessions": "Dialogue sessions", "comments": "Comments"}


def _year(text: str, today: date) -> int:
    """The year asked for, or this year."""
    year = int(text) if text.isdigit() else today.year
    return year if yearly_report.FIRST_YEAR <= year <= today.year else today.year


def _charts(visit: Visit, figures: yearly_report.Figures) -> list[str]:
    """Per month and per hamlet: petitions received, people active; each with its heading."""
    _ = visit._
    months = range(1, 13)
    drawn = [(_("Petitions per month"), charts.columns, "petitions-month",
              [(str(m), figures.petitions_by_month.get(m, 0)) for m in months]),
             (_("Petitions per hamlet"), charts.bars, "petitions-hamlet",
              sorted(figures.petitions_by_hamlet.items(), key=lambda i: -i[1])),
             (_("People active per month"), charts.columns, "active-month",
              [(str(m), figures.active_by_month.get(m, 0)) for m in months]),
             (_("People active per hamlet"), charts.bars, "active-hamlet",
              sorted(figures.active_by_hamlet.items(), key=lambda i: -i[1]))]
    return [f"<h2>{escape(title)}</h2>" + draw(title, items, key)
            for title, draw, key, items in drawn if items]


def _body(visit: Visit, figures: yearly_report.Figures, years: list[int]) -> str:
    _ = visit._
    share = figures.in_time_share
    numbers = [
        (_("Petitions received"), str(figures.petitions)),
        (_("Answered"), str(figures.answered)),
        (_("Answered in time"), format_percent(share, locale=visit.locale) if share is not None
         else "—"),
        (_("Median days to answer"), str(figures.median_days or "—")),
        (_("Disclosures posted"), str(figures.disclosures)),
        (_("Dialogue sessions held"), str(figures.sessions_held)),
        (_("Attended"), str(figures.attended)),
    ]
    pickers = " ".join(
        f'<a href="{REPORT}?nam={y}"{" aria-current=page" if y == figures.year else ""}>{y}</a>'
        for y in years)
    parts = [f'<p class="filters">{pickers}</p>',
             table([escape(_("Figure")), escape(_("Value"))],
                   [[escape(k), f'<td class="n">{escape(v)}</td>'] for k, v in numbers],
                   "figures"),
             *_charts(visit, figures)]
    if figures.as_of:
        as_of = _("As of {date} (the year is not over)").format(
            date=format_date(figures.as_of, visit.locale, visit.timezone))
        parts.insert(0, f'<p class="period">{escape(as_of)}</p>')
    downloads = [visit.form(f"{REPORT}/tai-ve", f'<input type="hidden" name="nam" '
                            f'value="{figures.year}"><input type="hidden" name="what" '
                            f'value="workbook"><button>{escape(_("Yearly workbook (Excel)"))}'
                            "</button>", css="actions")]
    for kind, label in EXPORT_LABELS.items():
        for fmt in exports.FORMATS:
            downloads.append(visit.form(
                f"{REPORT}/tai-ve", f'<input type="hidden" name="nam" value="{figures.year}">'
                f'<input type="hidden" name="what" value="{kind}.{fmt}">'
                f"<button>{escape(_(label))} ({fmt.upper()})</button>", css="actions"))
    parts.append(f"<h2>{escape(_('Downloads'))}</h2>" + "".join(downloads))
    return "".join(parts)


def routes(config: Config, jobs: Jobs) -> list[web.RouteDef]:
    """The report page and its downloads."""

    async def report(request: web.Request, visit: Visit) -> web.Response:
        now = clock.now()
        today = clock.today(config.timezone)
        year = _year(request.query.get("nam", ""), today)

        async def count(db: Database) -> yearly_report.Figures:
            async with db.session() as session:
                return await yearly_report.compute(session, year, config.timezone, now=now)

        figures = await offload.in_thread(config.db, count)
        years = list(range(today.year, max(yearly_report.FIRST_YEAR, today.year - 4) - 1, -1))
        return html(page(visit, visit._("Yearly report {year}").format(year=year),
                         _body(visit, figures, years), REPORT))

    async def download(request: web.Request, visit: Visit) -> web.StreamResponse:
        form, now, today = visit.posted, clock.now(), clock.today(config.timezone)
        year = _year(str(form.get("nam", "")), today)
        what = str(form.get("what", ""))
        kind, _dot, fmt = what.partition(".")
        if what != "workbook" and (kind not in exports.KINDS or fmt not in exports.FORMATS):
            raise web.HTTPBadRequest()
        folder = config.data_dir / "desk-exports"
        folder.mkdir(parents=True, exist_ok=True)
        mine = web_access.digest(visit.identity)[:12]
        filename = f"bao-cao-{year}.xlsx" if what == "workbook" else f"{kind}-{year}.{fmt}"
        path = folder / f"{mine}-{filename}"
        job = Job(visit.identity, visit._("Download {name}").format(name=filename),
                  file=path, filename=filename, back=f"{REPORT}?nam={year}")

        async def work(job: Job) -> None:
            if what == "workbook":
                async def write(db: Database) -> None:
                    async with db.session() as session:
                        figures = await yearly_report.compute(session, year, config.timezone,
                                                              now=now)
                    yearly_workbook.write_xlsx(figures, path, lang=visit.locale)
                await offload.in_thread(config.db, write)
                job.message = visit._("The workbook is ready.")
            else:
                wanted = exports.Request(kind, date(year, 1, 1), min(date(year, 12, 31), today),
                                         fmt, path, lang=visit.locale)
                count = await offload.in_thread(config.db, lambda db: exports.export(
                    db, wanted, timezone=config.timezone, key=config.key))
                await exports.log_export(config.db, wanted, visit.identity)
                job.message = visit._("{n} row(s) written.").format(n=count)
            async with config.db.session() as session:
                row = await session.get(WebSession, visit.session_id)
                web_access.log_action(session, row, "download", filename, clock.now())
                await session.commit()

        return see_other(f"{JOBS}/{await jobs.start(job, work)}")

    return [web.get(REPORT, guard(config, report)),
            web.post(f"{REPORT}/tai-ve", guard(config, download))]


def _catalog() -> None:
    """Marks the words used inside f-strings above for the catalog (its extractor
    cannot read into f-strings); never called."""
    N_('Yearly workbook (Excel)')
    N_('Downloads')
    N_('Interaction log')
    N_('Petitions')
    N_('Dialogue sessions')
    N_('Comments')
