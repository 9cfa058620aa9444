"""Retake the screenshots of the public page and of the staff web desk in this folder (a
seeded demo year, headless chromium). Run by hand after changing either:
`.venv/bin/python docs/screenshots.py` (both), or with `public` or `desk` for one."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import select  # noqa: E402

from bot import public_page, web_desk  # noqa: E402
from bot.services import roles, web_access  # noqa: E402
from bot.web import build_web_app  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Petition  # noqa: E402
from tests import test_desk_browser, test_public_browser  # noqa: E402
from tests.conftest import PSEUDONYM_KEY, Clock  # noqa: E402
from tests.loopback import serve  # noqa: E402
from tests.public_seed import NOW, TZ, seed_year  # noqa: E402

DOCS = ROOT / "docs"


async def public(db: Database, tmp: Path) -> list[Path]:
    """The public page's sections, on a phone and a desktop."""
    runner, url = await serve(build_web_app(
        db, dict, public_page.routes(db, timezone=TZ, data_dir=tmp)))
    try:
        return await test_public_browser.screenshots(url, DOCS)
    finally:
        await runner.cleanup()


async def desk(db: Database, tmp: Path) -> list[Path]:
    """The web desk's pages, signed in as a staff member through a one-time link."""
    async with db.session() as session:
        await roles.grant(session, "telegram", "900001", "staff", actor="docs",
                          name="Chị Hoa (văn phòng)")
        token = await web_access.issue_link(session, "telegram", "900001", NOW)
        petition = (await session.exec(select(Petition).where(
            Petition.status == "received"))).first()
        await session.commit()
    app = build_web_app(db)
    runner, url = await serve(app)
    app.router._frozen = False  # routes need the URL, known only once served
    app.router.add_routes(web_desk.routes(db, timezone=TZ, data_dir=tmp, key=PSEUDONYM_KEY,
                                          base_url=url))
    try:
        return await test_desk_browser.screenshots(url, web_access.link_url(url, token),
                                                   petition.id, DOCS)
    finally:
        await runner.cleanup()


async def main(which: list[str]) -> list[Path]:
    """Seed a demo year once, then shoot the pages asked for."""
    Clock(NOW)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/shots.db")
        await db.create_all()
        await seed_year(db)
        try:
            return [path for name, shoot in (("public", public), ("desk", desk))
                    if name in which for path in await shoot(db, Path(tmp))]
        finally:
            await db.dispose()


if __name__ == "__main__":
    for path in asyncio.run(main(sys.argv[1:] or ["public", "desk"])):
        print(path.relative_to(ROOT))
