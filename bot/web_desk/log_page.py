"""Nhật ký: the interaction log with filters and keyset pages, the chain's state, the
integrity check (`log verify`'s code) and downloads of exactly the filtered rows."""

from __future__ import annotations

from datetime import date
from html import escape
from urllib.parse import urlencode

from aiohttp import web

from bot.i18n import N_
from bot.public_page.layout import table
from bot.services import exports, log_chain, log_view, offload, web_access
from bot.services.log_view import LogFilter
from bot.services.roles import CHANNELS
from bot.web_desk.auth import Config, guard, html
from bot.web_desk.jobs import Job, Jobs
from bot.web_desk.layout import JOBS, LOG, Visit, page
from storage import clock
from storage.db import Database
from storage.models import InteractionLog


def _filters(visit: Visit, wanted: LogFilter) -> str:
    """The filter form (GET: a filtered page is a link one can keep)."""
    _ = visit._
    values = wanted.params()

    def field(name: str, label: str, kind: str = "text") -> str:
        return (f'<label>{escape(label)}<input type="{kind}" name="{name}" '
                f'value="{escape(values.get(name, ""))}"></label>')

    channels = "".join(f'<option{" selected" if c == wanted.channel else ""}>{c}</option>'
                       for c in ("", *CHANNELS))
    return (f'<form method="get" class="filters" role="search">'
            f'{field("start", _("From"), "date")}{field("end", _("To"), "date")}'
            f'{field("kind", _("Event"))}'
            f'<label>{escape(_("Channel"))}<select name="channel">{channels}</select></label>'
            f'{field("hamlet", _("Hamlet"))}{field("actor", _("Actor"))}'
            f'{field("q", _("Text contains"), "search")}'
            f'<button>{escape(_("Filter"))}</button></form>')


def _rows(visit: Visit, rows: list[InteractionLog]) -> str:
    _ = visit._
    erased = escape(_("[text erased]"))
    lines = []
    for row in rows:
        text = (f'<span class="redacted" data-redacted>{erased}</span>'
                if row.text is None and row.text_digest is not None else escape(row.text or ""))
        lines.append([str(row.id), escape(visit.when(row.at)), escape(row.channel),
                      escape(row.direction), escape(row.kind),
                      escape("/".join(p for p in (row.flow, row.step) if p)),
                      escape(row.hamlet_code or ""), escape(row.actor or ""), text,
                      str(row.chain_seq or "")])
    header = [escape(h) for h in (_("Row"), _("Time"), _("Channel"), _("Direction"), _("Event"),
                                  _("Flow"), _("Hamlet"), _("Actor"), _("Text"), _("Sealed"))]
    return table(header, lines, "log")


def _chain(visit: Visit, state: log_view.ChainState) -> str:
    _ = visit._
    parts = [_("Sealed up to row {n}.").format(n=state.sealed_to)]
    if state.unsealed:
        parts.append(_("{n} newer row(s) not sealed yet.").format(n=state.unsealed))
    if state.last_check is not None:
        parts.append(_("Last checked {time}: {result}").format(
            time=visit.when(state.last_check.at), result=state.last_check.text or ""))
    else:
        parts.append(_("Never checked from the desk."))
    button = visit.form(f"{LOG}/kiem-tra", f'<button>{escape(_("Check integrity"))}</button>')
    return f'<div class="card" data-chain>{" ".join(escape(p) for p in parts)}{button}</div>'


def _downloads(visit: Visit, wanted: LogFilter) -> str:
    _ = visit._
    hidden = "".join(f'<input type="hidden" name="{k}" value="{escape(v)}">'
                     for k, v in wanted.params().items())
    return "".join(visit.form(f"{LOG}/tai-ve", hidden + f'<input type="hidden" name="fmt" '
                              f'value="{fmt}"><button>{escape(label)}</button>')
                   for fmt, label in (("csv", _("Download these rows (CSV)")),
                                      ("xlsx", _("Download these rows (Excel)"))))


