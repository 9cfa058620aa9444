"""Retake the screenshots of the staff web desk in this folder (seeded demo year, headless
chromium). Run by hand after changing the desk: `.venv/bin/python docs/desk_screenshots.py`."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import select  # noqa: E402

from bot import web_desk  # noqa: E402
from bot.services import roles, web_access  # noqa: E402
from bot.web import build_web_app  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Petition  # noqa: E402
from tests.conftest import PSEUDONYM_KEY, Clock  # noqa: E402
from tests.loopback import serve  # noqa: E402
from tests.public_seed import NOW, TZ, seed_year  # noqa: E402
from tests.test_desk_browser import screenshots  # noqa: E402


async def main() -> list[Path]:
    """Seed, sign a staff member in, serve on loopback, shoot."""
    Clock(NOW)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/shots.db")
        await db.create_all()
        await seed_year(db)
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
        app.router.add_routes(web_desk.routes(db, timezone=TZ, data_dir=Path(tmp),
                                              key=PSEUDONYM_KEY, base_url=url))
        try:
            return await screenshots(url, web_access.link_url(url, token), petition.id,
                                     ROOT / "docs")
        finally:
            await runner.cleanup()
            await db.dispose()


if __name__ == "__main__":
    for path in asyncio.run(main()):
        print(path.relative_to(ROOT))
