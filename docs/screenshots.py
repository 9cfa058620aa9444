"""Retake the screenshots of the public page in this folder (seeded demo year, headless
chromium). Run by hand after changing the page: `.venv/bin/python docs/screenshots.py`."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import public_page  # noqa: E402
from bot.web import build_web_app  # noqa: E402
from storage.db import Database  # noqa: E402
from tests.conftest import Clock  # noqa: E402
from tests.loopback import serve  # noqa: E402
from tests.public_seed import NOW, TZ, seed_year  # noqa: E402
from tests.test_public_browser import screenshots  # noqa: E402


async def main() -> list[Path]:
    """Seed, serve on loopback, shoot."""
    Clock(NOW)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/shots.db")
        await db.create_all()
        await seed_year(db)
        runner, url = await serve(build_web_app(
            db, dict, public_page.routes(db, timezone=TZ, data_dir=Path(tmp))))
        try:
            return await screenshots(url, ROOT / "docs")
        finally:
            await runner.cleanup()
            await db.dispose()


if __name__ == "__main__":
    for path in asyncio.run(main()):
        print(path.relative_to(ROOT))