def routes(config: Config, jobs: Jobs) -> list[web.RouteDef]:
    """The log page, the integrity check and the filtered download."""

    async def log_page(request: web.Request, visit: Visit) -> web.Response:
        wanted = LogFilter.parse(request.query)
        before = request.query.get("before", "")
        async with config.db.session() as session:
            found = await log_view.page(session, wanted, config.timezone,
                                        before=int(before) if before.isdigit() else None)
            state = await log_view.chain_state(session)
        _ = visit._
        rows, more = found.rows, ""
        if found.before is not None:
            query = urlencode({**wanted.params(), "before": found.before})
            label = escape(_("Search older rows (searched down to row {n})").format(
                n=found.before) if found.window else _("Older rows"))
            more = f'<p><a rel="next" href="{LOG}?{escape(query)}">{label}</a></p>'
        empty = f"<p>{escape(_('No row matches these filters.'))}</p>" if not rows else ""
        body = (_chain(visit, state) + _filters(visit, wanted) + _downloads(visit, wanted)
                + empty + (_rows(visit, rows) if rows else "") + more)
        return html(page(visit, _("Interaction log"), body, LOG))

    async def start_check(request: web.Request, visit: Visit) -> web.StreamResponse:
        job = Job(visit.identity, visit._("Integrity check of the log"), back=LOG)

        async def work(job: Job) -> None:
            key = log_chain.chain_key(config.key)

            async def check(db: Database) -> log_chain.Verdict:
                async with db.unit_of_work() as session:
                    await log_chain.seal_all(session, key)
                    await session.commit()
                async with db.session() as session:
                    job.total = (await log_view.chain_state(session)).sealed_to
                    return await log_chain.verify(session, key, batch=2000,
                                                  progress=lambda n: setattr(job, "done", n))

            verdict = await offload.in_thread(config.db, check)
            _ = visit._
            job.ok = verdict.ok
            job.message = (_("The log is intact: {n} row(s) checked, {r} with the text erased.")
                           .format(n=verdict.sealed, r=verdict.redacted) if verdict.ok else
                           _("The chain is broken: {problem}").format(
                               problem="; ".join(verdict.problems)))
            async with config.db.unit_of_work() as session:
                session.add(InteractionLog(
                    at=clock.now(), channel=visit.identity.partition(":")[0][:20],
                    direction="admin", kind=log_view.VERIFIED_KIND, actor=visit.identity,
                    text=(f"ok {verdict.sealed}" if verdict.ok else "BROKEN "
                          + "; ".join(verdict.problems))[:500]))
                await session.commit()

        raise web.HTTPSeeOther(f"{JOBS}/{await jobs.start(job, work)}")

    async def start_download(request: web.Request, visit: Visit) -> web.StreamResponse:
        form = visit.posted
        wanted = LogFilter.parse(form)
        fmt = "xlsx" if form.get("fmt") == "xlsx" else "csv"
        start = wanted.start or date(2000, 1, 1)
        end = wanted.end or clock.today(config.timezone)
        folder = config.data_dir / "desk-exports"
        folder.mkdir(parents=True, exist_ok=True)
        filename = f"nhat-ky-{start}-{end}.{fmt}"
        mine = web_access.digest(visit.identity)[:12]  # one file per person and range
        request_ = exports.Request(
            "log", start, end, fmt, folder / f"{mine}-{filename}",
            lang=visit.locale, where=tuple(log_view.conditions(wanted, config.timezone)))
        job = Job(visit.identity, visit._("Download of the interaction log"),
                  file=request_.path, filename=filename,
                  back=f"{LOG}?{urlencode(wanted.params())}")

        async def work(job: Job) -> None:
            count = await offload.in_thread(config.db, lambda db: exports.export(
                db, request_, timezone=config.timezone, key=config.key))
            await exports.log_export(config.db, request_, visit.identity)
            job.message = visit._("{n} row(s) written.").format(n=count)

        raise web.HTTPSeeOther(f"{JOBS}/{await jobs.start(job, work)}")

    return [web.get(LOG, guard(config, log_page)),
            web.post(f"{LOG}/kiem-tra", guard(config, start_check)),
            web.post(f"{LOG}/tai-ve", guard(config, start_download))]


def _catalog() -> None:
    """Marks the words used inside f-strings above for the catalog (its extractor
    cannot read into f-strings); never called."""
    N_('From')
    N_('To')
    N_('Event')
    N_('Channel')
    N_('Hamlet')
    N_('Actor')
    N_('Text contains')
    N_('Filter')
    N_('Check integrity')
    N_('No row matches these filters.')
