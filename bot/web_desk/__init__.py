"""The office's web desk under /ban-lam-viec/: the interaction log, petitions and the
yearly report in a browser, for staff signed in with a one-time link from the chat
(bot.services.web_access). Server-rendered pages over the same services as the chat and
the CLI; every page checks the role afresh; every change carries a CSRF token and is logged.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.web_desk import auth, job_pages, log_page, petition_pages, report_page
from bot.web_desk.auth import Config
from bot.web_desk.jobs import Jobs
from bot.web_desk.layout import LOG, ROOT
from storage.db import Database


def routes(db: Database, *, timezone: str, data_dir: Path, key: bytes, base_url: str,
           default_locale: str = "vi") -> list[web.RouteDef]:
    """Every route of the desk."""
    config = Config(db, timezone, default_locale, base_url.startswith("https://"), key,
                    data_dir)
    jobs = Jobs(db, data_dir)

    async def home(_request: web.Request) -> web.StreamResponse:
        raise web.HTTPSeeOther(LOG)

    return [web.get(ROOT, home), web.get(ROOT + "/", home), *auth.routes(config),
            *log_page.routes(config, jobs), *job_pages.routes(config, jobs),
            *petition_pages.routes(config), *report_page.routes(config, jobs)]
