"""A job's page: a progress bar (refreshed by a little script, or by the page reloading
itself without script), then its result and its file."""

from __future__ import annotations

from html import escape

from aiohttp import web

from bot.i18n import N_
from bot.web_desk.auth import Config, guard, html
from bot.web_desk.jobs import Jobs
from bot.web_desk.layout import JOBS, Visit, page

INTERRUPTED = N_(
    "The work stopped before it finished (the server restarted). Start it again.")

SCRIPT = """<script>
(function(){var bar=document.querySelector('progress[data-job]');if(!bar)return;
function poll(){fetch(location.pathname+'?json=1',{credentials:'same-origin'})
.then(function(r){return r.json()}).then(function(s){
if(s.total){bar.max=s.total;bar.value=s.done}
if(s.finished){location.reload()}else{setTimeout(poll,700)}})
.catch(function(){setTimeout(poll,2000)})}setTimeout(poll,700)})();
</script>"""


def routes(config: Config, jobs: Jobs) -> list[web.RouteDef]:
    """The job's page and its download."""

    async def status(request: web.Request, visit: Visit) -> web.StreamResponse:
        job = await jobs.of(request.match_info["key"], visit.identity)
        if job is None:
            raise web.HTTPNotFound()
        if request.query.get("json"):
            return web.json_response({"done": job.done, "total": job.total,
                                      "finished": job.finished, "ok": job.ok},
                                     headers={"Cache-Control": "no-store"})
        _ = visit._
        if not job.finished:
            value = f' value="{job.done}" max="{job.total}"' if job.total else ""
            body = (f"<p>{escape(_('Working… this page follows the progress.'))}</p>"
                    f'<progress data-job{value}>{job.percent}%</progress>')
            head = '<noscript><meta http-equiv="refresh" content="2"></noscript>'
            return html(page(visit, job.title, body + SCRIPT, head=head))
        css = "ok" if job.ok else "bad"
        message = _(INTERRUPTED) if job.interrupted else job.message
        body = f'<p class="{css}" data-result="{css}">{escape(message)}</p>'
        if job.ok and job.file is not None:
            href = f"{JOBS}/{request.match_info['key']}/tep"
            label = f'{escape(_("Download"))} {escape(job.filename)}'
            body += f'<p><a href="{href}" download>{label}</a></p>'
        if job.back:
            body += f'<p><a href="{escape(job.back)}">{escape(_("Back"))}</a></p>'
        return html(page(visit, job.title, body))

    async def download(request: web.Request, visit: Visit) -> web.StreamResponse:
        job = await jobs.of(request.match_info["key"], visit.identity)
        if job is None or not job.finished or job.file is None or not job.file.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(job.file, headers={
            "Content-Disposition": f'attachment; filename="{job.filename}"',
            "Cache-Control": "no-store"})

    return [web.get(JOBS + "/{key}", guard(config, status)),
            web.get(JOBS + "/{key}/tep", guard(config, download))]


def _catalog() -> None:
    """Marks the words used inside f-strings above for the catalog (its extractor
    cannot read into f-strings); never called."""
    N_('Working… this page follows the progress.')
    N_('Download')
    N_('Back')
